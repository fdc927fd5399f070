"""A resident's data rights and language choice, through the real application."""

from __future__ import annotations

from sqlmodel import select

from db.models import Case, Consent, Intake, Resident
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.stories import consent_in_english
from tests.transcript import Person


async def finish_food_intake(ada: Person) -> None:
    await ada.taps("Food aid")
    await ada.hears("How many people")
    for text, next_question in [
        ("2", "children"),
        ("0", "dietary"),
        ("2", "Where do you live"),
        ("3", "How soon"),
        ("3", "please check your answers"),
    ]:
        ada.says(text)
        await ada.hears(next_question)
    await ada.taps("Confirm and send")
    await ada.hears("SP-00001")


async def test_mydata_sends_everything_as_text_and_json(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 2001, "en")
    await consent_in_english(ada)
    await finish_food_intake(ada)
    ada.says("/mydata")
    await ada.hears(
        "everything we keep about you",
        "Account: Telegram 2001",
        "Language: English",
        "Privacy notice",
        "accepted",
        "Request SP-00001 (Food aid), waiting for a volunteer",
        "Dietary needs: No pork",
    )
    document = await ada.hears_document("my-data.json")
    assert document["resident"] == {
        "channel": "telegram",
        "user_id": "2001",
        "phone": None,  # Telegram gives no number
        "language": "en",
        "first_contact": document["resident"]["first_contact"],  # type: ignore[index]
    }
    assert document["cases"][0]["answers"]["diet"] == ["no_pork"]  # type: ignore[index]
    assert document["consents"][0]["accepted"] is True  # type: ignore[index]


async def test_delete_asks_then_erases_personal_data_but_keeps_statistics(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 2002, "en")
    await consent_in_english(ada)
    await finish_food_intake(ada)
    ada.says("/delete")
    await ada.hears("delete everything we keep about you", "cannot be undone")
    await ada.taps("No, keep it")
    await ada.hears("Nothing was deleted.")
    await ada.hears("What do you need help with?")
    async with sessions() as session:
        assert (await session.exec(select(Resident))).one()

    ada.says("/delete")
    await ada.hears("delete everything")
    await ada.taps("Yes, delete my data")
    await ada.hears("has been deleted")
    async with sessions() as session:
        assert (await session.exec(select(Resident))).first() is None
        assert (await session.exec(select(Consent))).first() is None
        assert (await session.exec(select(Intake))).first() is None
        case = (await session.exec(select(Case))).one()
    assert case.resident_id is None and case.details == {} and case.erased_at is not None
    assert (case.kind, case.district, case.household_size) == ("food", "m3", 2)

    ada.says("/mydata")
    await ada.hears("We keep nothing about you.")
    ada.says("/status")
    await ada.hears("You have no requests yet.")
    await ada.hears("Which language")  # a stranger again: she starts from the beginning


async def test_language_can_change_at_any_time_and_the_question_follows(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    ada = Person(telegram, 2003, "it")
    ada.says("/start")
    await ada.hears("Ciao! Che lingua vuoi usare?")
    assert ada.buttons()[0] == "✓ Italiano"
    await ada.taps("English")
    await ada.hears("Before we start")
    await ada.taps("Yes, I agree")
    await ada.hears("What do you need help with?")
    await ada.taps("Housing help")
    await ada.hears("situation")
    ada.says("/language")
    await ada.hears("Which language")
    await ada.taps("Italiano")
    italian = await ada.hears(
        "Aiuto per la casa · domanda 1 di 8",
        "Quale di queste frasi descrive meglio la tua situazione?",
    )
    assert "situation" not in (italian.text or "")
    assert italian.reply_markup is not None
    ada.says("/language")
    await ada.hears("Che lingua vuoi usare?")
    await ada.taps("English")
    await ada.hears("situation")


async def test_an_unexpected_failure_is_told_in_the_residents_language_without_losing_answers(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions, caplog
) -> None:
    ada = Person(telegram, 2004, "en")
    await consent_in_english(ada)
    await ada.taps("Food aid")
    await ada.hears("How many people")
    ada.says("3")
    await ada.hears("children")
    telegram.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    ada.says("0")
    await ada.hears("something went wrong on our side", "reference")
    telegram.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    ada.says("I am Mario Rossi, call me on 333 1234567")
    await ada.hears("something went wrong on our side")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "reference" in logged
    for personal in ("Mario", "333", "Person 2004", "2004"):
        assert personal not in logged
    # The answer was committed before the reply failed: the next question is where she is.
    ada.says("/start")
    await ada.hears("Welcome back")
    await ada.hears("dietary needs")
