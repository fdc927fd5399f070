"""What many transcripts share: the help desk's queues, a resident consenting, a housing request
confirmed and a volunteer taking it."""

from __future__ import annotations

from typing import Any

from bot.cases.routing import QueueSettings
from tests.fake_telegram import FakeBotAPI, SentMessage
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


async def confirm_housing_request(ada: Person, number: str = "SP-00001") -> None:
    await consent_in_english(ada)
    await ada.taps("Housing help")
    await ada.hears("situation")
    for answer in ["2", "3", "1", "5", "1", "1", "3", "2"]:
        ada.says(answer)
        await ada.hears()
    await ada.taps("Confirm and send")
    await ada.hears(f"Your request number is {number}")


async def next_card(telegram: FakeBotAPI, group: int) -> SentMessage:
    return await telegram.next_message(group)


async def claimed_case(telegram: FakeBotAPI, ada: Person, vera: Person) -> None:
    """Ada asks for housing help; Vera takes the request and reads its details."""
    await confirm_housing_request(ada)
    card = await telegram.next_message(HOUSING_GROUP)
    await vera.taps("Claim", on=card)
    await vera.hears("You took request SP-00001")
    await ada.hears("a volunteer has taken up your request SP-00001")
