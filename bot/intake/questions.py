"""How an intake looks to the resident: its questions, their buttons, and the summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import i18n
from bot.buttons import IntakePress
from bot.i18n import _
from bot.intake.flows import FLOWS, AnswerKind, Flow, Option, Step
from bot.outgoing import Button, Reply
from db.models import Intake


@dataclass(frozen=True)
class Choice:
    label: str
    token: str


def flow_of(intake: Intake) -> Flow:
    return FLOWS[intake.flow]


def step_to_ask(intake: Intake) -> Step | None:
    """The step being asked, or None when every applicable step is answered (the summary)."""
    flow = flow_of(intake)
    if intake.editing:
        return flow.step(intake.editing)
    return next(
        (s for s in flow.steps if s.applies(intake.answers) and s.key not in intake.answers),
        None,
    )


def option_label(option: Option) -> str:
    text = _(option.label)
    return text.format(n=option.n) if option.n is not None else text


def render(intake: Intake) -> Reply:
    """The message that asks for the next thing the resident has to do."""
    if intake.confirming_cancel:
        return _numbered(
            intake,
            _("Do you want to cancel? Your answers will be discarded and nothing will be sent."),
            [Choice(_("Yes, cancel"), "cy"), Choice(_("No, go on"), "cn")],
        )
    if intake.editing == "*":
        return _numbered(intake, _("Which answer do you want to change?"), edit_choices(intake))
    step = step_to_ask(intake)
    if step is None:
        return _numbered(intake, _summary_text(intake), summary_choices())
    return _question(intake, step)


def _question(intake: Intake, step: Step) -> Reply:
    flow = flow_of(intake)
    applicable = [s for s in flow.steps if s.applies(intake.answers)]
    position = applicable.index(step) + 1 if step in applicable else len(applicable)
    header = _("{flow} · question {position} of {total}").format(
        flow=_(flow.title), position=position, total=len(applicable)
    )
    text = f"{header}\n\n{_(step.question)}"
    if step.kind is AnswerKind.NUMBER:
        text += "\n" + _("Write a number from {minimum} to {maximum}.").format(
            minimum=step.minimum, maximum=step.maximum_for(intake.answers)
        )
    rows = [(Button(label, _data(intake, token)),) for label, token in _option_rows(intake, step)]
    nav = (
        Button(_("« Back"), _data(intake, "back")),
        Button(_("✕ Cancel"), _data(intake, "cancel")),
    )
    return Reply(text, (*rows, nav))


def _option_rows(intake: Intake, step: Step) -> list[tuple[str, str]]:
    if step.kind is AnswerKind.MULTI:
        picked = set(intake.draft)
        rows = [
            (f"{'☑' if o.key in picked else '☐'} {i}. {option_label(o)}", f"t.{o.key}")
            for i, o in enumerate(step.options, 1)
        ]
        return [*rows, (_("Done ✓"), "done")]
    return [(f"{c.label}", c.token) for c in _numbered_choices(step_choices(step))]


def step_choices(step: Step) -> list[Choice]:
    return [Choice(option_label(o), f"o.{o.key}") for o in step.options]


def _numbered_choices(choices: list[Choice]) -> list[Choice]:
    return [Choice(f"{i}. {c.label}", c.token) for i, c in enumerate(choices, 1)]


def _numbered(intake: Intake, text: str, choices: list[Choice]) -> Reply:
    rows = tuple((Button(c.label, _data(intake, c.token)),) for c in _numbered_choices(choices))
    return Reply(text, rows)


def summary_choices() -> list[Choice]:
    return [
        Choice(_("Confirm and send"), "ok"),
        Choice(_("Change an answer"), "chg"),
        Choice(_("Cancel"), "cancel"),
    ]


def edit_choices(intake: Intake) -> list[Choice]:
    answered = [s for s in flow_of(intake).steps if s.key in intake.answers]
    return [
        *(Choice(_(s.label), f"e.{s.key}") for s in answered),
        Choice(_("Back to the summary"), "sum"),
    ]


def _summary_text(intake: Intake) -> str:
    flow = flow_of(intake)
    return "\n".join(
        [
            _("{flow}: please check your answers.").format(flow=_(flow.title)),
            "",
            *answer_lines(flow.key, intake.answers),
            "",
            _("Is everything right?"),
        ]
    )


def answer_lines(flow_key: str, answers: Mapping[str, Any], bullet: str = "•") -> list[str]:
    """The answers given to a flow, one line each, in the flow's order."""
    return [
        f"{bullet} {_(step.label)}: {display_answer(step, answers[step.key])}"
        for step in FLOWS[flow_key].steps
        if step.key in answers
    ]


def display_answer(step: Step, value: Any) -> str:
    """An answer as the resident would read it, in the current language."""
    if step.kind is AnswerKind.CHOICE:
        option = step.option(str(value))
        return option_label(option) if option else str(value)
    if step.kind is AnswerKind.MULTI:
        return i18n.format_list(option_label(o) for o in step.options if o.key in value)
    if step.kind is AnswerKind.AGES:
        return i18n.format_list(str(age) for age in value)
    return str(value)


def _data(intake: Intake, token: str) -> str:
    return IntakePress(intake.revision, token).pack()


def state_choices(intake: Intake) -> list[Choice]:
    if intake.confirming_cancel:
        return [Choice(_("Yes, cancel"), "cy"), Choice(_("No, go on"), "cn")]
    if intake.editing == "*":
        return edit_choices(intake)
    return summary_choices()
