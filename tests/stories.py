"""What many transcripts share: the help desk's queues, a resident consenting, a housing request
confirmed and a volunteer taking it."""

from __future__ import annotations

from typing import Any

from bot.cases.routing import QueueSettings
from handlers.emulation.telegram import EmulatedBotAPI, SentMessage
from tests.transcript import Person

HOUSING_GROUP = -1001000000001
FOOD_GROUP = -1001000000002
ORGANISER = 9001
QUEUES = (QueueSettings("housing", HOUSING_GROUP, None), QueueSettings("food", FOOD_GROUP, None))

DESK_SETTINGS: dict[str, Any] = {
    "queues": QUEUES,
    "organisers": frozenset({ORGANISER}),
    "default_language": "en",
}


async def consent_in_english(ada: Person) -> None:
    ada.says("/start")
    await ada.hears("Which language")
    assert ada.buttons()[:3] == ["Italiano", "✓ English", "العربية"]
    await ada.taps("English")
    await ada.hears("Before we start", "/mydata", "/delete")
    await ada.taps("Yes, I agree")
    await ada.hears("What do you need help with?")


async def confirm_housing_request(ada: Person, number: str = "SP-00001", district: int = 5) -> None:
    """Ada asks for housing help, living in Municipio `district`; `number`: her request's, or
    its beginning ("SP-") when requests are made side by side."""
    await consent_in_english(ada)
    await ada.taps("Housing help")
    await ada.hears("situation")
    for answer, *reads in [
        ("2", "question 2 of 8", "How many people live in your household, counting yourself?"),
        ("3", "question 3 of 8", "How many of them are children under 18?"),
        ("1", "question 4 of 8", "Where do you live?"),
        (str(district), "question 5 of 8", "Are you on the waiting list for public housing (ERP)?"),
        ("1", "question 6 of 8", "How soon do you need help?"),
        ("1", "question 7 of 8", "When is the best time for a volunteer to write to you?"),
        ("3", "question 8 of 8", "Would you like to take part in its activities?"),
        ("2", "Housing help: please check your answers.", "Is everything right?"),
    ]:
        ada.says(answer)
        await ada.hears(*reads)
    await ada.taps("Confirm and send")
    await ada.hears(f"Your request number is {number}")


async def next_card(telegram: EmulatedBotAPI, group: int) -> SentMessage:
    return await telegram.next_message(group)


async def claimed_case(telegram: EmulatedBotAPI, ada: Person, vera: Person) -> None:
    """Ada asks for housing help; Vera takes the request and reads its details."""
    await confirm_housing_request(ada)
    card = await telegram.next_message(HOUSING_GROUP)
    await vera.taps("Claim", on=card)
    await vera.hears("You took request SP-00001")
    await ada.hears("a volunteer has taken up your request SP-00001")
