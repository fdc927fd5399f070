"""WhatsApp's 24 hours: once a resident's window has closed, the help desk reaches them only with
the templates the deployment had approved. Their case's news goes as the broadcast template; a
volunteer's message waits for them to write, and they are told (once) that one waits; a
message Meta took and then reported as too late goes again as its template.

Through `helpdesk serve`, the real pywa client and the Graph API emulation, on one clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.app import build_server
from bot.config import Settings
from db.models import CaseEvent, Outbox, OutboxKind, OutboxStatus, Resident
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI
from tests import factories
from tests.clock import Clock
from tests.transcript import Person
from tests.web.serving import free_port, uvicorn_serving
from tests.whatsapp.conftest import ROSA, TEMPLATES, RosasDesk, claims, whatsapp_of


async def outbox(sessions: Any) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.exec(select(Outbox).order_by(col(Outbox.id)))).all())


async def eventually(check: Any) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never came true")


async def test_a_closed_window_gets_templates_and_a_volunteers_words_wait_for_the_resident(
    rosas_desk: RosasDesk, telegram: EmulatedBotAPI, sessions: Any
) -> None:
    graph, vera = rosas_desk.graph, Person(telegram, 6501, "en")
    await claims(telegram, vera)
    taken = await graph.next_message(ROSA)
    assert taken.type == "template" and taken.status != "failed"
    assert taken.text == (
        "Notice from the help desk: Good news: a volunteer has taken up your request "
        "SP-00001. They will write to you here. Reply here."
    )
    vera.says("/reply 1 Hello Rosa,\nare you free on Tuesday?")
    kept = await vera.hears("Your message is kept: it goes as soon as they write.")
    assert "They have been told that a message from you is waiting for them." in (kept.text or "")
    told = await graph.next_message(ROSA)
    assert told.type == "template" and told.text == (
        "A volunteer wrote to you about request SP-00001."
    )
    vera.says("/reply 1 Bring the letter from the landlord.")
    await vera.hears("Your message is kept")
    await graph.assert_no_message(ROSA, within=0.3)  # told once is enough
    assert [row.status for row in await outbox(sessions)] == [OutboxStatus.HELD] * 2

    graph.push_quick_reply(ROSA, told, told.button_ids[0])  # she taps "Read the message"
    first = await graph.next_message(ROSA)
    second = await graph.next_message(ROSA)
    header = "Message from your volunteer (request SP-00001):"
    assert first.type == second.type == "text"
    assert first.text == f"{header}\n\nHello Rosa,\nare you free on Tuesday?"
    assert second.text == f"{header}\n\nBring the letter from the landlord."
    await graph.assert_no_message(ROSA, within=0.3)  # the tap itself needs no answer

    async def words_gone() -> bool:  # once delivered, nothing of them stays behind
        return all(row.payload == {} for row in await outbox(sessions))

    await eventually(words_gone)
    rows = await outbox(sessions)
    assert {(row.kind, row.status, row.delivery) for row in rows} == {
        (OutboxKind.RELAY, OutboxStatus.SENT, "delivered")
    }
    async with sessions() as session:
        actions = list((await session.exec(select(CaseEvent.action))).all())
    assert actions.count("to_resident") == 2
    # Her window is open now: the next message goes at once, as it is.
    vera.says("/reply 1 See you Tuesday.")
    await vera.hears("✓ Sent to the resident of SP-00001.")
    assert (await graph.next_message(ROSA)).text == f"{header}\n\nSee you Tuesday."


@asynccontextmanager
async def news_for_rosa(
    settings: Settings, sessions: Any, templates: tuple[str, ...], wrote_ago: timedelta
) -> AsyncIterator[EmulatedGraphAPI]:
    """A notice queued for Rosa, who last wrote `wrote_ago`, and the help desk serving with
    these of its templates approved."""
    clock = Clock("2026-12-07T10:00")
    async with EmulatedGraphAPI(clock=lambda: clock().timestamp()) as graph:
        for purpose in templates:
            name, parameters, body, replies = TEMPLATES[purpose]
            graph.register_template(name, "en", parameters, body=body, quick_replies=replies)
        graph.add_user(ROSA)
        whatsapp = replace(
            whatsapp_of(graph),
            templates={purpose: {"en": TEMPLATES[purpose][0]} for purpose in templates},
        )
        changed = replace(settings, webhook_secret="s3cret", whatsapp=whatsapp)
        async with sessions() as session, session.begin():
            rosa = await factories.resident(session, ROSA.user_id, channel="whatsapp")
            rosa.last_inbound_at = clock() - wrote_ago
            await factories.queued_news(
                session, rosa, "The food hub opens at 9\ntomorrow.", clock()
            )
        port = free_port()
        graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
        async with uvicorn_serving(build_server(changed, clock), port):
            yield graph


async def test_a_message_meta_reports_too_late_goes_again_as_its_template(
    settings: Settings, sessions: Any
) -> None:
    """The help desk thought Rosa's window open (her last message was within a day, by its
    records); Meta took the message and then reported it failed with 131047."""
    async with news_for_rosa(settings, sessions, ("broadcast",), timedelta(hours=2)) as graph:
        first = await graph.next_message(ROSA)
        assert first.type == "text" and first.error == 131047
        again = await graph.next_message(ROSA)
        assert again.type == "template" and again.status != "failed"
        # A value of a template is one line: Meta refuses line breaks in it.
        assert (
            again.text == "Notice from the help desk: The food hub opens at 9 tomorrow. Reply here."
        )

        async def sent_again() -> bool:
            [row] = await outbox(sessions)
            return row.status == OutboxStatus.SENT and row.platform_message_id == again.id

        await eventually(sent_again)
    async with sessions() as session:
        assert (await session.exec(select(Resident.last_inbound_at))).one() is None


async def test_without_a_template_the_news_waits_until_the_resident_writes(
    settings: Settings, sessions: Any
) -> None:
    async with news_for_rosa(settings, sessions, (), timedelta(days=2)) as graph:

        async def held() -> bool:
            return [row.status for row in await outbox(sessions)] == [OutboxStatus.HELD]

        await eventually(held)
        await graph.assert_no_message(ROSA, within=0.3)
        graph.push_text(ROSA, "/help")
        messages = [await graph.next_message(ROSA), await graph.next_message(ROSA)]
        assert "The food hub opens at 9\ntomorrow." in [message.text for message in messages]
        assert all(message.type == "text" for message in messages)
