"""Broadcasts written in the organiser's chat, as transcripts: whom it reaches and how many,
the notice and its versions, the preview of what each language group reads, the sending with
its progress and report, a restart in the middle of the writing, and everything that is
refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.app import build_server
from bot.config import Settings
from db.models import Broadcast, Draft, Outbox, OutboxStatus
from handlers.emulation.telegram import EmulatedBotAPI, SentMessage
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from tests.broadcasts.test_broadcasts import agreeing, neighbourhood
from tests.conftest import Bot
from tests.factories import RecordingChannel
from tests.stories import DESK_SETTINGS, ORGANISER
from tests.transcript import Person, said
from tests.web.serving import free_port, uvicorn_serving
from tests.whatsapp.conftest import whatsapp_of

STALE = "This button is no longer active."
NOUR = WaUser("201001234567", "Nour")
MEETING = "اجتماع الجيران يوم الخميس"
PARTY = "Courtyard party on Saturday at 4 pm!"
PARTY_AR = "حفلة في الفناء يوم السبت الساعة 4 عصرًا!"


async def showing(telegram: EmulatedBotAPI, chat_id: int, *fragments: str) -> SentMessage:
    """The message of the chat that says all of `fragments`, as it reads now (a progress
    message is edited as the broadcast goes, and comes in its own time)."""
    for _ in range(500):
        for message in reversed(telegram.chats.get(chat_id, [])):
            if all(fragment in (message.text or "") for fragment in fragments):
                return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"no message says {fragments}:\n{telegram.dump()}")


async def test_a_notice_for_arabic_readers_reaches_them_on_telegram_and_on_whatsapp(
    telegram: EmulatedBotAPI, settings: Settings, sessions: Any
) -> None:
    """Nour has not written for two days: WhatsApp takes the notice only as the approved
    broadcast template, in Arabic."""
    await neighbourhood(sessions, settings)
    giulia, samir = Person(telegram, ORGANISER, "en"), Person(telegram, 7002, "ar")
    async with EmulatedGraphAPI() as graph:
        graph.register_template("desk_notice", "ar", 1, body="إشعار: {{1}}")
        graph.add_user(NOUR)
        whatsapp = replace(whatsapp_of(graph), templates={"broadcast": {"ar": "desk_notice"}})
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        graph.webhook_url = f"{url}/whatsapp"
        changed = replace(
            settings, webhook_secret="s3cret", public_url=url, whatsapp=whatsapp, **DESK_SETTINGS
        )
        async with uvicorn_serving(build_server(changed), port):
            giulia.says("/broadcast")
            await giulia.hears("Who should receive the notice?")
            await giulia.taps("Those who read a language")
            await giulia.hears("Which language do they read?")
            await giulia.taps("Arabic")
            await giulia.hears("It reaches 2 people (Arabic 2).", "Type the notice in Arabic.")
            giulia.says(MEETING)
            await giulia.hears("2 people reading Arabic will get:", MEETING)
            await giulia.hears("Send this notice to 2 people?")
            await giulia.taps("Send")
            await showing(telegram, ORGANISER, "Broadcast #1 is on its way to 2 people.")
            await samir.hears(MEETING)
            sent = await graph.next_message(NOUR)
            assert (
                sent.type == "template"
                and (sent.text or "").startswith("إشعار:")
                and MEETING in (sent.text or "")
            )
            await showing(telegram, ORGANISER, "Broadcast #1: 2 of 2 sent. Done.")
            report = await showing(telegram, ORGANISER, "Sent: 2 of 2")
            assert "By channel: telegram 1/1, whatsapp 1/1" in (report.text or "")
    async with sessions() as session:
        broadcast = (await session.exec(select(Broadcast))).one()
        assert broadcast.created_by == ORGANISER and broadcast.reported_at is not None
        assert (await session.exec(select(Draft))).all() == []
    for nobody in (7001, 7003, 7005, 7006):
        assert not telegram.chats.get(nobody)


async def test_a_notice_for_everyone_with_a_version_per_language_survives_a_restart(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    """Giulia writes in English and adds the Arabic version; Luca reads the English one, said to
    be in English, in Italian. The bot restarts while she writes: nothing is lost."""
    await neighbourhood(sessions, settings)
    giulia = Person(telegram, ORGANISER, "en")
    luca, samir, ada = (
        Person(telegram, 7001, "it"),
        Person(telegram, 7002, "ar"),
        Person(telegram, 7003, "en"),
    )
    whatsapp = RecordingChannel(window=timedelta(hours=24))
    async with bot.running(channels={"whatsapp": whatsapp}, **DESK_SETTINGS):
        giulia.says("/broadcast")
        await giulia.hears("Who should receive the notice?")
        await giulia.taps("Everyone")
        await giulia.hears(
            "It reaches 4 people (Arabic 2, Italian 1, English 1).", "Type the notice in English."
        )
    async with bot.running(channels={"whatsapp": whatsapp}, **DESK_SETTINGS):
        giulia.sends_sticker()
        await giulia.hears("Please type the notice as text.")
        await giulia.hears("Type the notice in English.")
        giulia.says("x" * 3001)
        await giulia.hears("The notice is too long: please keep it under 3,000 characters.")
        await giulia.hears("Type the notice in English.")
        giulia.says(PARTY)
        versions = await giulia.hears("The notice is written in: English.")
        assert giulia.buttons(versions) == [
            "Write it in Arabic too (2)",
            "Write it in Italian too (1)",
            "Preview",
            "✕ Cancel",
        ]
        preview = giulia.data_of("Preview", versions)
        await giulia.taps("Write it in Arabic too")
        await giulia.hears("Type the notice in Arabic.")
        giulia.says(PARTY_AR)
        await giulia.hears("The notice is written in: English and Arabic.")
        assert "✓ Arabic: write it again (2)" in giulia.buttons()
        await giulia.taps("Preview")
        await giulia.hears("2 people reading Arabic will get:", PARTY_AR)
        shown_to_luca = await giulia.hears("1 person reading Italian will get:", PARTY)
        note = said("it", "This notice is in {language}:").format(language="inglese")
        assert note in (shown_to_luca.text or "")
        await giulia.hears("1 person reading English will get:", PARTY)
        confirm = await giulia.hears("Send this notice to 4 people?")
        await giulia.presses_data(preview, on=versions)  # a press from before the change
        assert giulia.notices[-1] == STALE
        await giulia.taps("Send", on=confirm)
        await luca.hears(note, PARTY)
        await samir.hears(PARTY_AR)
        await ada.hears(PARTY)
        await showing(telegram, ORGANISER, "Broadcast #1: 4 of 4 sent. Done.")
        await showing(telegram, ORGANISER, "Sent: 4 of 4", "By language: ar 2/2, en 1/1, it 1/1")
    assert whatsapp.sent == [("201001234567", f"[broadcast] {PARTY_AR}")]
    for nobody in (7005, 7006):  # said /stop; never agreed to the privacy notice
        assert not telegram.chats.get(nobody)
    async with sessions() as session:
        assert (await session.exec(select(Draft))).all() == []


async def test_what_an_organiser_cannot_do_changes_nothing(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    """An audience with nobody in it is said so; a forged press and a stranger's /broadcast
    are refused; /cancel forgets the notice."""
    await neighbourhood(sessions, settings)
    giulia, stranger = Person(telegram, ORGANISER, "en"), Person(telegram, 7003, "en")
    async with bot.running(**DESK_SETTINGS):
        stranger.says("/broadcast")
        await stranger.hears("Only the help desk's organisers can use this command.")
        giulia.says("/broadcast")
        await giulia.hears("Who should receive the notice?")
        await giulia.taps("Those of a district")
        await giulia.hears("Which district? (where they asked for help)")
        await giulia.taps("Municipio 9")
        await giulia.hears(
            "Nobody who can receive notices is in Municipio 9: please choose others."
        )
        await giulia.hears("Who should receive the notice?")
        await giulia.presses_data("o:d:1:audience:everyone")
        assert giulia.notices[-1] == STALE
        await giulia.taps("Those with an open request")
        await giulia.hears("Open requests of which kind?")
        await giulia.taps("Housing help")
        await giulia.hears("It reaches 1 person (Italian 1).", "Type the notice in English.")
        giulia.says("Bring your documents on Monday.")
        await giulia.hears("The notice is written in: English.")
        await giulia.taps("Preview")
        await giulia.hears("1 person reading Italian will get:")
        await giulia.hears("Send this notice to 1 person?")
        giulia.says("yes")
        await giulia.hears("Please tap one of the buttons.")
        await giulia.hears("Send this notice to 1 person?")
        giulia.says("/cancel")
        await giulia.hears("Cancelled: nothing was saved.")
        await giulia.taps("Send")
        assert giulia.notices[-1] == STALE
    async with sessions() as session:
        assert (await session.exec(select(Broadcast))).all() == []
        assert (await session.exec(select(Outbox))).all() == []
        assert (await session.exec(select(Draft))).all() == []
    assert not telegram.chats.get(7001)


async def test_the_progress_message_follows_a_restart_and_its_button_stops_the_rest(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    """Two residents on Telegram and one on WhatsApp, which is not running here: her message
    stays on its way, and the progress message offers to stop it."""
    async with sessions() as session, session.begin():
        for user_id in ("7101", "7102"):
            await agreeing(session, user_id)
        await agreeing(session, "201009999999", channel="whatsapp")
    giulia = Person(telegram, ORGANISER, "en")
    async with bot.running(**DESK_SETTINGS):
        giulia.says("/broadcast")
        await giulia.hears("Who should receive the notice?")
        await giulia.taps("Everyone")
        await giulia.hears("It reaches 3 people (Italian 3).")
        giulia.says("Pulizia del parco domenica")
        await giulia.hears("The notice is written in: English.")
        await giulia.taps("Preview")
        await giulia.hears("3 people reading Italian will get:")
        await giulia.taps("Send")
        await showing(telegram, ORGANISER, "Broadcast #1: 2 of 3 sent…")
    async with bot.running(**DESK_SETTINGS):
        await asyncio.sleep(3.5)  # the progress is looked at again
        progress = await showing(telegram, ORGANISER, "Broadcast #1: 2 of 3 sent…")
        shown = [m for m in telegram.chats[ORGANISER] if "Broadcast #1:" in (m.text or "")]
        assert shown == [progress]  # the same message, not a second one
        await giulia.taps("Stop sending", on=progress)
        assert giulia.notices[-1] == "Stopped."
        await showing(telegram, ORGANISER, "Stopped: what was not sent yet will not be sent.")
        await asyncio.sleep(3.5)
        assert "Stopped: what was not sent yet" in (progress.text or "")
        assert not [m for m in telegram.chats[ORGANISER] if "Sent: 2 of 3" in (m.text or "")][1:]
    async with sessions() as session:
        broadcast = (await session.exec(select(Broadcast))).one()
        statuses = sorted((await session.exec(select(Outbox.status))).all())
    assert broadcast.reported_at is not None and broadcast.cancelled_at is not None
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SENT, OutboxStatus.SKIPPED]
