"""Button data: every kind packs and parses back; forged or stale data parses to nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import buttons
from bot.buttons import (
    ActivityAction,
    Agenda,
    AllActivities,
    ButtonData,
    ChooseLanguage,
    ClaimCase,
    CloseCase,
    DraftPress,
    EraseData,
    GiveConsent,
    IntakePress,
    Rsvp,
    StartFlow,
)

MOMENT = datetime(2030, 11, 26, 15, 30, tzinfo=UTC)
EVERY_KIND: list[ButtonData] = [
    ChooseLanguage("ar"),
    GiveConsent("2026-11", "yes"),
    StartFlow("housing"),
    IntakePress(0, "o.no_home"),
    EraseData("no"),
    Agenda("list"),
    Agenda("leave", 12),
    Rsvp(7, MOMENT, "no"),
    ClaimCase(42),
    CloseCase(42, "not_eligible"),
    AllActivities(),
    DraftPress(999_999, "capacity", "none"),
    DraftPress(3, "cancel"),
    ActivityAction(5, "skip", MOMENT),
    ActivityAction(2**31 - 1, "view"),
]


@pytest.mark.parametrize("pressed", EVERY_KIND, ids=lambda b: b.pack())
def test_every_kind_of_button_comes_back_as_it_was_sent(pressed: ButtonData) -> None:
    data = pressed.pack()
    assert len(data.encode()) <= buttons.MAX_BYTES
    assert buttons.parse(data) == pressed
    assert type(pressed).parse(data) == pressed


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "claim",
        "claim:",
        "claim:123456789012345678901234567890",  # past any database integer
        f"claim:{2**31}",
        "claim:-1",
        "claim:007",
        "claim:²",  # a digit to str.isdigit(), not to int()
        "claim:٣",  # an Arabic-Indic digit: ids are written with 0-9 only
        "claim:1:2",
        "close:1:RESOLVED",
        "close:1:a b",
        "erase:maybe",
        "a:explode:1",
        "a:show:x",
        "rsvp:1:20301126T1530Z:perhaps",
        "rsvp:1:20301399T9999Z:yes",  # not a moment
        "o:d:x:kind",
        "o:a:5",
        "o:a:5:skip:tomorrow",
        "lang:" + "x" * 41,
        "zzz:1",
    ],
)
def test_forged_data_parses_to_nothing(forged: str) -> None:
    assert buttons.parse(forged) is None


def test_data_that_cannot_fit_or_be_read_back_is_refused_when_packed() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        StartFlow("x" * 70).pack()
    with pytest.raises(ValueError, match="colon"):
        StartFlow("a:b").pack()
