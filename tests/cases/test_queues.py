"""Queues: a confirmed case reaches its group, one volunteer takes it, the resident is told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.cases import claims, queues
from bot.cases.claims import Claim
from bot.cases.routing import QueueSettings, Route, choose_queue
from bot.clock import now
from bot.config import Settings
from bot.i18n import FSI, PDI
from db.models import Case, CaseEvent, CaseKind, Queue, Resident, Volunteer
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import TOKEN, Bot
from tests.stories import (
    FOOD_GROUP,
    HOUSING_GROUP,
    ORGANISER,
    QUEUES,
    confirm_housing_request,
    next_card,
)
from tests.transcript import Person


@pytest.fixture
async def desk_bot(bot: Bot) -> AsyncIterator[Bot]:
    # The groups read the deployment's default language; English here, for readable asserts.
    async with bot.running(queues=QUEUES, organisers=frozenset({ORGANISER}), default_language="en"):
        yield bot


def test_routing_rules_then_the_queue_named_after_the_kind_then_the_first() -> None:
    rules = (Route("west", kinds=frozenset({"housing"}), districts=frozenset({"m6", "m7"})),)
    names = ["food", "housing", "west"]
    assert choose_queue(rules, names, "housing", "m6", "ar") == "west"
    assert choose_queue(rules, names, "housing", "m1", "ar") == "housing"
    assert choose_queue(rules, names, "food", "m6", "it") == "food"
    assert choose_queue(rules, ["west"], "food", "m6", "it") == "west"
    assert choose_queue(rules, [], "food", "m6", "it") is None


async def test_a_confirmed_case_is_posted_to_its_queue_without_personal_details(
    telegram: EmulatedBotAPI, desk_bot: Bot
) -> None:
    ada = Person(telegram, 5001, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, HOUSING_GROUP)
    text = card.text or ""
    for shown in ["SP-00001", "Housing help", "Municipio 5", "English", "Within a few days"]:
        assert shown in text
    assert "Household: 3 people" in text and "Waiting for 0 hours" in text
    for hidden in ["5001", "Person 5001", "eviction"]:
        assert hidden not in text
    assert card.reply_markup == {
        "inline_keyboard": [[{"text": "Claim", "callback_data": "claim:1"}]]
    }
    await telegram.assert_no_message(FOOD_GROUP)


async def test_first_claim_wins_the_claimer_gets_the_details_and_the_resident_is_told(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 5002, "en")
    vera = Person(telegram, 6001, "it")
    marco = Person(telegram, 6002, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, HOUSING_GROUP)
    await vera.taps("Claim", on=card)
    assert vera.notices[-1] == "È tua. I dettagli sono nella tua chat privata con il bot."
    assert "Taken by Person 6001." in (card.text or "") and card.reply_markup is None
    details = await vera.hears("Hai preso la richiesta SP-00001")
    assert "Municipio 5" in (details.text or "")
    assert "• Momento migliore per il contatto: Sera" in (details.text or "")
    await ada.hears("a volunteer has taken up your request SP-00001")

    await marco.presses_data("claim:1", on=card)
    assert marco.notices[-1] == "Already taken by Person 6001."
    layla = Person(telegram, 6003, "ar")
    await layla.presses_data("claim:1", on=card)
    assert layla.notices[-1] == f"تولّى {FSI}Person 6001{PDI} هذا الطلب بالفعل."
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
        events = [e.action for e in (await session.exec(select(CaseEvent))).all()]
    assert (case.status, case.claimed_by) == ("claimed", 6001)
    assert events == ["routed", "posted", "claimed"]


async def test_outsiders_forged_presses_and_other_groups_change_nothing(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 5003, "en")
    stranger = Person(telegram, 6003, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, HOUSING_GROUP)
    telegram.set_member_status(HOUSING_GROUP, stranger.user.id, "left")
    await stranger.presses_data("claim:1", on=card)
    assert stranger.notices[-1] == "Only the volunteers of this queue can take requests."
    for forged in ["claim:999", "claim:abc", "claim:1:extra"]:
        await stranger.presses_data(forged, on=card)
        assert stranger.notices[-1] == "This button is no longer active."
    # The same card's button, pressed from the food group, is no claim on a housing case.
    telegram.push_callback_raw(stranger.user, FOOD_GROUP, card.message_id, "claim:1")
    answer = await telegram.wait_for_call("answerCallbackQuery", after=len(telegram.calls) - 1)
    assert answer.params["text"] == "This button is no longer active."
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert (case.status, case.claimed_by) == ("new", None)
    assert card.reply_markup is not None


async def test_a_volunteer_who_never_opened_the_bot_gets_a_link_to_the_details(
    telegram: EmulatedBotAPI, desk_bot: Bot
) -> None:
    ada = Person(telegram, 5004, "en")
    vera = Person(telegram, 6004, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, HOUSING_GROUP)
    telegram.block(vera.user.id)  # Telegram refuses: she never started a chat with the bot
    await vera.taps("Claim", on=card)
    offer = await telegram.next_message(HOUSING_GROUP)
    assert "open your private chat with the bot" in (offer.text or "")
    button = (offer.reply_markup or {})["inline_keyboard"][0][0]
    assert button["url"] == "https://t.me/sportello_test_bot?start=case_1"
    telegram.unblock(vera.user.id)
    vera.says("/start case_1")
    await vera.hears("You took request SP-00001 · Housing help.", "District: Municipio 5")
    stranger = Person(telegram, 6005, "en")
    stranger.says("/start case_1")
    await stranger.hears("This link is for the volunteer who took the request.")


async def test_the_open_case_cap_is_explained(telegram: EmulatedBotAPI, bot: Bot, sessions) -> None:
    async with bot.running(queues=QUEUES, max_open_cases=1, default_language="en"):
        ada, bea = Person(telegram, 5005, "en"), Person(telegram, 5006, "en")
        vera = Person(telegram, 6006, "en")
        await confirm_housing_request(ada)
        first = await next_card(telegram, HOUSING_GROUP)
        await vera.taps("Claim", on=first)
        await confirm_housing_request(bea, "SP-00002")
        second = await next_card(telegram, HOUSING_GROUP)
        await vera.taps("Claim", on=second)
        assert vera.notices[-1] == (
            "You already follow 1 open request: close one before taking another."
        )


async def test_setqueue_is_for_organisers_speaking_as_themselves(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    group = -1001000000009
    organiser, volunteer = Person(telegram, ORGANISER, "en"), Person(telegram, 6007, "en")
    telegram.push_text(volunteer.user, "/setqueue legal", chat_id=group)
    refused = await telegram.next_message(group)
    assert refused.text == "Only an organiser can make this group a queue."
    telegram.push_update(
        {
            "message": {
                "message_id": 500,
                "date": 1_700_000_000,
                "chat": {"id": group, "type": "supergroup", "title": "Legal"},
                "from": {"id": 1087968824, "is_bot": True, "first_name": "Group"},
                "sender_chat": {"id": group, "type": "supergroup", "title": "Legal"},
                "text": "/setqueue legal",
                "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
            }
        }
    )
    anonymous = await telegram.next_message(group)
    assert anonymous.text == "Please send this command as yourself, not as the group."
    telegram.push_text(organiser.user, "/setqueue Legal!", chat_id=group)
    assert "Usage: /setqueue NAME" in ((await telegram.next_message(group)).text or "")
    telegram.push_text(organiser.user, "/setqueue legal", chat_id=group)
    done = await telegram.next_message(group)
    assert done.text == "This group is now the queue “legal”. New requests will appear here."
    async with sessions() as session:
        queue = await session.get(Queue, "legal")
    assert queue is not None and queue.chat_id == group


async def test_the_queue_follows_its_group_when_it_becomes_a_supergroup(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    old, new = -4000000001, -1004000000001
    organiser = Person(telegram, ORGANISER, "en")
    telegram.push_text(organiser.user, "/setqueue housing", chat_id=old)
    await telegram.next_message(old)
    telegram.push_update(
        {
            "message": {
                "message_id": 900,
                "date": 1_700_000_000,
                "chat": {"id": old, "type": "group", "title": "Casa"},
                "from": {"id": ORGANISER, "is_bot": False, "first_name": "Org"},
                "migrate_to_chat_id": new,
            }
        }
    )
    await telegram.wait_updates_consumed()
    ada = Person(telegram, 5007, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, new)
    assert "SP-00001" in (card.text or "")


async def test_a_card_follows_a_group_that_became_a_supergroup_unseen(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    moved = -1005000000001
    telegram.migrate(HOUSING_GROUP, moved)
    ada = Person(telegram, 5009, "en")
    await confirm_housing_request(ada)
    card = await next_card(telegram, moved)
    assert "SP-00001" in (card.text or "")
    async with sessions() as session:
        queue = await session.get(Queue, "housing")
    assert queue is not None and queue.chat_id == moved


async def test_a_queue_whose_group_lost_the_bot_waits_and_organisers_are_told(
    telegram: EmulatedBotAPI, desk_bot: Bot, sessions
) -> None:
    organiser = Person(telegram, ORGANISER, "en")

    def bot_member(status: str) -> dict[str, object]:
        return {
            "chat": {"id": HOUSING_GROUP, "type": "supergroup", "title": "Casa"},
            "from": {"id": ORGANISER, "is_bot": False, "first_name": "Org"},
            "date": 1_700_000_000,
            "old_chat_member": {
                "user": {"id": 123456, "is_bot": True, "first_name": "S"},
                "status": "member",
            },
            "new_chat_member": {
                "user": {"id": 123456, "is_bot": True, "first_name": "S"},
                "status": status,
            },
        }

    telegram.push_update({"my_chat_member": bot_member("left")})
    await organiser.hears("can no longer post in the group of the queue “housing”")
    ada = Person(telegram, 5008, "en")
    await confirm_housing_request(ada)
    await telegram.assert_no_message(HOUSING_GROUP)
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert case.queue == "housing" and case.card_message_id is None
    telegram.push_update({"my_chat_member": bot_member("member")})
    card = await next_card(telegram, HOUSING_GROUP)
    assert "SP-00001" in (card.text or "")


async def test_fifty_concurrent_claims_have_exactly_one_winner(
    settings: Settings, sessions
) -> None:
    async with sessions() as session, session.begin():
        resident = Resident(channel="telegram", channel_user_id="1", language="en")
        session.add(resident)
        await session.flush()
        session.add(Case(resident_id=resident.id, kind=CaseKind.FOOD, language="en", queue="food"))
        for user_id in range(50):
            session.add(Volunteer(user_id=7000 + user_id, name=f"V{user_id}"))

    async def claim(user_id: int) -> Claim:
        async with sessions() as session, session.begin():
            volunteer = await session.get(Volunteer, user_id)
            assert volunteer is not None
            return (await claims.claim_case(session, 1, volunteer, cap=5, moment=now())).claim

    results = await asyncio.gather(*(claim(7000 + i) for i in range(50)))
    assert results.count(Claim.WON) == 1
    assert results.count(Claim.TAKEN) == 49
    async with sessions() as session:
        events = (await session.exec(select(CaseEvent))).all()
    assert [e.action for e in events] == ["claimed"]


async def test_queues_from_the_config_are_known_at_start(settings: Settings, sessions) -> None:
    configured = Settings(queues=QUEUES)
    async with sessions() as session, session.begin():
        await queues.sync_from_config(session, configured, now())
    async with sessions() as session:
        names = await queues.known_queues(session, configured)
    assert names == ["housing", "food"]


async def test_a_queue_restricted_to_listed_volunteers_refuses_other_members(
    telegram: EmulatedBotAPI, bot: Bot
) -> None:
    listed = (QueueSettings("housing", HOUSING_GROUP, frozenset({6301})),)
    async with bot.running(queues=listed, default_language="en"):
        ada = Person(telegram, 5301, "en")
        member, volunteer = Person(telegram, 6302, "en"), Person(telegram, 6301, "en")
        await confirm_housing_request(ada)
        card = await next_card(telegram, HOUSING_GROUP)
        await member.taps("Claim", on=card)
        assert member.notices[-1] == "Only the volunteers of this queue can take requests."
        await volunteer.taps("Claim", on=card)
        await volunteer.hears("You took request SP-00001")


async def test_membership_is_checked_again_after_a_few_minutes(telegram: EmulatedBotAPI) -> None:
    from telegram import Bot as TelegramBot

    from handlers.telegram.membership import Membership

    group, user = HOUSING_GROUP, 6303
    async with TelegramBot(TOKEN, base_url=telegram.base_url) as api:
        cached, fresh = Membership(api, ttl=60), Membership(api, ttl=0)
        assert await cached.belongs(group, user)
        assert await fresh.belongs(group, user)
        telegram.set_member_status(group, user, "kicked")
        assert await cached.belongs(group, user)  # within the cache's minutes
        assert not await fresh.belongs(group, user)  # once they have passed
        telegram.set_member_status(group, user, "restricted")
        assert await fresh.belongs(group, user)  # restricted, but still a member
