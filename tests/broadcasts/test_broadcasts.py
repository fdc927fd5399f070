"""Broadcasts from the command line: a file refused whole with one line when it is wrong; the
audience (those who agreed to the privacy notice and did not say /stop, narrowed by a segment)
and what each language group reads; then the running bot sends each resident their text, on
their channel, as the broadcast template where WhatsApp's window has closed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.broadcasts import notice as broadcasts
from bot.broadcasts.audience import Segment, residents_in
from bot.broadcasts.notice import Notice, NoticeError
from bot.cases import queues
from bot.config import Settings
from bot.residents.privacy import NOTICE_VERSION
from db.models import (
    Activity,
    ActivityKind,
    Broadcast,
    Consent,
    Enrolment,
    EnrolmentStatus,
    Outbox,
    OutboxStatus,
    Resident,
)
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.factories import RecordingChannel, housing_case, resident
from tests.stories import DESK_SETTINGS, ORGANISER
from tests.transcript import Person

PARTY = """
segment = {}
[text]
it = "Sabato festa in cortile, alle 16!"
ar = "حفلة في الفناء يوم السبت الساعة 4 عصرًا!"
"""
LANGUAGES = ("it", "en", "ar")


async def agreeing(
    session: Any, user_id: str, *, channel: str = "telegram", language: str = "it"
) -> Resident:
    found = await resident(session, user_id, channel=channel, language=language)
    assert found.id is not None
    session.add(Consent(resident_id=found.id, version=NOTICE_VERSION, accepted=True))
    return found


async def neighbourhood(sessions: Any, settings: Settings) -> None:
    """Luca (Italian), Samir (Arabic), Ada (English), Nour (Arabic, on WhatsApp, silent for two
    days), Marta (said /stop), Ivo (never agreed to the notice)."""
    desk_settings = replace(settings, **DESK_SETTINGS)
    async with sessions() as session, session.begin():
        await queues.sync_from_config(session, desk_settings, datetime.now(UTC))
        luca = await agreeing(session, "7001")
        await agreeing(session, "7002", language="ar")
        await agreeing(session, "7003", language="en")
        nour = await agreeing(session, "201001234567", channel="whatsapp", language="ar")
        nour.last_inbound_at = datetime.now(UTC) - timedelta(days=2)
        marta = await agreeing(session, "7005")
        marta.stopped = True
        await resident(session, "7006")
        await housing_case(session, desk_settings, luca)


def test_a_wrong_notice_is_refused_with_one_line() -> None:
    def refused(raw: dict[str, Any]) -> str:
        with pytest.raises(NoticeError) as error:
            Notice.of(raw, LANGUAGES, "it")
        return str(error.value)

    assert "[text] is missing" in refused({"segment": {}})
    assert "not one of the enabled languages" in refused({"text": {"zz": "Ciao"}})
    assert "the text is empty" in refused({"text": {"it": "  "}})
    assert "unknown key 'city'" in refused({"segment": {"city": "Milano"}, "text": {"it": "x"}})
    assert "kind must be one of" in refused({"segment": {"kind": "jobs"}, "text": {"it": "x"}})
    assert "unknown key 'when'" in refused({"when": "now", "text": {"it": "x"}})


def test_each_reader_gets_their_version_or_the_original_said_as_such() -> None:
    notice = Notice.of({"text": {"ar": "مرحبا", "it": "Ciao"}}, LANGUAGES, "it")
    assert notice.original == "it" and notice.text_for("ar") == "مرحبا"
    assert notice.text_for("en") == "This notice is in Italian:\n\nCiao"


async def test_an_activitys_segment_is_those_signed_up_or_waiting(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        luca = await agreeing(session, "7001")
        samir = await agreeing(session, "7002", language="ar")
        await agreeing(session, "7003", language="en")
        lab = Activity(
            kind=ActivityKind.THEATRE, title="Teatro", starts_local=datetime(2026, 12, 9, 18)
        )
        session.add(lab)
        await session.flush()
        assert lab.id is not None and luca.id is not None and samir.id is not None
        session.add(Enrolment(activity_id=lab.id, resident_id=luca.id, name="Luca"))
        session.add(
            Enrolment(
                activity_id=lab.id,
                resident_id=samir.id,
                name="Samir",
                status=EnrolmentStatus.WAITING,
            )
        )
    async with sessions() as session:
        theatre = await residents_in(session, Segment(activity="Teatro"))
        nothing = await residents_in(session, Segment(activity="Coro"))
    assert [r.channel_user_id for r in theatre] == ["7001", "7002"] and nothing == []


async def test_the_audience_is_those_who_agreed_and_did_not_stop(
    sessions: Any, settings: Settings
) -> None:
    await neighbourhood(sessions, settings)
    async with sessions() as session:
        everyone = await residents_in(session, Segment())
        arabic = await residents_in(session, Segment(language="ar"))
        housing = await residents_in(session, Segment(kind="housing"))
        district = await residents_in(session, Segment(district="m5"))
        elsewhere = await residents_in(session, Segment(district="m9"))
    assert [r.channel_user_id for r in everyone] == ["7001", "7002", "7003", "201001234567"]
    assert [r.channel_user_id for r in arabic] == ["7002", "201001234567"]
    assert [r.channel_user_id for r in housing] == ["7001"]
    assert [r.channel_user_id for r in district] == ["7001"] and elsewhere == []


def helpdesk(database_url: str, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env["DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(
        command, env=env, input=answer, capture_output=True, text=True, timeout=60
    )


async def test_a_broadcast_queued_from_the_command_line_reaches_each_in_their_language(
    telegram: EmulatedBotAPI,
    bot: Bot,
    settings: Settings,
    sessions: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    await neighbourhood(sessions, settings)
    (tmp_path / "party.toml").write_text(PARTY)
    (tmp_path / "broken.toml").write_text('segment = { city = "Milano" }\n[text]\nit = "x"\n')
    broken = await asyncio.to_thread(
        helpdesk, database_url, "broadcast", str(tmp_path / "broken.toml")
    )
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1, broken.stderr
    declined = await asyncio.to_thread(
        helpdesk, database_url, "broadcast", str(tmp_path / "party.toml"), answer="n\n"
    )
    assert (
        declined.returncode == 1
        and "reaches 4 residents (telegram 3, whatsapp 1)" in declined.stdout
    )
    assert "--- 1 reading en:\nThis notice is in Italian:" in declined.stdout
    async with sessions() as session:
        assert (await session.exec(select(Broadcast))).all() == []
    queued = await asyncio.to_thread(
        helpdesk, database_url, "broadcast", str(tmp_path / "party.toml"), "--yes"
    )
    assert queued.returncode == 0, queued.stderr
    assert "broadcast #1: 4 messages queued" in queued.stdout

    whatsapp = RecordingChannel(window=timedelta(hours=24))
    luca, samir, ada = (Person(telegram, n, "it") for n in (7001, 7002, 7003))
    async with bot.running(channels={"whatsapp": whatsapp}, **DESK_SETTINGS):
        await luca.hears("Sabato festa in cortile, alle 16!")
        await samir.hears("حفلة في الفناء يوم السبت الساعة 4 عصرًا!")
        await ada.hears("This notice is in Italian:", "Sabato festa in cortile")
        for _ in range(100):
            if whatsapp.sent:
                break
            await asyncio.sleep(0.02)
    # Nour's window has closed: the broadcast template carries her version.
    assert whatsapp.sent == [
        ("201001234567", "[broadcast] حفلة في الفناء يوم السبت الساعة 4 عصرًا!")
    ]
    assert telegram.chats.get(7005) in (None, []) and telegram.chats.get(7006) in (None, [])
    async with sessions() as session:
        statuses = (await session.exec(select(Outbox.status))).all()
    assert statuses == [OutboxStatus.SENT] * 4


async def test_an_organiser_reads_how_it_went_and_stops_what_is_still_on_its_way(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    """WhatsApp is not running here: Nour's message stays on its way until it is stopped."""
    await neighbourhood(sessions, settings)
    notice = Notice.of({"segment": {"language": "ar"}, "text": {"ar": "اجتماع"}}, LANGUAGES, "it")
    async with sessions() as session, session.begin():
        await broadcasts.queue(session, notice, "it", datetime.now(UTC))
    giulia, stranger = Person(telegram, ORGANISER, "en"), Person(telegram, 7003, "en")
    samir = Person(telegram, 7002, "ar")
    async with bot.running(**DESK_SETTINGS):
        await samir.hears("اجتماع")
        for _ in range(100):  # marked sent just after it arrived
            async with sessions() as session:
                if OutboxStatus.SENT in (await session.exec(select(Outbox.status))).all():
                    break
            await asyncio.sleep(0.02)
        giulia.says("/broadcasts")
        shown = await giulia.hears(
            "Broadcast #1", "readers of Arabic", "Sent: 1 of 2", "on their way: 1"
        )
        assert "By channel: telegram 1/1, whatsapp 0/1" in (shown.text or "")
        await giulia.taps("Stop sending", on=shown)
        assert "Stopped." in giulia.notices
        stopped = telegram.chats[giulia.chat_id][-1]
        assert "Stopped: what was not sent yet will not be sent." in (stopped.text or "")
        stranger.says("/broadcasts")
        await stranger.hears("Only the help desk's organisers can use this command.")
    async with sessions() as session:
        statuses = sorted((await session.exec(select(Outbox.status))).all())
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SKIPPED]


async def test_a_broadcast_survives_a_429_a_block_and_a_restart_with_one_copy_each(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Any
) -> None:
    """40 residents: Telegram asks once to retry after a second; one resident has blocked the
    bot; the bot is stopped after the first messages and started again."""
    async with sessions() as session, session.begin():
        for n in range(1, 41):
            await agreeing(session, str(8000 + n))
    telegram.block(8040)
    telegram.fail_next("sendMessage", 429, retry_after=1)
    notice = Notice.of({"text": {"it": "Domenica pulizia del parco"}}, LANGUAGES, "it")
    async with sessions() as session, session.begin():
        await broadcasts.queue(session, notice, "it", datetime.now(UTC))

    def reached() -> int:
        return sum(1 for n in range(8001, 8040) if telegram.chats.get(n))

    async with bot.running(**DESK_SETTINGS):
        for _ in range(500):
            if reached() >= 10:
                break
            await asyncio.sleep(0.02)
    assert 10 <= reached() < 39  # stopped in the middle
    async with bot.running(**DESK_SETTINGS):
        for _ in range(500):
            if reached() == 39:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
    assert [len(telegram.chats.get(n, [])) for n in range(8001, 8040)] == [1] * 39
    refused = [c.response for c in telegram.calls if c.method == "sendMessage" and not c.ok]
    assert {(r or {}).get("error_code") for r in refused} == {429, 403}  # waited out; blocked
    async with sessions() as session:
        statuses = (await session.exec(select(Outbox.status))).all()
        blocked = (
            await session.exec(select(Resident).where(Resident.channel_user_id == "8040"))
        ).one()
    assert sorted(statuses).count(OutboxStatus.SENT) == 39
    assert OutboxStatus.BLOCKED in statuses and not blocked.reachable
