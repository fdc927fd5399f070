"""What organisers do with activities in their chat: the list, an activity's page, changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot import activity_form, enrolments, i18n
from bot.activity_form import Invalid, Turn, button, cancel_row, stale
from bot.activity_page import activity_list, next_dates, page
from bot.i18n import N_, _, isolate, ngettext
from bot.outgoing import Button, Reply, Response
from db.models import Activity, ActivityDraft

DATES_OFFERED = 5
# What organisers find in their command menu, besides what residents find there.
COMMANDS = (
    ("newactivity", N_("Create an activity")),
    ("activities", N_("Your activities: who comes, changes, cancellations")),
)
FIELDS = {
    "title": N_("Title"),
    "place": N_("Place"),
    "when": N_("Date and time"),
    "capacity": N_("Places"),
}
COLUMNS = {"title": "title", "place": "place", "when": "starts_local", "capacity": "capacity"}
_DRAFT = re.compile(r"o:d:(\d{1,9}):([a-z]{1,12}(?::[a-z0-9]{1,12})?)")
_ACTIVITY = re.compile(r"o:a:(\d{1,9}):([a-z]{1,8})(?::(\d{8}T\d{4}Z))?")


async def press(turn: Turn, data: str) -> Response:
    """An organiser's button; its data is untrusted, and anything stale changes nothing."""
    if data == "o:list":
        return Response(edit=await activity_list(turn))
    found = _DRAFT.fullmatch(data)
    if found is not None:
        draft = turn.draft
        if draft is None or draft.revision != int(found[1]):
            return stale()
        if draft.activity_id is None:
            return await activity_form.press(turn, draft, found[2])
        return await _change_press(turn, draft, found[2])
    found = _ACTIVITY.fullmatch(data)
    if found is None:
        return stale()
    activity = await enrolments.lock(turn.session, int(found[1]))
    if activity is None or activity.status == "cancelled":
        return stale()
    return await _act(turn, activity, found[2], found[3])


async def answer(turn: Turn, text: str | None) -> Response:
    """What the organiser typed (None: not text) for the draft in progress."""
    draft = turn.draft
    assert draft is not None
    if draft.activity_id is None:
        return activity_form.type_text(turn, draft, text)
    return await _change_text(turn, draft, text)


async def cancel(turn: Turn) -> Response:
    return await activity_form.abandon(turn)


# -- the list and the pages --------------------------------------------------------------------


async def show_activities(turn: Turn) -> Response:
    """/activities: every activity not cancelled, with its next date, one button each."""
    return Response().say(await activity_list(turn))


# -- what can be done to an activity -----------------------------------------------------------


async def _act(turn: Turn, activity: Activity, action: str, occurrence: str | None) -> Response:
    """One button of an activity's page, the activity locked and still there."""
    if action == "view":
        return Response().say(await page(turn, activity))
    if action == "back":
        return Response(edit=await page(turn, activity))
    if action in ("pause", "resume"):
        return await _pause(turn, activity, paused=action == "pause")
    if action == "dates":
        return await _dates(turn, activity)
    if action == "skip" and occurrence is not None:
        return await _skip(turn, activity, occurrence)
    if action == "change":
        return _begin_change(turn, activity)
    if action == "end":
        return await _ask_end(turn, activity)
    if action == "endyes":
        return await _end(turn, activity)
    return stale()


async def _pause(turn: Turn, activity: Activity, paused: bool) -> Response:
    if activity.status != ("active" if paused else "paused"):
        return stale()
    activity.status = "paused" if paused else "active"
    turn.schedule_changed = True
    notice = (
        _("Paused: no reminders, and residents no longer see it.") if paused else _("Active again.")
    )
    return Response(edit=await page(turn, activity), notice=notice)


async def _dates(turn: Turn, activity: Activity) -> Response:
    coming = await next_dates(turn, activity, DATES_OFFERED)
    if not coming:
        return Response(notice=_("There are no dates ahead to cancel."))
    text = _("Which date of {title} do you want to cancel?").format(title=isolate(activity.title))
    rows = tuple(
        (
            Button(
                i18n.format_occurrence(when, turn.zone),
                f"o:a:{activity.id}:skip:{enrolments.occurrence_key(when)}",
            ),
        )
        for when in coming
    )
    back = (Button(_("« Back"), f"o:a:{activity.id}:back"),)
    return Response(edit=Reply(text, (*rows, back)))


async def _skip(turn: Turn, activity: Activity, key: str) -> Response:
    occurrence = enrolments.parse_occurrence(key)
    coming = {when.astimezone(UTC) for when in await next_dates(turn, activity, 10**4)}
    if occurrence is None or occurrence not in coming:
        return stale()
    told = await enrolments.cancel_occurrence(turn.session, activity, occurrence)
    turn.schedule_changed, turn.notices_queued = True, told > 0
    when = i18n.format_occurrence(occurrence, turn.zone)
    text = ngettext(
        "{title} on {when} is cancelled. {count} person will be told.",
        "{title} on {when} is cancelled. {count} people will be told.",
        told,
    ).format(title=isolate(activity.title), when=when, count=told)
    return Response(chosen=when, close_buttons=True).say(Reply(text))


async def _ask_end(turn: Turn, activity: Activity) -> Response:
    assert activity.id is not None
    taken = await enrolments.counts(turn.session, activity.id)
    people = taken.enrolled + taken.waiting
    text = ngettext(
        "Cancel {title} for good? {count} person signed up or waiting will be told.",
        "Cancel {title} for good? {count} people signed up or waiting will be told.",
        people,
    ).format(title=isolate(activity.title), count=people)
    buttons = (
        (Button(_("Yes, cancel"), f"o:a:{activity.id}:endyes"),),
        (Button(_("No, keep it"), f"o:a:{activity.id}:back"),),
    )
    return Response(edit=Reply(text, buttons))


async def _end(turn: Turn, activity: Activity) -> Response:
    told = await enrolments.cancel_activity(turn.session, activity)
    if turn.draft is not None and turn.draft.activity_id == activity.id:
        await activity_form.drop(turn)
    turn.schedule_changed, turn.notices_queued = True, told > 0
    text = ngettext(
        "{title} is cancelled. {count} person will be told.",
        "{title} is cancelled. {count} people will be told.",
        told,
    ).format(title=isolate(activity.title), count=told)
    return Response(chosen=_("Yes, cancel"), close_buttons=True).say(Reply(text))


# -- changing one field ------------------------------------------------------------------------


def _begin_change(turn: Turn, activity: Activity) -> Response:
    if turn.draft is not None and turn.draft.activity_id is None:
        text = _("You are creating an activity: finish it, or send /cancel, first.")
        return Response().say(Reply(text))
    draft = activity_form.begin(turn, "change", activity.id)
    return Response(close_buttons=True).say(_field_picker(draft, activity))


def _field_picker(draft: ActivityDraft, activity: Activity) -> Reply:
    text = _("What do you want to change in {title}?").format(title=isolate(activity.title))
    fields = tuple((button(_(label), draft, f"field:{field}"),) for field, label in FIELDS.items())
    return Reply(text, (*fields, cancel_row(draft)))


def _change_prompt(draft: ActivityDraft, activity: Activity) -> Reply:
    if draft.step == "change":
        return _field_picker(draft, activity)
    if draft.step == "capacity":
        return activity_form.capacity_prompt(draft, activity.kind == "homework")
    questions = {
        "title": _("Type the new title."),
        "place": _("Type the new place."),
        "when": _("Type the new first date and time, like 24/11/2026 16:30."),
    }
    return Reply(questions[draft.step], (cancel_row(draft),))


async def _changing(turn: Turn, draft: ActivityDraft) -> Activity | None:
    """The activity the draft changes, locked; the draft is dropped if it has gone."""
    activity = await enrolments.lock(turn.session, draft.activity_id or 0)
    if activity is None or activity.status == "cancelled":
        await activity_form.drop(turn)
        return None
    return activity


async def _change_press(turn: Turn, draft: ActivityDraft, value: str) -> Response:
    if value == "cancel":
        return await activity_form.abandon(turn)
    activity = await _changing(turn, draft)
    if activity is None:
        return stale()
    step, _sep, choice = value.partition(":")
    if draft.step == "change" and step == "field" and choice in FIELDS:
        draft.step = choice
        draft.revision += 1
        response = Response(chosen=_(FIELDS[choice]), close_buttons=True)
        return response.say(_change_prompt(draft, activity))
    if draft.step == "capacity" and value == "capacity:none":
        return await _save(turn, activity, "capacity", None)
    if draft.step == "capacity" and value == f"capacity:{activity_form.HOMEWORK_PLACES}":
        return await _save(turn, activity, "capacity", activity_form.HOMEWORK_PLACES)
    return stale()


async def _change_text(turn: Turn, draft: ActivityDraft, text: str | None) -> Response:
    activity = await _changing(turn, draft)
    if activity is None:
        return Response().say(Reply(_("This activity is no longer there.")))
    try:
        return await _save(turn, activity, draft.step, activity_form.read(turn, draft.step, text))
    except Invalid as error:
        return Response().say(Reply(str(error)), _change_prompt(draft, activity))


async def _save(turn: Turn, activity: Activity, field: str, value: object) -> Response:
    """Change one field; raise Invalid if the activity would clash with another."""
    assert activity.id is not None
    before = (activity.title, activity.starts_local)
    setattr(
        activity, COLUMNS[field], datetime.fromisoformat(str(value)) if field == "when" else value
    )
    if field in ("title", "when") and await activity_form.clash(turn.session, activity):
        activity.title, activity.starts_local = before
        raise Invalid(_("Another activity of this kind has this title and first date."))
    lines = [_("Saved.")]
    if field == "capacity":
        lines += await _after_capacity(turn, activity)
    if field in ("when", "place"):
        told = await enrolments.announce_change(turn.session, activity, turn.moment)
        turn.notices_queued = bool(told)
        if told:
            lines.append(ngettext(
                "{count} person signed up will be told.",
                "{count} people signed up will be told.",
                told,
            ).format(count=told))  # fmt: skip
    await activity_form.drop(turn)
    turn.schedule_changed = True
    return Response(close_buttons=True).say(Reply("\n".join(lines)), await page(turn, activity))


async def _after_capacity(turn: Turn, activity: Activity) -> list[str]:
    """More places go to the waiting list at once; fewer take no one's place away."""
    assert activity.id is not None
    promoted = await enrolments.promote(turn.session, activity, turn.moment)
    turn.notices_queued = bool(promoted)
    lines = []
    if promoted:
        lines.append(ngettext(
            "{count} person from the waiting list got a place and will be told.",
            "{count} people from the waiting list got a place and will be told.",
            len(promoted),
        ).format(count=len(promoted)))  # fmt: skip
    enrolled = (await enrolments.counts(turn.session, activity.id)).enrolled
    if activity.capacity is not None and enrolled > activity.capacity:
        lines.append(ngettext(
            "{count} person is signed up, more than the places: nobody is removed, and new "
            "sign-ups wait for a free place.",
            "{count} people are signed up, more than the places: nobody is removed, and new "
            "sign-ups wait for a free place.",
            enrolled,
        ).format(count=enrolled))  # fmt: skip
    return lines
