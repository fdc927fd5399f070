"""Signing up for an activity: a name for the list, a child's age for homework groups, and a
place or a place on the waiting list."""

from __future__ import annotations

from sqlmodel import col, select

from bot import i18n
from bot.activities import enrolments
from bot.activities.agenda import places_line, running_activity
from bot.activities.enrolments import MAX_NAME
from bot.activities.schedule import title_in
from bot.buttons import Agenda
from bot.i18n import _, isolate
from bot.outgoing import Button, Reply, Response
from bot.residents.conversation import Conversation
from db.models import Activity, ActivityKind, ActivityStatus, Enrolment, EnrolmentStatus


def ask_name(activity: Activity) -> Reply:
    if activity.kind == ActivityKind.HOMEWORK:
        text = _("What is your child's first name?")
    else:
        text = _("What name should we write on the list? A first name is enough.")
    return Reply(text, ((Button(_("Cancel"), Agenda("quit").pack()),),))


def ask_age() -> Reply:
    return Reply(_("How old is the child? Write the age in years, e.g. 9."))


async def current_question(convo: Conversation) -> Reply | None:
    """The question a half-answered sign-up waits on; None if it cannot go on any more."""
    assert convo.resident is not None
    draft = convo.resident.signup or {}
    activity = await running_activity(convo, _activity_id(draft))
    if activity is None:
        convo.resident.signup = None
        return None
    age = draft.get("age")
    if draft.get("step") == "group" and isinstance(age, int):
        return await offer_groups(convo, age)
    return ask_age() if draft.get("step") == "age" else ask_name(activity)


async def begin(convo: Conversation, activity: Activity) -> Response:
    """The resident tapped "Sign up"."""
    resident = convo.resident
    assert resident is not None and activity.id is not None
    if convo.intake is not None:
        return Response().say(
            Reply(_("Please finish your request first, or stop it with /cancel."))
        )
    if activity.kind != ActivityKind.HOMEWORK and await _already(convo, activity, None):
        return Response().say(Reply(_("You are already on the list.")))
    resident.signup = {"activity": activity.id, "step": "name"}
    return Response(chosen=_("Sign up"), close_buttons=True).say(ask_name(activity))


async def answer_text(convo: Conversation, text: str) -> Response:
    """Typed text while signing up: the name, then (homework) the age."""
    resident = convo.resident
    assert resident is not None and resident.signup is not None
    draft = dict(resident.signup)
    activity = await running_activity(convo, _activity_id(draft))
    if activity is None:
        resident.signup = None
        return Response().say(Reply(_("This activity no longer takes sign-ups.")))
    if draft.get("step") == "name":
        name = " ".join(text.split())
        if not name or len(name) > MAX_NAME or any(c.isdigit() for c in name):
            error = _("Please write just a first name, in letters.")
            return Response().say(Reply(error), ask_name(activity))
        if activity.kind != ActivityKind.HOMEWORK:
            resident.signup = None
            return await _join(convo, activity, name, None)
        resident.signup = draft | {"step": "age", "name": name}
        return Response().say(ask_age())
    age = text.strip()
    if not age.isdigit() or not 0 <= int(age) <= 17:
        return Response().say(Reply(_("Please write the age as a number from 0 to 17.")))
    resident.signup = draft | {"step": "group", "age": int(age)}
    return Response().say(await offer_groups(convo, int(age)))


async def offer_groups(convo: Conversation, age: int) -> Reply:
    """The homework groups that fit the child's age, with their places."""
    statement = (
        select(Activity)
        .where(
            Activity.kind == ActivityKind.HOMEWORK,
            Activity.status == ActivityStatus.ACTIVE,
            col(Activity.age_min) <= age,
            col(Activity.age_max) >= age,
        )
        .order_by(col(Activity.starts_local))
    )
    groups = (await convo.session.exec(statement)).all()
    if not groups:
        assert convo.resident is not None
        convo.resident.signup = None
        return Reply(
            _("We have no homework group for age {age} at the moment. See /activities.").format(
                age=age
            )
        )
    lines = [_("These groups are for age {age}:").format(age=age)]
    buttons = []
    for group in groups:
        title = title_in(group, i18n.current_language())
        lines.append(f"• {isolate(title)}: {await places_line(convo, group)}")
        buttons.append((Button(title, Agenda("pick", group.id).pack()),))
    buttons.append((Button(_("Cancel"), Agenda("quit").pack()),))
    return Reply("\n".join(lines), tuple(buttons))


async def pick(convo: Conversation, activity_id: int | None) -> Response | None:
    """A homework group chosen from the offer; None if the press does not fit the sign-up."""
    resident = convo.resident
    assert resident is not None
    draft = resident.signup or {}
    activity = await running_activity(convo, activity_id)
    age = draft.get("age")
    if (
        draft.get("step") != "group"
        or activity is None
        or activity.kind != ActivityKind.HOMEWORK
        or not isinstance(age, int)
        or not (activity.age_min or 0) <= age <= (activity.age_max or 17)
    ):
        return None
    resident.signup = None
    response = await _join(convo, activity, str(draft.get("name", "")), age)
    response.chosen = title_in(activity, i18n.current_language())
    response.close_buttons = True
    return response


def quit_signup(convo: Conversation) -> Response:
    assert convo.resident is not None
    convo.resident.signup = None
    return Response(chosen=_("Cancel"), close_buttons=True).say(
        Reply(_("All right, no sign-up. See /activities when you like."))
    )


async def _already(convo: Conversation, activity: Activity, name: str | None) -> bool:
    """Signed up already: the resident (or, for homework, this child) has a place or waits."""
    assert convo.resident is not None
    for enrolment in await enrolments.of_resident(convo.session, convo.resident):
        same_child = name is None or enrolment.name.casefold() == name.casefold()
        if enrolment.activity_id == activity.id and same_child:
            return True
    return False


async def _join(convo: Conversation, activity: Activity, name: str, age: int | None) -> Response:
    assert convo.resident is not None and activity.id is not None
    if await _already(convo, activity, name if activity.kind == ActivityKind.HOMEWORK else None):
        return Response().say(Reply(_("{name} is already on the list.").format(name=name)))
    locked = await enrolments.lock(convo.session, activity.id)
    assert locked is not None
    enrolment = await enrolments.sign_up(
        convo.session, locked, convo.resident, name, age, convo.clock()
    )
    title = isolate(title_in(activity, i18n.current_language()))
    if enrolment.status == EnrolmentStatus.ENROLLED:
        text = _(
            "Done: {name} has a place in {title}. We will remind you before each meeting."
        ).format(name=isolate(name), title=title)
    else:
        position = await _position(convo, enrolment)
        text = _(
            "{title} is full. {name} is number {position} on the waiting list: we will write to "
            "you as soon as a place is free."
        ).format(title=title, name=isolate(name), position=position)
    buttons = ((Button(_("Add to calendar"), Agenda("ics", activity.id).pack()),),)
    return Response().say(
        Reply(text, buttons if enrolment.status == EnrolmentStatus.ENROLLED else ())
    )


async def _position(convo: Conversation, enrolment: Enrolment) -> int:
    waiting = [
        e
        for e in await enrolments.of_activity(convo.session, enrolment.activity_id)
        if e.status != EnrolmentStatus.ENROLLED
    ]
    return next(i for i, e in enumerate(waiting, 1) if e.id == enrolment.id)


def _activity_id(draft: dict[str, object]) -> int | None:
    """The activity a sign-up in progress is for (kept in the resident's row)."""
    found = draft.get("activity")
    return found if isinstance(found, int) else None
