"""Nudges fall due while the bot is down and go out once when it is back, never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from db.models import Case, now
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.stories import (
    DESK_SETTINGS,
    HOUSING_GROUP,
    ORGANISER,
    claimed_case,
    confirm_housing_request,
)
from tests.transcript import Person


async def age_case(sessions, **ago: timedelta) -> None:
    """Move the case's timestamps into the past, as if the days had gone by."""
    async with sessions() as session, session.begin():
        case = (await session.exec(select(Case))).one()
        for field, delta in ago.items():
            setattr(case, field, now() - delta)


async def test_an_unclaimed_case_is_posted_again_once_and_organisers_are_told(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ada, organiser = Person(telegram, 5201, "en"), Person(telegram, ORGANISER, "en")
    async with bot.running(**DESK_SETTINGS):
        await confirm_housing_request(ada)
        first = await telegram.next_message(HOUSING_GROUP)
    await age_case(sessions, card_posted_at=timedelta(hours=25))
    async with bot.running(**DESK_SETTINGS):
        again = await telegram.next_message(HOUSING_GROUP)
        assert "SP-00001" in (again.text or "") and again.reply_markup is not None
        await organiser.hears("No volunteer has taken these requests in 24 hours", "SP-00001")
        assert first.reply_markup is None and "Still waiting" in (first.text or "")
    async with bot.running(**DESK_SETTINGS):
        await telegram.assert_no_message(HOUSING_GROUP, within=0.5)
        await organiser.hears_nothing_more()


async def test_a_quiet_claimed_case_reminds_its_volunteer_once(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ada, vera = Person(telegram, 5202, "en"), Person(telegram, 6201, "en")
    async with bot.running(**DESK_SETTINGS):
        await claimed_case(telegram, ada, vera)
    await age_case(sessions, claimed_at=timedelta(days=4))
    async with bot.running(**DESK_SETTINGS):
        await vera.hears("Request SP-00001 has had no message for 3 days")
    async with bot.running(**DESK_SETTINGS):
        await vera.hears_nothing_more()
        ada.says("Any news?")  # a message makes the case alive again
        await ada.hears("✓ Sent")
        await vera.hears("the resident writes")
        await vera.hears("Any news?")
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert case.nudged_at is None and case.last_message_at is not None
