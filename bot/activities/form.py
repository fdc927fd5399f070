"""An activity described by an organiser in the chat, one checked answer at a time."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import answers
from bot.activities.answers import Invalid
from bot.activities.schedule import KINDS, twin
from bot.activities.text import (
    KIND_LABELS,
    describe,
    describe_repeat,
    minutes,
    own_words,
    repeat_rule,
)
from bot.buttons import DraftPress
from bot.i18n import _, isolate
from bot.outgoing import Button, Reply, Response
from db.models import Activity, ActivityKind, Draft, DraftForm

DURATIONS = (60, 90, 120)
HOMEWORK_PLACES = 6  # the spaces' homework groups take at most 6 children of one age
REPEATS = ("none", "weekly", "weekday", "monthly")  # the repeat step's buttons
STEPS = (
    "kind", "title", "place", "description", "when", "repeat", "duration", "capacity", "ages",
    "summary",
)  # fmt: skip


@dataclass
class Turn:
    """One message or press of an organiser, inside its transaction."""

    session: AsyncSession
    user_id: int
    zone: ZoneInfo
    moment: datetime  # now, from the desk's clock
    draft: Draft | None  # what the organiser is writing, if anything
    # The enabled languages besides the default one: an activity may have its own text in each.
    other_languages: tuple[str, ...] = ()
    default_language: str = "it"
    schedule_changed: bool = False  # the reminders must look at the activities again
    notices_queued: bool = False  # the outbox has messages for residents


async def begin_turn(
    session: AsyncSession,
    user_id: int,
    zone: ZoneInfo,
    moment: datetime,
    other_languages: tuple[str, ...] = (),
    default_language: str = "it",
) -> Turn:
    draft = await session.get(Draft, user_id)
    return Turn(session, user_id, zone, moment, draft, other_languages, default_language)


async def drafting(session: AsyncSession, user_id: int) -> bool:
    return await session.get(Draft, user_id) is not None


# -- reading answers ---------------------------------------------------------------------------


def read(turn: Turn, step: str, text: str | None) -> object:
    """The typed answer to a step, checked and ready to keep in a draft."""
    readers: dict[str, Callable[[str], object]] = {
        "title": answers.line,
        "place": answers.line,
        "description": answers.description,
        "when": lambda typed: answers.start(typed, turn.zone, turn.moment).isoformat(),
        "duration": lambda typed: answers.number(
            typed, 24 * 60, _("Please type how long it lasts in minutes, e.g. 90.")
        ),
        "capacity": lambda typed: answers.number(
            typed, 999, _("Please type the number of places, e.g. 6, or tap “No limit”.")
        ),
        "ages": answers.ages,
    }
    if step not in readers:
        raise Invalid(_("Please tap one of the buttons."))
    if text is None:
        raise Invalid(_("Please type it as text."))
    return readers[step](text)


# -- the draft ---------------------------------------------------------------------------------


def begin(
    turn: Turn, step: str, activity_id: int | None = None, form: DraftForm = DraftForm.ACTIVITY
) -> Draft:
    """A fresh draft in place of any other: the old one's buttons stop working."""
    draft = turn.draft
    if draft is None:
        # A random first revision, so that a button of a draft abandoned long ago cannot match.
        draft = Draft(user_id=turn.user_id, step=step, revision=secrets.randbelow(10**6))
        turn.session.add(draft)
        turn.draft = draft
    draft.form, draft.activity_id, draft.step, draft.data = form, activity_id, step, {}
    draft.revision += 1
    return draft


async def drop(turn: Turn) -> None:
    if turn.draft is not None:
        await turn.session.delete(turn.draft)
        turn.draft = None


async def abandon(turn: Turn) -> Response:
    """/cancel, or the Cancel button: the draft is forgotten."""
    await drop(turn)
    return Response(close_buttons=True).say(Reply(_("Cancelled: nothing was saved.")))


def button(label: str, draft: Draft, step: str, choice: str | None = None) -> Button:
    """A button of the draft's current step; pressing it again after a change does nothing."""
    return Button(label, DraftPress(draft.revision, step, choice).pack())


def cancel_row(draft: Draft) -> tuple[Button, ...]:
    return (button(_("✕ Cancel"), draft, "cancel"),)


def stale() -> Response:
    return Response(notice=_("This button is no longer active."))


# -- creating an activity ----------------------------------------------------------------------


async def start(turn: Turn) -> Response:
    """/newactivity: ask the first question of a new activity."""
    return Response().say(prompt(begin(turn, "kind"), turn.zone))


def prompt(draft: Draft, zone: ZoneInfo) -> Reply:
    """The question of the draft's current step."""
    step, data = draft.step, draft.data
    if step == "kind":
        kinds = tuple((button(_(KIND_LABELS[kind]), draft, "kind", kind),) for kind in KINDS)
        return Reply(_("What kind of activity is it?"), (*kinds, cancel_row(draft)))
    if step == "repeat":
        first = datetime.fromisoformat(data["when"])
        choices = tuple(
            (button(describe_repeat(repeat_rule(choice, first), first), draft, "repeat", choice),)
            for choice in REPEATS
        )
        return Reply(_("How often does it take place?"), (*choices, cancel_row(draft)))
    if step == "duration":
        lengths = tuple(button(minutes(n), draft, "duration", str(n)) for n in DURATIONS)
        text = _("How long does it last? Tap, or type the minutes.")
        return Reply(text, (lengths, cancel_row(draft)))
    if step == "capacity":
        return capacity_prompt(draft, data.get("kind") == ActivityKind.HOMEWORK)
    if step == "description":
        text = _("Describe the activity in a few lines (what to bring, who it is for), "
                 "or tap Skip.")  # fmt: skip
        return Reply(text, ((button(_("Skip"), draft, "description", "skip"),), cancel_row(draft)))
    if step == "summary":
        activity = activity_of(data)
        lines = [
            _("Please check the new activity:"),
            *own_words(activity),
            *describe(activity, zone),
        ]
        create = (button(_("Create"), draft, "create"),)
        return Reply("\n".join(lines), (create, cancel_row(draft)))
    questions = {
        "title": _("What is the activity called? Type its title."),
        "place": _("Where does it take place? Type the address."),
        "when": _("When is the first date? Type the day and time, like 24/11/2026 16:30."),
        "ages": _("Which ages is it for? Type them like 8-10."),
    }
    return Reply(questions.get(step, ""), (cancel_row(draft),))


def capacity_prompt(draft: Draft, homework: bool) -> Reply:
    text = _("How many places are there? Type a number, or tap “No limit”.")
    buttons: tuple[Button, ...] = (button(_("No limit"), draft, "capacity", "none"),)
    if homework:
        text += "\n" + _("Homework groups usually take at most {count} children.").format(
            count=HOMEWORK_PLACES
        )
        buttons = (button(str(HOMEWORK_PLACES), draft, "capacity", str(HOMEWORK_PLACES)), *buttons)
    return Reply(text, (buttons, cancel_row(draft)))


def activity_of(data: dict[str, object]) -> Activity:
    first = datetime.fromisoformat(str(data["when"]))
    ages = data.get("ages")
    youngest, oldest = ages if isinstance(ages, list) else (None, None)
    capacity = data.get("capacity")
    return Activity(
        kind=ActivityKind(str(data["kind"])),
        title=str(data["title"]),
        description=str(data.get("description", "")),
        place=str(data["place"]),
        starts_local=first,
        repeat=repeat_rule(str(data.get("repeat", "none")), first),
        duration_minutes=int(str(data.get("duration", 60))),
        capacity=capacity if isinstance(capacity, int) else None,
        age_min=youngest,
        age_max=oldest,
    )


def _advance(turn: Turn, draft: Draft, value: object, chosen: str | None) -> Response:
    draft.data = {**draft.data, draft.step: value}  # a new dict, so that the change is saved
    following = STEPS[STEPS.index(draft.step) + 1]
    if following == "ages" and draft.data.get("kind") != ActivityKind.HOMEWORK:
        following = "summary"
    draft.step = following
    draft.revision += 1
    response = Response(chosen=chosen, close_buttons=chosen is not None)
    return response.say(prompt(draft, turn.zone))


def type_text(turn: Turn, draft: Draft, text: str | None) -> Response:
    """Typed text (None for a sticker, a photo…) as the answer to the current step."""
    try:
        value = read(turn, draft.step, text)
    except Invalid as error:
        return Response().say(Reply(str(error)), prompt(draft, turn.zone))
    return _advance(turn, draft, value, None)


async def press(turn: Turn, draft: Draft, pressed: DraftPress) -> Response:
    """A button of the current step (the revision was checked); anything else changes nothing."""
    if pressed.step == "cancel":
        return await abandon(turn)
    if pressed.step == "create" and draft.step == "summary":
        return await _create(turn, draft)
    step, choice = pressed.step, pressed.choice or ""
    if step != draft.step:
        return stale()
    if step == "kind" and choice in KINDS:
        return _advance(turn, draft, choice, _(KIND_LABELS[choice]))
    if step == "description" and choice == "skip":
        return _advance(turn, draft, "", _("Skip"))
    if step == "repeat" and choice in REPEATS:
        first = datetime.fromisoformat(draft.data["when"])
        return _advance(turn, draft, choice, describe_repeat(repeat_rule(choice, first), first))
    if step == "duration" and choice in {str(n) for n in DURATIONS}:
        return _advance(turn, draft, int(choice), minutes(int(choice)))
    if step == "capacity" and choice in ("none", str(HOMEWORK_PLACES)):
        places = None if choice == "none" else HOMEWORK_PLACES
        return _advance(turn, draft, places, _("No limit") if places is None else choice)
    return stale()


async def _create(turn: Turn, draft: Draft) -> Response:
    activity = activity_of(draft.data)
    if activity.starts_local.replace(tzinfo=turn.zone) <= turn.moment:
        draft.step = "when"  # the draft waited too long: ask for a new date, keep the rest
        draft.revision += 1
        text = _("That moment has already passed: please type a date to come.")
        return Response(close_buttons=True).say(Reply(text), prompt(draft, turn.zone))
    if await twin(turn.session, activity) is not None:
        await drop(turn)
        text = _("There is already an activity of this kind called “{title}” starting then. "
                 "Nothing was created.")  # fmt: skip
        return Response(close_buttons=True).say(Reply(text.format(title=isolate(activity.title))))
    turn.session.add(activity)
    await drop(turn)
    await turn.session.flush()
    turn.schedule_changed = True
    text = _("Created: {title}. Residents can sign up from now on; see /activities.")
    response = Response(chosen=_("Create"), close_buttons=True)
    return response.say(Reply(text.format(title=isolate(activity.title))))
