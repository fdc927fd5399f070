"""A resident's whole intake through the real application and the emulated Bot API."""

from __future__ import annotations

from sqlmodel import select

from db.models import Case, Consent, Intake
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.stories import (
    consent_in_english,
)
from tests.transcript import Person


async def test_housing_intake_in_english(telegram: EmulatedBotAPI, live_bot: Bot, sessions) -> None:
    ada = Person(telegram, 1001, "en")
    await consent_in_english(ada)
    await ada.taps("Housing help")
    await ada.hears("question 1 of 8", "best describes your situation")
    await ada.taps("eviction notice")
    await ada.hears("How many people live in your household")
    ada.says("4")
    await ada.hears("children under 18", "from 0 to 4")
    ada.says("2")
    await ada.hears("Where do you live?")
    assert "10. Outside Milan" in ada.buttons()
    ada.says("8")  # the number of "Municipio 8", typed
    await ada.hears("waiting list for public housing (ERP)")
    await ada.taps("Yes")
    await ada.hears("How soon")
    await ada.taps("Within a few days")
    await ada.hears("best time")
    await ada.taps("Evening")
    await ada.hears("take part in its activities")
    await ada.taps("No")
    summary = await ada.hears("please check your answers", "Municipio 8", "Children under 18: 2")
    assert "Situation: I have an eviction notice" in (summary.text or "")
    await ada.taps("Confirm and send")
    await ada.hears("Thank you", "Your request number is SP-00001")
    await ada.hears_nothing_more()

    ada.says("/status")
    await ada.hears("You have 1 request:", "SP-00001 · Housing help · waiting for a volunteer")

    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
        consent = (await session.exec(select(Consent))).one()
    assert (case.kind, case.district, case.household_size, case.urgency) == (
        "housing",
        "m8",
        4,
        "days",
    )
    assert case.details["situation"] == "eviction"
    assert consent.accepted and consent.version


async def test_food_intake_with_children_ages_and_dietary_needs(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 1002, "en")
    await consent_in_english(ada)
    await ada.taps("Food aid")
    await ada.hears("Food aid · question 1 of 5", "How many people")
    ada.says("3")
    await ada.hears("children under 18")
    ada.says("2")
    await ada.hears("How old are the children?", "question 3 of 6")
    ada.says("4 19")
    await ada.hears("Please write one age from 0 to 17 for each child")
    await ada.hears("How old are the children?")
    ada.says("4, 9")
    question = await ada.hears("dietary needs")
    await ada.taps("Halal", on=question)
    await ada.taps("Food allergies", on=question)
    assert question.reply_markup is not None
    assert "☑ 1. Halal" in ada.buttons(question)
    assert "☑ 4. Food allergies" in ada.buttons(question)
    await ada.taps("Done", on=question)
    await ada.hears("Where do you live?")
    await ada.taps("Municipio 9")
    await ada.hears("How soon")
    ada.says("2")
    await ada.hears(
        "Children's ages: 4 and 9",
        "Dietary needs: Halal and Food allergies",
        "Urgency: Within a few",
    )
    await ada.taps("Confirm")
    await ada.hears("SP-00001")


async def test_the_chosen_answer_stays_under_the_question(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 1003, "en")
    await consent_in_english(ada)
    await ada.taps("Food aid")
    question = await ada.hears("How many people")
    ada.says("1")
    await ada.hears("children")
    await ada.taps("Back")
    await ada.hears("How many people")
    assert question.reply_markup is not None  # a typed answer leaves the old buttons usable...
    await ada.taps("Back", on=question)  # ...but they are stale now: nothing changes
    assert ada.notices[-1] == "This button is no longer active."
    await ada.hears("How many people")
    menu = telegram.chats[ada.chat_id][-5]
    assert menu.text is not None and menu.text.endswith("→ Food aid")
    assert menu.reply_markup is None


async def test_change_an_answer_from_the_summary(telegram: EmulatedBotAPI, live_bot: Bot) -> None:
    ada = Person(telegram, 1004, "en")
    await consent_in_english(ada)
    await ada.taps("Food aid")
    await ada.hears("How many people")
    for text, next_question in [
        ("2", "children"),
        ("0", "dietary"),
        ("5", "Where do you live"),
        ("1", "How soon"),
        ("3", "People in the household: 2"),
    ]:
        ada.says(text)
        await ada.hears(next_question)
    await ada.taps("Change an answer")
    await ada.hears("Which answer do you want to change?")
    await ada.taps("People in the household")
    await ada.hears("How many people")
    ada.says("5")
    await ada.hears("please check your answers", "People in the household: 5")
    await ada.taps("Change an answer")
    await ada.hears("Which answer")
    await ada.taps("Children under 18")
    await ada.hears("How many of them are children")
    ada.says("1")  # a child now: their age becomes a question
    await ada.hears("How old are the children?")
    ada.says("6")
    await ada.hears("Children under 18: 1", "Children's ages: 6")


async def test_cancel_asks_for_confirmation_and_discards(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 1005, "en")
    await consent_in_english(ada)
    await ada.taps("Housing help")
    await ada.hears("situation")
    await ada.taps("I have no home")
    await ada.hears("How many people")
    ada.says("/cancel")
    await ada.hears("Do you want to cancel?")
    await ada.taps("No, go on")
    await ada.hears("How many people")
    await ada.taps("Cancel")
    await ada.hears("Do you want to cancel?")
    await ada.taps("Yes, cancel")
    await ada.hears("Cancelled. Nothing was sent.")
    await ada.hears("What do you need help with?")
    async with sessions() as session:
        assert (await session.exec(select(Intake))).first() is None
        assert (await session.exec(select(Case))).first() is None
    ada.says("/cancel")
    await ada.hears("There is nothing to cancel.")


async def test_bad_input_gets_an_answer_and_changes_nothing(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 1006, "en")
    await consent_in_english(ada)
    await ada.taps("Housing help")
    await ada.hears("situation")
    await ada.taps("Something else")
    await ada.hears("How many people")
    for misbehave in (ada.sends_sticker, ada.sends_photo, ada.sends_voice):
        misbehave()
        await ada.hears("I can only read text and buttons")
        await ada.hears("How many people")
    for text in ["x" * 10_000, "twenty", "0", "21"]:
        ada.says(text)
        await ada.hears("Please write a number from 1 to 20.")
        await ada.hears("How many people")
    ada.says("/frobnicate")
    await ada.hears("I don't know that command")
    await ada.hears("/status")
    async with sessions() as session:
        intake = (await session.exec(select(Intake))).one()
    assert intake.answers == {"situation": "other"}
    ada.says("3")
    await ada.hears("children")


async def test_forged_and_stale_buttons_change_nothing(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 1007, "en")
    await consent_in_english(ada)
    await ada.taps("Housing help")
    question = await ada.hears("situation")
    for forged in ["i:0:o:robot", "i:99:o:no_home", "lang:xx", "erase:maybe", "junk", "x" * 64]:
        await ada.presses_data(forged, on=question)
        assert ada.notices[-1] == "This button is no longer active."
        await ada.hears("situation")
    telegram.push_callback_raw(ada.user, ada.chat_id, 999_999, "i:7:o:no_home")
    await telegram.wait_for_call("answerCallbackQuery", after=len(telegram.calls) - 1)
    await ada.hears("situation")  # the press was of a lost message: stale, and said so
    async with sessions() as session:
        intake = (await session.exec(select(Intake))).one()
    assert intake.answers == {}
    assert question.reply_markup is None  # a stale press closes the buttons it came from
    await ada.taps("I have no home")
    await ada.hears("How many people")


async def test_declining_consent_stores_only_the_refusal(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 1008, "en")
    ada.says("/start")
    await ada.hears("Which language")
    await ada.taps("English")
    await ada.hears("Before we start")
    await ada.taps("No, thank you")
    await ada.hears("not kept anything about you except this answer")
    ada.says("hello?")
    await ada.hears("Before we start")  # still no questions without consent
    async with sessions() as session:
        consents = (await session.exec(select(Consent))).all()
        assert [c.accepted for c in consents] == [False]
        assert (await session.exec(select(Intake))).first() is None


async def test_a_restart_in_the_middle_loses_no_answer(telegram: EmulatedBotAPI, bot: Bot) -> None:
    ada = Person(telegram, 1009, "en")
    async with bot.running():
        await consent_in_english(ada)
        await ada.taps("Housing help")
        await ada.hears("situation")
        await ada.taps("My home is overcrowded")
        await ada.hears("How many people")
        ada.says("6")
        await ada.hears("children")
    # The bot is down while she answers; the update waits at Telegram.
    ada.says("3")
    async with bot.running():
        await ada.hears("Where do you live?")
        await ada.taps("Municipio 4")
        await ada.hears("ERP")
    async with bot.running():
        ada.says("/start")
        await ada.hears("Welcome back")
        await ada.hears("ERP", "question 5 of 8")


async def test_an_update_delivered_again_after_a_crash_is_applied_once(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ada = Person(telegram, 1010, "en")
    async with bot.running():
        await consent_in_english(ada)
        await ada.taps("Food aid")
        await ada.hears("How many people")
        last_update = telegram.push_text(ada.user, "2")
        await ada.hears("children")
    # The bot died after handling "2" but before Telegram heard that it had.
    telegram.redeliver(last_update)
    async with bot.running():
        await telegram.wait_updates_consumed()
        await ada.hears_nothing_more()
        ada.says("1")
        await ada.hears("How old are the children?")
    async with sessions() as session:
        intake = (await session.exec(select(Intake))).one()
    assert intake.answers == {"household": 2, "children": 1}


async def test_flood_control_is_waited_out_not_shown(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 1011, "en")
    telegram.fail_next("sendMessage", error_code=429, retry_after=1)
    ada.says("/start")
    await ada.hears("Which language")
    assert [c.ok for c in telegram.calls if c.method == "sendMessage"] == [False, True]


async def test_text_outside_an_intake_leads_back_to_the_next_step(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 1012, "en")
    ada.says("hello")
    await ada.hears("Which language")
    await ada.taps("English")
    await ada.hears("Before we start")
    ada.says("what is this?")
    await ada.hears("Before we start")
    await ada.taps("Yes, I agree")
    await ada.hears("What do you need help with?")
    ada.says("I need a house")
    await ada.hears("What do you need help with?")
    ada.says("2")  # the number of "Food aid" in the menu
    await ada.hears("Food aid · question 1")
    ada.says("/help")
    await ada.hears("/status", "/mydata", "/delete", "/language")
