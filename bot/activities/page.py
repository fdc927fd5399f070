"""How organisers see their activities: the list, and each one's page with who comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot import i18n
from bot.activities import enrolments
from bot.activities.form import Turn
from bot.activities.text import describe, own_words
from bot.buttons import ActivityAction, AllActivities
from bot.i18n import N_, _, isolate, ngettext
from bot.outgoing import Button, Reply
from db.models import Activity, ActivityStatus, Enrolment, EnrolmentStatus

AHEAD = timedelta(days=366)  # how far the next dates are looked for
STATUS_LABELS = {ActivityStatus.ACTIVE: N_("active"), ActivityStatus.PAUSED: N_("paused")}


async def activity_list(turn: Turn) -> Reply:
    statement = (
        select(Activity)
        .where(Activity.status != ActivityStatus.CANCELLED)
        .order_by(col(Activity.starts_local), col(Activity.id))
    )
    found = (await turn.session.exec(statement)).all()
    if not found:
        return Reply(_("There are no activities. Create one with /newactivity."))
    lines, buttons = [_("Activities:")], []
    for activity in found:
        coming = await next_dates(turn, activity, 1)
        when = (
            _("next: {when}").format(when=i18n.format_occurrence(coming[0], turn.zone))
            if coming
            else _("no dates ahead")
        )
        status = _(STATUS_LABELS.get(activity.status, activity.status))
        lines.append(f"• {isolate(activity.title)} · {status} · {when}")
        buttons.append(
            (Button(_short(activity.title), ActivityAction(activity.id or 0, "view").pack()),)
        )
    return Reply("\n".join(lines), tuple(buttons))


def _short(title: str) -> str:
    return title if len(title) <= 40 else title[:39] + "…"


async def next_dates(turn: Turn, activity: Activity, count: int) -> list[datetime]:
    # From the first date when it is still far off, so that its next dates are found too.
    after = max(turn.moment, activity.starts_local.replace(tzinfo=turn.zone))
    coming = await enrolments.upcoming(turn.session, activity, turn.zone, after, after + AHEAD)
    return coming[:count]


async def page(turn: Turn, activity: Activity) -> Reply:
    """An activity as its organiser follows it: who signed up, their answers, who waits."""
    assert activity.id is not None
    coming = await next_dates(turn, activity, 1)
    status = _(STATUS_LABELS.get(activity.status, activity.status))
    lines = [*own_words(activity), _("Status: {status}").format(status=status)]
    lines += describe(activity, turn.zone)
    if coming:
        lines.append(_("Next: {when}").format(when=i18n.format_occurrence(coming[0], turn.zone)))
    else:
        lines.append(_("No dates ahead."))
    people = await enrolments.of_activity(turn.session, activity.id)
    enrolled = [person for person in people if person.status == EnrolmentStatus.ENROLLED]
    waiting = [person for person in people if person.status == EnrolmentStatus.WAITING]
    taken = len(enrolled)
    if activity.capacity is None:
        lines.append(_("Places taken: {taken} (no limit)").format(taken=taken))
    else:
        lines.append(
            _("Places taken: {taken} of {capacity}").format(taken=taken, capacity=activity.capacity)
        )
    lines.append(_("On the waiting list: {count}").format(count=len(waiting)))
    rsvps = (
        await enrolments.answers(turn.session, activity.id, coming[0].astimezone(UTC))
        if coming
        else {}
    )
    if enrolled:
        lines += ["", _("Signed up:")]
        lines += [
            f"{n}. {_who(person)} – {_rsvp(rsvps.get(person.id or 0))}"
            for n, person in enumerate(enrolled, 1)
        ]
    if waiting:
        lines += ["", _("Waiting:")]
        lines += [f"{n}. {_who(person)}" for n, person in enumerate(waiting, 1)]
    return Reply("\n".join(lines), _page_buttons(activity))


def _who(person: Enrolment) -> str:
    if person.age is None:
        return isolate(person.name)
    return ngettext("{name} ({age} year)", "{name} ({age} years)", person.age).format(
        name=isolate(person.name), age=person.age
    )


def _rsvp(coming: bool | None) -> str:
    if coming is None:
        return _("no answer yet")
    return _("✓ coming") if coming else _("✗ not coming")


def _page_buttons(activity: Activity) -> tuple[tuple[Button, ...], ...]:
    def act(label: str, action: str) -> Button:
        return Button(label, ActivityAction(activity.id or 0, action).pack())

    paused = activity.status == ActivityStatus.PAUSED
    return (
        (act(_("▶ Resume"), "resume") if paused else act(_("⏸ Pause"), "pause"),),
        (act(_("Cancel a date"), "dates"), act(_("Change"), "change")),
        (act(_("Cancel the activity"), "end"),),
        (Button(_("« All activities"), AllActivities().pack()),),
    )
