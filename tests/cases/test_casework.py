"""The life of a case after the claim: resident and volunteer talk through the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.cases.routing import QueueSettings
from db.models import Case, CaseEvent
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.stories import (
    DESK_SETTINGS,
    HOUSING_GROUP,
    ORGANISER,
    claimed_case,
)
from tests.transcript import Person


@pytest.fixture
async def desk_bot(bot: Bot) -> AsyncIterator[Bot]:
    async with bot.running(**DESK_SETTINGS):
        yield bot


async def test_the_resident_and_the_volunteer_talk_through_the_bot(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    ada, vera = Person(telegram, 5101, "en"), Person(telegram, 6101, "en")
    await claimed_case(telegram, ada, vera)
    details = telegram.chats[vera.chat_id][-1]

    vera.says("Hello Ada, can you come on Tuesday?")
    await vera.hears("Which language")  # a plain message is not for the resident...
    vera.says("Hello Ada, can you come on Tuesday?", reply_to=details)  # ...a reply is
    await ada.hears("Message from your volunteer (request SP-00001):")
    copied = await ada.hears("Hello Ada, can you come on Tuesday?")
    assert copied.kind == "copy"
    await vera.hears("✓ Sent to the resident of SP-00001.")

    ada.says("Yes, at 10")
    await ada.hears("✓ Sent to the volunteer following your request SP-00001.")
    await vera.hears("SP-00001 · the resident writes:")
    await vera.hears("Yes, at 10")
    ada.sends_voice()
    await ada.hears("✓ Sent")
    await vera.hears("SP-00001 · the resident writes:")
    voice = await telegram.next_message(vera.chat_id)
    assert voice.kind == "copy"
    ada.sends_photo()
    await ada.hears("✓ Sent")
    await vera.hears("the resident writes")
    assert (await telegram.next_message(vera.chat_id)).kind == "copy"

    reply_to = telegram.chats[vera.chat_id][-1]  # the resident's photo, as Vera received it
    vera.sends_voice(reply_to=reply_to)
    await ada.hears("Message from your volunteer (request SP-00001):")
    assert (await telegram.next_message(ada.chat_id)).kind == "copy"
    await vera.hears("✓ Sent")

    vera.says("/reply SP-00001 See you then!")
    await ada.hears("Message from your volunteer (request SP-00001):", "See you then!")
    await vera.hears("✓ Sent")
    async with sessions() as session:
        actions = [e.action for e in (await session.exec(select(CaseEvent))).all()]
    assert actions.count("from_resident") == 3 and actions.count("to_resident") == 3


async def test_notes_waiting_release_and_close(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    ada, vera = Person(telegram, 5102, "en"), Person(telegram, 6102, "en")
    marco, organiser = Person(telegram, 6103, "en"), Person(telegram, ORGANISER, "en")
    await claimed_case(telegram, ada, vera)

    vera.says("/note SP-00001 Has an eviction hearing on the 3rd")
    await vera.hears("Note added to SP-00001.")
    vera.says("/waiting 1")
    await vera.hears("SP-00001 now waits for the resident's answer.")
    ada.says("/status")
    await ada.hears("SP-00001 · Housing help · waiting for your answer")
    ada.says("Here I am")
    await ada.hears("✓ Sent")
    await vera.hears("the resident writes")
    await vera.hears("Here I am")
    vera.says("/mycases")
    await vera.hears("You follow 1 open request:", "SP-00001 · Housing help")

    organiser.says("/case SP-00001")
    history = await organiser.hears("History:", "note: Has an eviction hearing on the 3rd")
    assert "claimed" in (history.text or "")
    marco.says("/case 1")
    await marco.hears("You are not following this request.")
    marco.says("/reply 1 hi")
    await marco.hears("You are not following this request.")

    vera.says("/release SP-00001")
    await vera.hears("SP-00001 is back in its queue.")
    card = await telegram.next_message(HOUSING_GROUP)
    assert card.reply_markup is not None and "SP-00001" in (card.text or "")
    await marco.taps("Claim", on=card)
    await marco.hears("You took request SP-00001")
    await ada.hears("a volunteer has taken up your request SP-00001")
    vera.says("/reply 1 still there?")
    await vera.hears("You are not following this request.")

    marco.says("/close 1")
    await marco.hears("How did request SP-00001 end?")
    await marco.taps("Referred elsewhere")
    await ada.hears("Your request SP-00001 is now closed.")
    ada.says("/status")
    await ada.hears("SP-00001 · Housing help · closed")
    ada.says("thanks!")
    await ada.hears("What do you need help with?")  # no volunteer follows it any more
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert (case.status, case.outcome, case.claimed_by) == ("closed", "referred", 6103)

    ada.says("/delete")
    await ada.hears("delete everything")
    await ada.taps("Yes, delete my data")
    await ada.hears("has been deleted")
    async with sessions() as session:
        notes = [e.note for e in (await session.exec(select(CaseEvent))).all()]
    assert notes and all(note is None for note in notes)  # the history stays, the notes go


async def test_a_restart_between_claim_and_reply_loses_nothing(
    telegram: EmulatedBotAPI, bot: Bot
) -> None:
    ada, vera = Person(telegram, 5103, "en"), Person(telegram, 6104, "en")
    async with bot.running(**DESK_SETTINGS):
        await claimed_case(telegram, ada, vera)
    ada.says("Are you there?")  # written while the bot is down
    async with bot.running(**DESK_SETTINGS):
        await ada.hears("✓ Sent")
        await vera.hears("SP-00001 · the resident writes:")
        await vera.hears("Are you there?")
        vera.says("/reply 1 Yes!")
        await ada.hears("Message from your volunteer", "Yes!")


async def test_a_volunteer_who_left_the_queue_loses_the_case(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ada, vera = Person(telegram, 5104, "en"), Person(telegram, 6105, "en")
    with_vera = (QueueSettings("housing", HOUSING_GROUP, frozenset({6105})),)
    without_vera = (QueueSettings("housing", HOUSING_GROUP, frozenset({6106})),)
    async with bot.running(queues=with_vera, default_language="en"):
        await claimed_case(telegram, ada, vera)
    async with bot.running(queues=without_vera, default_language="en"):
        vera.says("/note 1 still mine?")
        await vera.hears("Usage: /note NUMBER text, for a request you follow.")
        ada.says("Hello?")
        await ada.hears("We could not pass your message on right now.")
        card = await telegram.next_message(HOUSING_GROUP)  # back in the queue for others
        assert card.reply_markup is not None
        await vera.hears_nothing_more()
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert (case.status, case.claimed_by) == ("new", None)
