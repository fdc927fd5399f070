"""`helpdesk serve` with a WhatsApp number and no Telegram bot: residents write and ask for help
on WhatsApp; their requests wait in the queues (volunteers need Telegram), and serve says so
when it starts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot import cli
from bot.app import build_server
from bot.config import Settings
from db.models import Case, CaseStatus
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from tests.stories import DESK_SETTINGS
from tests.web.serving import free_port, uvicorn_serving
from tests.whatsapp.conftest import Desk, whatsapp_of

ADA = WaUser("447700900456", "Ada")


def alone(settings: Settings, graph: EmulatedGraphAPI) -> Settings:
    return replace(
        settings, token=None, webhook_secret=None, whatsapp=whatsapp_of(graph), **DESK_SETTINGS
    )


async def test_without_telegram_a_resident_asks_for_help_and_the_request_waits(
    telegram: EmulatedBotAPI, graph: EmulatedGraphAPI, settings: Settings, sessions: Any
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    graph.webhook_url = f"{url}/whatsapp"
    async with uvicorn_serving(build_server(alone(settings, graph)), port):
        desk = Desk(url, graph)
        graph.push_text(ADA, "/start")
        picker = await desk.reads(ADA, "Which language do you want to use?")
        desk.taps(ADA, picker, "English")
        notice = await desk.reads(ADA, "Do you agree?")
        desk.taps(ADA, notice, "Yes, I agree")
        menu = await desk.reads(ADA, "What do you need help with?")
        desk.taps(ADA, menu, "Food aid")
        for answer in ("2", "0"):  # people at home, children
            await desk.reads(ADA, "Food aid · question")
            graph.push_text(ADA, answer)
        diet = await desk.reads(ADA, "Food aid · question 3 of 5")
        desk.taps(ADA, diet, "Vegetarian")
        ticked = await desk.reads(ADA, "Food aid · question 3 of 5")
        desk.taps(ADA, ticked, "Done ✓")
        await desk.reads(ADA, "Food aid · question 4 of 5")
        graph.push_text(ADA, "3")
        await desk.reads(ADA, "Food aid · question 5 of 5")
        graph.push_text(ADA, "1")
        summary = await desk.reads(ADA, "Is everything right?")
        desk.taps(ADA, summary, "Confirm and send")
        await desk.reads(ADA, "SP-00001")
        async with httpx.AsyncClient(base_url=url) as client:
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json()["database"] == "ok"
            assert (await client.get("/metrics")).status_code == 200
            assert (await client.post("/telegram", json={"update_id": 1})).status_code == 404
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert case.status == CaseStatus.NEW and case.card_message_id is None
    assert telegram.calls == []  # nothing tried to reach Telegram


def test_serve_says_at_start_that_volunteers_need_telegram(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("HELPDESK_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'alone.db'}")
    for name, value in {
        "WHATSAPP_PHONE_ID": "1234567890",
        "WHATSAPP_TOKEN": "token",
        "WHATSAPP_APP_SECRET": "secret",
        "WHATSAPP_VERIFY_TOKEN": "verify",
    }.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 0
    out, err = capsys.readouterr()
    assert "TELEGRAM_BOT_TOKEN is not set, so only WhatsApp runs" in err
    assert "new requests wait in their queues" in err
    assert "(POST /whatsapp, /healthz, /metrics)" in out and len(served) == 1
