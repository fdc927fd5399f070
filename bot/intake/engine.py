"""The intake engine: a small state machine over a flow's steps, its state one database row.

It never talks to a channel: it reads an `Intake` row and an answer (typed text or the token of a
pressed button), changes the row, and says what to show next. The caller commits the row before
anything is sent, so an answer that was acknowledged is never lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from bot.i18n import _, ngettext
from bot.intake.flows import AnswerKind, Step
from bot.intake.questions import (
    display_answer,
    flow_of,
    option_label,
    render,
    state_choices,
    step_choices,
    step_to_ask,
)
from bot.outgoing import Reply
from db.models import Intake

MAX_TEXT = 200  # longer text is never a valid answer to any step
# What people put between numbers they type ("3, 8, 12"), the Arabic comma and semicolon included.
SEPARATORS = ",;.،؛"


class Outcome(Enum):
    CONTINUE = auto()  # the row changed (or not); show `reply`
    INVALID = auto()  # nothing changed; show `error` and `reply` again
    STALE = auto()  # a button of an earlier question; nothing changed
    CONFIRMED = auto()  # the resident confirmed the summary: make the case
    DISCARDED = auto()  # the resident cancelled and confirmed: drop the row
    LEFT = auto()  # "back" on the very first question: drop the row, show the menu


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reply: Reply | None = None
    error: str | None = None
    chosen: str | None = None
    toggled: bool = False  # a multiple choice changed in place: edit the message, don't resend


# -- what comes in ----------------------------------------------------------------------------


def press(intake: Intake, revision: int, token: str) -> Result:
    """Apply a pressed button."""
    if revision != intake.revision:
        return Result(Outcome.STALE, render(intake))
    return _apply_token(intake, token)


def type_text(intake: Intake, text: str) -> Result:
    """Apply a typed answer: a value for the question, or the number of a listed choice."""
    text = text.strip()
    step = None if intake.confirming_cancel or intake.editing == "*" else step_to_ask(intake)
    if step is None or step.kind in (AnswerKind.CHOICE, AnswerKind.MULTI):
        token = _typed_choice(intake, step, text)
        if token is not None:
            return _apply_token(intake, token)
        if step is not None and step.kind is AnswerKind.MULTI:
            picked = _typed_options(step, text)
            if picked is not None:
                return _answer(intake, step, picked)
        return _invalid(intake, _("Please tap one of the buttons, or write its number."))
    if len(text) > MAX_TEXT:
        return _invalid(intake, _number_hint(intake, step))
    if step.kind is AnswerKind.NUMBER:
        return _typed_number(intake, step, text)
    return _typed_ages(intake, step, text)


def _typed_choice(intake: Intake, step: Step | None, text: str) -> str | None:
    if step is not None and step.kind is AnswerKind.MULTI:
        return None  # digits there pick several options at once
    choices = step_choices(step) if step else state_choices(intake)
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1].token
    lowered = text.casefold()
    return next((c.token for c in choices if c.label.casefold() == lowered), None)


def _typed_options(step: Step, text: str) -> list[str] | None:
    numbers = re.findall(r"\d+", text)
    if not numbers or re.sub(rf"[\d\s{SEPARATORS}]", "", text):
        return None
    indexes = {int(n) for n in numbers}
    if not all(1 <= i <= len(step.options) for i in indexes):
        return None
    picked = [step.options[i - 1].key for i in sorted(indexes)]
    if step.exclusive in picked and len(picked) > 1:
        return None
    return picked


def _number_hint(intake: Intake, step: Step) -> str:
    if step.kind is AnswerKind.AGES:
        return _(
            "Please write one age from {minimum} to {maximum} for each child, e.g. 3 8 12."
        ).format(minimum=step.minimum, maximum=step.maximum)
    return _("Please write a number from {minimum} to {maximum}.").format(
        minimum=step.minimum, maximum=step.maximum_for(intake.answers)
    )


def _typed_number(intake: Intake, step: Step, text: str) -> Result:
    if not re.fullmatch(r"\d{1,3}", text):
        return _invalid(intake, _number_hint(intake, step))
    value = int(text)
    if not step.minimum <= value <= step.maximum_for(intake.answers):
        return _invalid(intake, _number_hint(intake, step))
    return _answer(intake, step, value)


def _typed_ages(intake: Intake, step: Step, text: str) -> Result:
    if not re.fullmatch(rf"[\d\s{SEPARATORS}]+", text):
        return _invalid(intake, _number_hint(intake, step))
    ages = [int(n) for n in re.findall(r"\d+", text)]
    if not ages or not all(step.minimum <= age <= step.maximum for age in ages):
        return _invalid(intake, _number_hint(intake, step))
    expected = int(intake.answers.get("children", len(ages)))
    if len(ages) != expected:
        return _invalid(
            intake,
            ngettext(
                "You told us about {count} child: please write {count} age.",
                "You told us about {count} children: please write {count} ages.",
                expected,
            ).format(count=expected),
        )
    return _answer(intake, step, ages)


def _apply_token(intake: Intake, token: str) -> Result:
    if intake.confirming_cancel:
        if token == "cy":
            return Result(Outcome.DISCARDED, chosen=_("Yes, cancel"))
        if token == "cn":
            intake.confirming_cancel = False
            return _changed(intake, _("No, go on"))
        return Result(Outcome.STALE, render(intake))
    if token == "cancel":
        intake.confirming_cancel = True
        return _changed(intake, _("✕ Cancel"))
    if token == "back":
        return _back(intake)
    step = step_to_ask(intake) if intake.editing != "*" else None
    if step is None:
        return _summary_token(intake, token)
    if step.kind is AnswerKind.MULTI and token.startswith("t."):
        return _toggle(intake, step, token[2:])
    if step.kind is AnswerKind.MULTI and token == "done":
        if not intake.draft:
            return _invalid(intake, _("Choose at least one option, or “None of these”."))
        return _answer(intake, step, [o.key for o in step.options if o.key in intake.draft])
    option = step.option(token[2:]) if token.startswith("o.") else None
    if option is None or step.kind is not AnswerKind.CHOICE:
        return Result(Outcome.STALE, render(intake))
    return _answer(intake, step, option.key, chosen=option_label(option))


def _summary_token(intake: Intake, token: str) -> Result:
    if intake.editing == "*":
        if token == "sum":
            intake.editing = None
            return _changed(intake, _("Back to the summary"))
        key = token[2:] if token.startswith("e.") else ""
        step = flow_of(intake).step(key)
        if step is None or key not in intake.answers:
            return Result(Outcome.STALE, render(intake))
        intake.editing = key
        intake.draft = list(intake.answers[key]) if step.kind is AnswerKind.MULTI else []
        return _changed(intake, _(step.label))
    if token == "ok":
        return Result(Outcome.CONFIRMED, chosen=_("Confirm and send"))
    if token == "chg":
        intake.editing = "*"
        return _changed(intake, _("Change an answer"))
    return Result(Outcome.STALE, render(intake))


def _back(intake: Intake) -> Result:
    if intake.editing:
        intake.editing = None  # back from changing an answer: the summary again
        intake.draft = []
        return _changed(intake, _("« Back"))
    if not intake.path:
        return Result(Outcome.LEFT, chosen=_("« Back"))
    last = intake.path[-1]
    intake.path = intake.path[:-1]
    intake.answers = {k: v for k, v in intake.answers.items() if k != last}
    intake.draft = []
    return _changed(intake, _("« Back"))


def _toggle(intake: Intake, step: Step, key: str) -> Result:
    if step.option(key) is None:
        return Result(Outcome.STALE, render(intake))
    picked = [k for k in intake.draft if k != key]
    if key not in intake.draft:
        exclusive = step.exclusive
        picked = [key] if key == exclusive else [k for k in picked if k != exclusive] + [key]
    intake.draft = picked
    intake.revision += 1
    return Result(Outcome.CONTINUE, render(intake), toggled=True)


def _answer(intake: Intake, step: Step, value: Any, chosen: str | None = None) -> Result:
    answers = {**intake.answers, step.key: value}
    # An answer can make later steps apply or stop applying: forget those that no longer apply.
    flow = flow_of(intake)
    answers = {
        k: v
        for k, v in answers.items()
        if (s := flow.step(k)) and s.applies(answers) and still_valid(s, v, answers)
    }
    intake.answers = answers
    intake.path = [k for k in intake.path if k in answers and k != step.key] + [step.key]
    intake.editing = None
    intake.draft = []
    if chosen is None:
        chosen = display_answer(step, value)
    return _changed(intake, chosen)


def still_valid(step: Step, value: Any, answers: dict[str, Any]) -> bool:
    """Whether an earlier answer still fits after another one changed (fewer people, say)."""
    if step.kind is AnswerKind.NUMBER:
        return bool(step.minimum <= value <= step.maximum_for(answers))
    if step.kind is AnswerKind.AGES:
        return len(value) == int(answers.get("children", len(value)))
    return True


def _changed(intake: Intake, chosen: str) -> Result:
    intake.revision += 1
    return Result(Outcome.CONTINUE, render(intake), chosen=chosen)


def _invalid(intake: Intake, error: str) -> Result:
    return Result(Outcome.INVALID, render(intake), error=error)
