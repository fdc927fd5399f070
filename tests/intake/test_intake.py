"""The intake engine on its own: no transport, no database, just the state machine."""

from __future__ import annotations

import pytest

from bot import i18n
from bot.intake import engine as intake
from bot.intake import questions
from bot.intake.engine import Outcome
from db.models import CaseKind, Intake


def new(flow: str) -> Intake:
    return Intake(resident_id=1, flow=CaseKind(flow), answers={}, path=[], draft=[], revision=0)


def tap(row: Intake, token: str) -> intake.Result:
    return intake.press(row, row.revision, token)


def question(row: Intake) -> str:
    return questions.render(row).text


@pytest.fixture(autouse=True)
def english():
    with i18n.locale("en"):
        yield


def answer_housing_until_summary(row: Intake) -> None:
    for token_or_text in ["o.eviction", "4", "2", "o.m8", "o.yes", "o.days", "o.evening", "o.no"]:
        result = (
            tap(row, token_or_text)
            if "." in token_or_text
            else intake.type_text(row, token_or_text)
        )
        assert result.outcome is Outcome.CONTINUE, result.error


def test_housing_flow_asks_every_step_then_summarises() -> None:
    row = new("housing")
    assert "best describes your situation" in question(row)
    answer_housing_until_summary(row)
    assert questions.step_to_ask(row) is None
    summary = question(row)
    assert "I have an eviction notice" in summary
    assert "People in the household: 4" in summary
    assert "District: Municipio 8" in summary
    assert tap(row, "ok").outcome is Outcome.CONFIRMED


def test_typed_option_number_is_the_same_as_the_button() -> None:
    row = new("housing")
    result = intake.type_text(row, "3")
    assert result.outcome is Outcome.CONTINUE
    assert row.answers == {"situation": "overcrowded"}
    assert result.chosen == "My home is overcrowded"


@pytest.mark.parametrize("text", ["0", "21", "two", "-1", "4.5", "x" * 10_000, ""])
def test_household_size_out_of_bounds_changes_nothing(text: str) -> None:
    row = new("food")
    result = intake.type_text(row, text)
    assert result.outcome is Outcome.INVALID
    assert result.error == "Please write a number from 1 to 20."
    assert row.answers == {} and row.revision == 0


def test_children_cannot_exceed_the_household() -> None:
    row = new("food")
    intake.type_text(row, "2")
    result = intake.type_text(row, "3")
    assert result.outcome is Outcome.INVALID
    assert result.error == "Please write a number from 0 to 2."


def test_ages_are_asked_only_when_there_are_children_and_must_match_their_number() -> None:
    row = new("food")
    intake.type_text(row, "4")
    intake.type_text(row, "2")
    assert "How old are the children" in question(row)
    wrong_count = intake.type_text(row, "7")
    assert wrong_count.error == "You told us about 2 children: please write 2 ages."
    too_old = intake.type_text(row, "7 18")
    assert too_old.outcome is Outcome.INVALID
    assert intake.type_text(row, "7, 12").outcome is Outcome.CONTINUE
    assert row.answers["ages"] == [7, 12]

    childless = new("food")
    intake.type_text(childless, "1")
    intake.type_text(childless, "0")
    assert "dietary needs" in question(childless)


def test_multiple_choice_toggles_then_done_and_none_excludes_the_rest() -> None:
    row = new("food")
    intake.type_text(row, "1")
    intake.type_text(row, "0")
    assert tap(row, "done").outcome is Outcome.INVALID
    toggled = tap(row, "t.halal")
    assert toggled.toggled and row.draft == ["halal"]
    tap(row, "t.vegetarian")
    tap(row, "t.none")
    assert row.draft == ["none"]
    tap(row, "t.halal")
    assert row.draft == ["halal"]
    assert tap(row, "done").outcome is Outcome.CONTINUE
    assert row.answers["diet"] == ["halal"]


def test_multiple_choice_can_be_typed_as_numbers() -> None:
    row = new("food")
    intake.type_text(row, "1")
    intake.type_text(row, "0")
    assert intake.type_text(row, "1 5").outcome is Outcome.INVALID  # "none" with others
    assert intake.type_text(row, "9").outcome is Outcome.INVALID
    assert intake.type_text(row, "1, 3").outcome is Outcome.CONTINUE
    assert row.answers["diet"] == ["halal", "vegetarian"]


def test_back_forgets_the_last_answer_and_asks_it_again() -> None:
    row = new("housing")
    tap(row, "o.no_home")
    intake.type_text(row, "3")
    assert tap(row, "back").outcome is Outcome.CONTINUE
    assert row.answers == {"situation": "no_home"}
    assert "How many people" in question(row)
    tap(row, "back")
    assert tap(row, "back").outcome is Outcome.LEFT


def test_change_an_answer_from_the_summary_returns_to_the_summary() -> None:
    row = new("housing")
    answer_housing_until_summary(row)
    tap(row, "chg")
    assert "Which answer do you want to change?" in question(row)
    tap(row, "e.district")
    assert "Where do you live?" in question(row)
    tap(row, "o.m3")
    assert row.answers["district"] == "m3"
    assert questions.step_to_ask(row) is None
    assert "District: Municipio 3" in question(row)


def test_a_smaller_household_asks_the_children_again() -> None:
    row = new("housing")
    answer_housing_until_summary(row)  # 4 people, 2 children
    tap(row, "chg")
    tap(row, "e.household")
    intake.type_text(row, "1")
    assert "children" not in row.answers
    assert "How many of them are children" in question(row)


def test_cancel_asks_first_and_no_keeps_everything() -> None:
    row = new("housing")
    tap(row, "o.other")
    tap(row, "cancel")
    assert "Do you want to cancel?" in question(row)
    assert intake.type_text(row, "2").outcome is Outcome.CONTINUE
    assert row.answers == {"situation": "other"}
    tap(row, "cancel")
    assert tap(row, "cy").outcome is Outcome.DISCARDED


def test_stale_and_forged_presses_change_nothing() -> None:
    row = new("housing")
    old_revision = row.revision
    tap(row, "o.other")
    before = (dict(row.answers), row.revision)
    assert intake.press(row, old_revision, "o.no_home").outcome is Outcome.STALE
    assert tap(row, "o.not_an_option").outcome is Outcome.STALE
    assert tap(row, "e.situation").outcome is Outcome.STALE
    assert (row.answers, row.revision) == before


def test_questions_and_errors_are_in_the_current_language() -> None:
    row = new("food")
    with i18n.locale("it"):
        assert "Quante persone" in question(row)
        assert intake.type_text(row, "99").error == "Per favore, scrivi un numero da 1 a 20."
    with i18n.locale("ar"):
        assert "كم" in question(row)
