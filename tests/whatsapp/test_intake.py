"""A resident on WhatsApp, through `helpdesk serve` and the real pywa client against the Graph API
emulation: the language hinted by the number, consent, a whole food intake in Arabic (buttons,
lists and typed numbers), the card in the volunteers' Telegram group; a message delivered twice
answered once; a crash between storing and answering loses nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from sqlmodel import select

from bot.app import build_server
from bot.cases import queues
from bot.clock import now
from bot.config import Settings
from db.models import Inbound, InboundStatus, Resident
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from tests import factories
from tests.stories import DESK_SETTINGS, FOOD_GROUP, HOUSING_GROUP
from tests.transcript import Person, said
from tests.web.serving import free_port, uvicorn_serving
from tests.whatsapp.conftest import Desk, whatsapp_of

NOUR = WaUser("201001234567", "Nour")  # an Egyptian number: Arabic is offered first
ASIF = WaUser("923001234567", "Asif")  # a Pakistani number: Urdu


def ar(message: str) -> str:
    return said("ar", message)


async def test_meta_subscribes_with_the_verify_token(desk: Desk) -> None:
    assert await desk.graph.verify(f"{desk.url}/whatsapp", "verify-me")
    assert not await desk.graph.verify(f"{desk.url}/whatsapp", "a guess")


async def test_a_whole_food_intake_in_arabic_on_whatsapp(
    desk: Desk, telegram: EmulatedBotAPI, sessions: Any
) -> None:
    graph = desk.graph
    graph.push_text(NOUR, "/start")
    picker = await desk.reads(NOUR, ar("Hello! Which language do you want to use?"))
    assert picker.interactive == "list"  # fourteen languages: more than 3 reply buttons
    assert "✓ العربية" in [title for _, title in picker.buttons]
    desk.taps(NOUR, picker, "العربية")
    notice = await desk.reads(NOUR, ar("Do you agree?"))
    desk.taps(NOUR, notice, ar("Yes, I agree"))
    menu = await desk.reads(NOUR, ar("What do you need help with?"))
    desk.taps(NOUR, menu, ar("Food aid"))
    await desk.reads(NOUR, "1 من 5")
    graph.push_text(NOUR, "2")  # typed, as many people do
    await desk.reads(NOUR, "2 من 5")
    graph.push_text(NOUR, "0")
    diet = await desk.reads(NOUR, "3 من 5")
    assert diet.interactive == "list" and len(diet.buttons) <= 10
    desk.taps(NOUR, diet, "حلال")
    ticked = await desk.reads(NOUR, "3 من 5")  # WhatsApp cannot edit: the question again
    assert any("☑" in title for _, title in ticked.buttons)
    desk.taps(NOUR, ticked, ar("Done ✓"))
    districts = await desk.reads(NOUR, "4 من 5")
    assert districts.interactive == "list" and len(districts.buttons) == 10
    desk.taps(NOUR, districts, "6.")
    urgency = await desk.reads(NOUR, "5 من 5")
    assert urgency.buttons  # offered as choices, answered by typing its number
    graph.push_text(NOUR, "1")
    summary = await desk.reads(NOUR, ar("Is everything right?"))
    desk.taps(NOUR, summary, ar("Confirm and send"))
    await desk.reads(NOUR, "SP-00001")
    card = await telegram.next_message(FOOD_GROUP)
    assert "SP-00001" in (card.text or "") and card.reply_markup is not None
    async with sessions() as session:
        resident = (await session.exec(select(Resident))).one()
    assert (resident.channel, resident.channel_user_id) == ("whatsapp", NOUR.user_id)
    assert resident.language == "ar" and resident.phone == "+201001234567"
    assert resident.last_inbound_at is not None
    # Answered messages keep only their id, to know them if Meta delivers them again.
    assert all(row.payload == {} and row.sender == "" for row in await settled(sessions))


async def test_fourteen_languages_fit_a_list_of_ten_rows(desk: Desk) -> None:
    """The likeliest nine (Urdu first, from the number) and "Other languages", which lists the
    rest."""
    desk.graph.push_text(ASIF, "salaam")
    picker = await desk.reads(ASIF, said("ur", "Hello! Which language do you want to use?"))
    titles = [title for _, title in picker.buttons]
    assert picker.interactive == "list" and len(titles) == 10
    assert titles[0] == "✓ اردو" and titles[-1] == said("ur", "Other languages ›")
    desk.taps(ASIF, picker, said("ur", "Other languages ›"))
    others = await desk.reads(ASIF, said("ur", "Hello! Which language do you want to use?"))
    assert [title for _, title in others.buttons] == [
        "Română", "Українська", "বাংলা", "Shqip", "Français", said("ur", "« Back"),
    ]  # fmt: skip
    desk.taps(ASIF, others, "Română")
    await desk.reads(ASIF, said("ro", "Do you agree?"))


async def test_a_message_delivered_twice_is_answered_once(desk: Desk) -> None:
    graph = desk.graph
    first = graph.push_text(NOUR, "/start")
    await desk.reads(NOUR, ar("Hello! Which language do you want to use?"))
    graph.redeliver(first)
    await graph.wait_delivered()
    await graph.assert_no_message(NOUR.wa_id, within=0.5)


async def consents_in_english(desk: Desk, user: WaUser) -> None:
    desk.graph.push_text(user, "/start")
    picker = await desk.reads(user, "Which language")
    desk.taps(user, picker, "English")
    notice = await desk.reads(user, "Do you agree?")
    desk.taps(user, notice, "Yes, I agree")
    await desk.reads(user, "What do you need help with?")


async def test_mydata_lists_the_number_and_delete_erases_it(desk: Desk, sessions: Any) -> None:
    rosa = WaUser("447700900123", "Rosa")  # a British number: English offered first
    await consents_in_english(desk, rosa)
    desk.graph.push_text(rosa, "/mydata")
    listed = await desk.reads(rosa, "This is everything we keep about you", "+447700900123")
    assert listed.type == "text"
    document = await desk.graph.next_message(rosa)
    assert document.type == "document" and document.filename == "my-data.json"
    assert document.media_id is not None
    export = desk.graph.file(document.media_id)
    assert export is not None and '"phone": "+447700900123"' in export.data.decode()
    desk.graph.push_text(rosa, "/delete")
    asked = await desk.reads(rosa, "delete everything we keep about you")
    desk.taps(rosa, asked, "Yes, delete")
    await desk.reads(rosa, "has been deleted")
    async with sessions() as session:
        assert (await session.exec(select(Resident))).all() == []
    # Of what WhatsApp delivered, once answered, only the messages' ids stay: not who sent them.
    left = await settled(sessions)
    assert {(row.sender, str(row.payload)) for row in left} == {("", "{}")}


async def settled(sessions: Any) -> list[Inbound]:
    """The stored messages once every one is answered (the last answer is marked just after
    it arrives)."""
    for _ in range(100):
        async with sessions() as session:
            rows = list((await session.exec(select(Inbound))).all())
        if all(row.status == InboundStatus.ANSWERED for row in rows):
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"messages left unanswered: {rows}")


async def test_what_a_crash_left_is_applied_and_answered_at_the_next_start(
    telegram: EmulatedBotAPI, graph: EmulatedGraphAPI, settings: Settings, sessions: Any
) -> None:
    """A message stored but not applied, and one applied whose answer was not sent: the next
    start applies the first and sends the second's answer, each once."""
    stored = {"from": NOUR.wa_id, "id": "wamid.STORED", "type": "text", "text": {"body": "/start"}}
    stored_reply = {"text": "Answer kept across the crash", "buttons": []}
    answer = [{"reply": stored_reply}, {"choose": "Choose"}]
    async with sessions() as session, session.begin():
        session.add(
            Inbound(
                channel="whatsapp",
                message_key="wamid.APPLIED",
                sender=NOUR.user_id,
                payload={},
                status=InboundStatus.APPLIED,
                answer=answer,
            )
        )
        session.add(
            Inbound(
                channel="whatsapp",
                message_key="wamid.STORED",
                sender=NOUR.user_id,
                payload={"message": stored, "contact": {}},
            )
        )
    graph.add_user(NOUR)
    graph.push_text(NOUR, "hello")  # opens the 24-hour window, as her messages did before
    port = free_port()
    changed = replace(settings, webhook_secret="s3cret", whatsapp=whatsapp_of(graph))
    async with uvicorn_serving(build_server(changed), port):
        kept = await Desk("", graph).reads(NOUR, "Answer kept across the crash")
        picker = await Desk("", graph).reads(NOUR, ar("Hello! Which language do you want to use?"))
        assert kept.timestamp <= picker.timestamp
    rows = await settled(sessions)
    assert {row.message_key: row.status for row in rows} == {
        "wamid.APPLIED": InboundStatus.ANSWERED,
        "wamid.STORED": InboundStatus.ANSWERED,
    }


async def test_a_whatsapp_resident_and_a_telegram_volunteer_write_to_each_other(
    telegram: EmulatedBotAPI, graph: EmulatedGraphAPI, settings: Settings, sessions: Any
) -> None:
    rosa = WaUser("447700900123", "Rosa")
    port = free_port()
    desk_settings = replace(
        settings,
        webhook_secret="s3cret",
        public_url=f"http://127.0.0.1:{port}",
        whatsapp=whatsapp_of(graph),
        **DESK_SETTINGS,
    )
    async with sessions() as session, session.begin():
        asker = await factories.resident(session, rosa.user_id, channel="whatsapp")
        await queues.sync_from_config(session, desk_settings, now())
        await factories.housing_case(session, desk_settings, asker)
    async with uvicorn_serving(build_server(desk_settings), port):
        graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
        desk = Desk("", graph)
        graph.push_text(rosa, "/status")  # she writes: WhatsApp lets the bot answer for a day
        await desk.reads(rosa, "SP-00001")
        vera = Person(telegram, 6101, "en")
        card = await telegram.next_message(HOUSING_GROUP)
        await vera.taps("Claim", on=card)
        await vera.hears("You took request SP-00001")
        await desk.reads(rosa, "a volunteer has taken up your request SP-00001")
        details = telegram.chats[vera.chat_id][-1]
        vera.says("Hello Rosa, can you come on Tuesday?", reply_to=details)
        await desk.reads(rosa, "Hello Rosa, can you come on Tuesday?")
        await vera.hears("✓ Sent to the resident of SP-00001.")
        graph.push_text(rosa, "Yes, at 10")
        await desk.reads(rosa, "✓ Sent to the volunteer following your request SP-00001.")
        await vera.hears("SP-00001")
        words = await vera.hears("Yes, at 10")
        # Her message, passed on by its words, is answered like any other: by replying to it.
        vera.says("See you then", reply_to=words)
        await desk.reads(rosa, "See you then")
        graph.push_sticker(rosa)  # nothing a volunteer could be given: she is told
        await desk.reads(rosa, "This kind of message cannot reach your volunteer.")
