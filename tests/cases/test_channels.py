"""A resident on a channel other than Telegram hears about their case there, and a volunteer's
message enters the case's history only once it has been delivered."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlmodel import col, select

from bot.channel import Outcome
from bot.config import Settings
from db.models import CaseEvent
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.factories import RecordingChannel, housing_case, resident
from tests.stories import DESK_SETTINGS, HOUSING_GROUP, claimed_case
from tests.transcript import Person

AMINA = "393331234567"  # her id on the other channel


async def texts_to(channel: RecordingChannel, user_id: str, count: int) -> list[str]:
    """What the channel was given for this user, once it holds `count` messages."""
    for _ in range(100):
        if len(channel.texts_to(user_id)) >= count:
            break
        await asyncio.sleep(0.02)
    return channel.texts_to(user_id)


async def events(sessions) -> list[str]:
    async with sessions() as session:
        found = await session.exec(select(CaseEvent.action).order_by(col(CaseEvent.id)))
        return list(found.all())


async def test_a_resident_on_another_channel_hears_their_cases_news_there(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions
) -> None:
    other = RecordingChannel()
    async with sessions() as session, session.begin():
        amina = await resident(session, AMINA, channel="whatsapp", language="it")
        await housing_case(session, replace(settings, **DESK_SETTINGS), amina)
    vera = Person(telegram, 6401, "en")
    async with bot.running(channels={"whatsapp": other}, **DESK_SETTINGS):
        card = await telegram.next_message(HOUSING_GROUP)
        await vera.taps("Claim", on=card)
        details = await vera.hears("You took request SP-00001")
        assert "deleted their data" not in (details.text or "")
        assert await texts_to(other, AMINA, 1) == [
            "Buone notizie: un volontario ha preso in carico la tua richiesta SP-00001. "
            "Ti scriverà qui."
        ]
        vera.says("Buongiorno Amina, martedì alle 10?", reply_to=details)  # passed on as it is
        await vera.hears("✓ Sent to the resident of SP-00001.")
        header = "Messaggio dal tuo volontario (richiesta SP-00001):"
        assert (await texts_to(other, AMINA, 2))[1].startswith(f"{header}\n[copy of message ")
        vera.says("/reply 1 Porti il contratto, per favore.")
        await vera.hears("✓ Sent to the resident of SP-00001.")
        assert (await texts_to(other, AMINA, 3))[2] == (
            f"{header}\n\nPorti il contratto, per favore."
        )
        vera.says("/close 1")
        question = await vera.hears("How did request SP-00001 end?")
        await vera.taps("Resolved", on=question)
        assert (await texts_to(other, AMINA, 4))[3] == (
            "La tua richiesta SP-00001 ora è chiusa. Se hai ancora bisogno di aiuto, scrivi /start."
        )
    assert (await events(sessions)).count("to_resident") == 2


async def test_a_message_the_resident_never_got_leaves_no_line_in_the_history(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ada, vera = Person(telegram, 5401, "en"), Person(telegram, 6402, "en")
    async with bot.running(**DESK_SETTINGS):
        await claimed_case(telegram, ada, vera)
        details = telegram.chats[vera.chat_id][-1]
        telegram.block(ada.user.id)
        vera.says("Are you free on Tuesday?", reply_to=details)
        await vera.hears("The resident has blocked the bot: the message was not delivered.")
        assert "to_resident" not in await events(sessions)
        telegram.unblock(ada.user.id)
        vera.says("/reply 1 Are you free on Tuesday?")
        await vera.hears("✓ Sent to the resident of SP-00001.")
        await ada.hears(
            "Message from your volunteer (request SP-00001):", "Are you free on Tuesday?"
        )
    assert (await events(sessions)).count("to_resident") == 1


async def test_a_channel_that_cannot_deliver_now_is_said_and_changes_nothing(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions
) -> None:
    other = RecordingChannel(outcome=Outcome.UNAVAILABLE)
    async with sessions() as session, session.begin():
        amina = await resident(session, AMINA, channel="whatsapp", language="ar")
        await housing_case(session, replace(settings, **DESK_SETTINGS), amina)
    vera = Person(telegram, 6403, "en")
    async with bot.running(channels={"whatsapp": other}, **DESK_SETTINGS):
        card = await telegram.next_message(HOUSING_GROUP)
        await vera.taps("Claim", on=card)
        await vera.hears("You took request SP-00001")
        vera.says("/reply 1 Hello")
        await vera.hears(
            "The message could not be delivered now. Please try again in a few minutes."
        )
    assert "to_resident" not in await events(sessions)
    assert other.sent == []


async def test_without_its_channel_a_residents_news_waits_and_nothing_is_lost(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions
) -> None:
    """A deployment that stopped running the resident's channel: the volunteer is told, the
    resident is not taken for erased."""
    async with sessions() as session, session.begin():
        amina = await resident(session, AMINA, channel="whatsapp", language="it")
        await housing_case(session, replace(settings, **DESK_SETTINGS), amina)
    vera = Person(telegram, 6404, "en")
    async with bot.running(**DESK_SETTINGS):
        card = await telegram.next_message(HOUSING_GROUP)
        await vera.taps("Claim", on=card)
        await vera.hears("You took request SP-00001")
        vera.says("/reply 1 Hello")
        await vera.hears(
            "The message could not be delivered now. Please try again in a few minutes."
        )
    assert "to_resident" not in await events(sessions)
