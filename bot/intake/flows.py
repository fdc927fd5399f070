"""The intake flows as data: what is asked for housing help and for food aid, and nothing more."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.i18n import N_
from db.models import CaseKind

Answers = Mapping[str, Any]


class AnswerKind(StrEnum):
    CHOICE = "choice"  # one option
    MULTI = "multi"  # several options, then "done"
    NUMBER = "number"  # a whole number within bounds
    AGES = "ages"  # one age per child, as many as the children counted before


@dataclass(frozen=True)
class Option:
    key: str
    label: str  # message id; "{n}" in it is filled with `n`
    n: int | None = None


@dataclass(frozen=True)
class Step:
    key: str
    question: str  # message id
    label: str  # message id of the short name shown in the summary
    kind: AnswerKind
    options: tuple[Option, ...] = ()
    minimum: int = 0
    maximum: int = 0
    exclusive: str | None = None  # for MULTI: the option that excludes all the others ("none")
    when: Callable[[Answers], bool] = field(default=lambda answers: True)
    upper: Callable[[Answers], int] | None = None  # a bound that depends on earlier answers

    def applies(self, answers: Answers) -> bool:
        return self.when(answers)

    def maximum_for(self, answers: Answers) -> int:
        return min(self.maximum, self.upper(answers)) if self.upper else self.maximum

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)


@dataclass(frozen=True)
class Flow:
    key: CaseKind
    title: str  # message id
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step | None:
        return next((step for step in self.steps if step.key == key), None)


YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))

DISTRICTS = (
    *(Option(f"m{n}", N_("Municipio {n}"), n) for n in range(1, 10)),
    Option("outside", N_("Outside Milan")),
)

URGENCY = (
    Option("days", N_("Within a few days")),
    Option("weeks", N_("Within a few weeks")),
    Option("later", N_("It can wait")),
)

HOUSEHOLD = Step(
    key="household",
    question=N_("How many people live in your household, counting yourself?"),
    label=N_("People in the household"),
    kind=AnswerKind.NUMBER,
    minimum=1,
    maximum=20,
)

CHILDREN = Step(
    key="children",
    question=N_("How many of them are children under 18?"),
    label=N_("Children under 18"),
    kind=AnswerKind.NUMBER,
    minimum=0,
    maximum=19,
    upper=lambda answers: int(answers.get("household", 20)),
)

DISTRICT = Step(
    key="district",
    question=N_("Where do you live? Milan is divided into nine districts (Municipi)."),
    label=N_("District"),
    kind=AnswerKind.CHOICE,
    options=DISTRICTS,
)

URGENT = Step(
    key="urgency",
    question=N_("How soon do you need help?"),
    label=N_("Urgency"),
    kind=AnswerKind.CHOICE,
    options=URGENCY,
)

HOUSING = Flow(
    key=CaseKind.HOUSING,
    title=N_("Housing help"),
    steps=(
        Step(
            key="situation",
            question=N_("Which of these best describes your situation?"),
            label=N_("Situation"),
            kind=AnswerKind.CHOICE,
            options=(
                Option("no_home", N_("I have no home")),
                Option("eviction", N_("I have an eviction notice")),
                Option("overcrowded", N_("My home is overcrowded")),
                Option("at_risk", N_("I may lose my home soon")),
                Option("other", N_("Something else")),
            ),
        ),
        HOUSEHOLD,
        CHILDREN,
        DISTRICT,
        Step(
            key="erp",
            question=N_("Are you on the waiting list for public housing (ERP)?"),
            label=N_("On the public housing waiting list (ERP)"),
            kind=AnswerKind.CHOICE,
            options=(*YES_NO, Option("unsure", N_("I don't know"))),
        ),
        URGENT,
        Step(
            key="contact_time",
            question=N_("When is the best time for a volunteer to write to you?"),
            # TRANSLATORS: the resident reads it in their summary, the volunteer in the request's
            # details: say it so that it fits both (not "to write to you").
            label=N_("Best time to get in touch"),
            kind=AnswerKind.CHOICE,
            options=(
                Option("morning", N_("Morning")),
                Option("afternoon", N_("Afternoon")),
                Option("evening", N_("Evening")),
                Option("any", N_("Any time")),
            ),
        ),
        Step(
            key="activities",
            question=N_(
                "The space runs thanks to everyone's help. Would you like to take part in its "
                "activities?"
            ),
            label=N_("Wants to take part in activities"),
            kind=AnswerKind.CHOICE,
            options=YES_NO,
        ),
    ),
)

FOOD = Flow(
    key=CaseKind.FOOD,
    title=N_("Food aid"),
    steps=(
        HOUSEHOLD,
        CHILDREN,
        Step(
            key="ages",
            question=N_(
                "How old are the children? Write their ages separated by spaces, e.g. 3 8 12"
            ),
            label=N_("Children's ages"),
            kind=AnswerKind.AGES,
            minimum=0,
            maximum=17,
            when=lambda answers: int(answers.get("children", 0)) > 0,
        ),
        Step(
            key="diet",
            question=N_(
                "Does your household have dietary needs? Choose all that apply, then Done."
            ),
            label=N_("Dietary needs"),
            kind=AnswerKind.MULTI,
            options=(
                Option("halal", N_("Halal")),
                Option("no_pork", N_("No pork")),
                Option("vegetarian", N_("Vegetarian")),
                Option("allergies", N_("Food allergies")),
                Option("none", N_("None of these")),
            ),
            exclusive="none",
        ),
        DISTRICT,
        URGENT,
    ),
)

FLOWS: dict[str, Flow] = {flow.key: flow for flow in (HOUSING, FOOD)}
