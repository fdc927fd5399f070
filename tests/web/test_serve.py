"""`helpdesk serve`: Telegram's webhook (refused without its secret, each update applied once),
/healthz and /metrics, with the real application behind uvicorn and the Bot API emulation posting
updates to it as Telegram does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot import cli
from bot.app import build_server
from bot.clock import now
from bot.config import Settings
from bot.demo import seed
from db.models import CaseEvent, Resident, SeenUpdate
from db.session import create_engine, database_answers
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.telegram.ordering import PerChatOrder
from tests.conftest import Bot
from tests.stories import consent_in_english
from tests.transcript import Person
from tests.web.serving import free_port, uvicorn_serving

SECRET = "s3cret-Webhook_token"


@asynccontextmanager
async def serving(settings: Settings, **changes: Any) -> AsyncIterator[str]:
    """`helpdesk serve` on a free port, registered with the Bot API emulation; its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = build_server(replace(settings, webhook_secret=SECRET, public_url=url, **changes))
    async with uvicorn_serving(app, port):
        yield url


async def post(url: str, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{url}/telegram", json=update, headers=headers) as response,
    ):
        return response.status


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
            "from": user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def count(sessions, table: Any) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_a_resident_does_an_intake_through_the_webhook(
    telegram: EmulatedBotAPI, settings: Settings
) -> None:
    async with serving(settings) as url:
        assert telegram.webhook_url == f"{url}/telegram" and telegram.webhook_secret == SECRET
        ada = Person(telegram, 7001, "en")
        await consent_in_english(ada)
        await ada.taps("Food aid")
        await ada.hears("Food aid · question 1 of 5", "How many people")
    assert telegram.webhook_calls and all(status == 200 for _, status in telegram.webhook_calls)


async def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(
    telegram: EmulatedBotAPI, settings: Settings, sessions
) -> None:
    async with serving(settings) as url:
        assert await post(url, start_update(900, 7002), secret="not-the-secret") == 403
        assert await post(url, start_update(901, 7002), secret=None) == 403
        assert await post(url, start_update(902, 7002), secret=SECRET[:-1]) == 403
        await telegram.assert_no_message(7002)
    assert await count(sessions, Resident) == 0
    assert await count(sessions, SeenUpdate) == 0


async def test_an_update_delivered_twice_is_applied_once(
    telegram: EmulatedBotAPI, settings: Settings, sessions
) -> None:
    async with serving(settings) as url:
        assert await post(url, start_update(910, 7003)) == 200
        assert await post(url, start_update(910, 7003)) == 200  # Telegram unsure: again
        ada = Person(telegram, 7003, "en")
        await ada.hears("Which language")
        await telegram.assert_no_message(7003)
        assert await post(url, {"update_id": "x"}) == 400
    assert await count(sessions, Resident) == 1


async def test_healthz_and_metrics_answer(telegram: EmulatedBotAPI, settings: Settings) -> None:
    async with serving(settings) as url:
        assert await post(url, start_update(920, 7004)) == 200
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{url}/healthz") as health:
                assert health.status == 200
                said = json.loads(await health.text())
                assert said.pop("worker").count("-") >= 2  # its machine, process and a tag
                assert said == {"status": "ok", "database": "ok", "leader": True}
            async with client.get(f"{url}/metrics") as metrics:
                assert metrics.status == 200
                text = await metrics.text()
    assert 'helpdesk_updates_handled_total{channel="telegram",kind="message"} 1.0' in text
    assert 'helpdesk_update_seconds_count{channel="telegram"} 1.0' in text
    assert "helpdesk_outbox_queued 0.0" in text
    assert "helpdesk_leader 1.0" in text  # the one worker leads
    assert "7004" not in text and "Ada" not in text  # nothing personal


async def test_a_database_that_does_not_answer_is_unhealthy() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert not await database_answers(engine)
    finally:
        await engine.dispose()


def test_serve_refuses_to_start_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("HELPDESK_CONFIG", raising=False)
    assert cli.main(["serve"]) == 2
    assert "TELEGRAM_WEBHOOK_SECRET is not set" in capsys.readouterr().err
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "spaces are not allowed")
    assert cli.main(["serve"]) == 2


async def test_an_update_not_handled_is_delivered_again_and_applied_once(
    telegram: EmulatedBotAPI, settings: Settings, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server fails before the update is handled: no 200, so Telegram tries again later."""
    real = PerChatOrder.do_process_update
    failures = iter([True])

    async def failing_once(self: PerChatOrder, update: object, coroutine: Any) -> None:
        if next(failures, False):
            coroutine.close()  # never started
            raise OSError("the server is going down")
        await real(self, update, coroutine)

    monkeypatch.setattr(PerChatOrder, "do_process_update", failing_once)
    async with serving(settings):
        ada = Person(telegram, 7005, "en")
        ada.says("/start")
        await ada.hears("Which language")
        await telegram.assert_no_message(7005)
    first, second = telegram.webhook_calls[0], telegram.webhook_calls[1]
    assert first[0] == second[0] and (first[1], second[1]) == (500, 200)
    assert await count(sessions, Resident) == 1


async def test_a_volunteers_command_delivered_twice_is_applied_once(
    telegram: EmulatedBotAPI, settings: Settings, sessions
) -> None:
    demo = seed.demo_settings(settings)
    async with sessions() as session, session.begin():
        await seed.seed(session, demo, now())
    marco = seed.VOLUNTEERS[0].user_id
    note = start_update(930, marco) | {}
    note["message"] = note["message"] | {"text": "/note 2 Porta il contratto"}
    note["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    changes = {"organisers": demo.organisers, "queues": demo.queues, "default_language": "it"}
    async with serving(settings, **changes) as url:
        assert await post(url, note) == 200
        assert await post(url, note) == 200
        await Person(telegram, marco, "en").hears("Note added to SP-00002.")
        await telegram.assert_no_message(marco)
    async with sessions() as session:
        notes = (await session.exec(select(CaseEvent.note).where(CaseEvent.action == "note"))).all()
    assert sorted(n or "" for n in notes) == ["Porta il contratto", "Udienza di sfratto il 12"]


async def test_run_removes_the_webhook_that_serve_registered(
    telegram: EmulatedBotAPI, settings: Settings, bot: Bot
) -> None:
    async with serving(settings) as url:
        assert telegram.webhook_url == f"{url}/telegram"
    async with bot.running():
        ada = Person(telegram, 7006, "en")
        ada.says("/start")
        await ada.hears("Which language")  # polled again
    assert telegram.webhook_url == ""
