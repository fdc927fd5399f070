"""What the outbox's messages say, in the language of the resident they go to."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import i18n
from bot.activities.enrolments import parse_occurrence
from bot.activities.schedule import next_occurrence, title_in
from bot.buttons import Rsvp
from bot.i18n import _, isolate
from bot.outgoing import Button, Reply, Template, news
from db.models import Activity, ActivityKind, ActivityStatus, Outbox, OutboxKind


def render(
    row: Outbox,
    activity: Activity | None,
    zone: ZoneInfo,
    moment: datetime,
    called_off: Collection[datetime] = (),
) -> Reply | None:
    """The message for an outbox row, in the current locale; None if it no longer applies.

    `called_off`: the activity's cancelled dates. A reminder queued before its date or its
    activity was called off, or paused, is not sent, nor one still queued when its date has
    begun (the bot was stopped in between).

    Each says how it goes as a template, for a resident whose WhatsApp window has closed; a
    volunteer's message has none, and waits for the resident to write.
    """
    if row.kind == OutboxKind.RELAY:
        header, text = row.payload.get("header"), row.payload.get("text")
        return Reply(f"{header}\n\n{text}") if header and text else None
    if row.kind in (OutboxKind.NEWS, OutboxKind.BROADCAST):
        text = row.payload.get("text")
        return notice(str(text)) if text else None
    if activity is None:
        return None
    title = isolate(title_in(activity, i18n.current_language()))
    name = isolate(row.payload.get("name", ""))
    occurrence = parse_occurrence(str(row.payload.get("occurrence", "")))
    when = i18n.format_occurrence(occurrence, zone) if occurrence else ""
    if row.kind == OutboxKind.REMINDER:
        if (
            occurrence is None
            or occurrence <= moment
            or activity.status != ActivityStatus.ACTIVE
            or occurrence in called_off
        ):
            return None
        return _reminder(row, activity, title, name, when)
    if row.kind == OutboxKind.PROMOTED:
        return notice(
            _(
                "Good news: a place has become free in {title}, and it is yours ({name}). "
                "You will get a reminder before each meeting. See /activities."
            ).format(title=title, name=name)
        )
    if row.kind == OutboxKind.OCCURRENCE_CANCELLED:
        text = _("{title} on {when} is cancelled. We are sorry. The next ones stay as planned.")
        return notice(text.format(title=title, when=when))
    if row.kind == OutboxKind.ACTIVITY_CHANGED:
        upcoming = next_occurrence(activity, zone, moment)
        lines = [_("{title} has changed.").format(title=title)]
        if upcoming is not None:
            lines.append(_("Next: {when}").format(when=i18n.format_occurrence(upcoming, zone)))
        if activity.place:
            lines.append(_("Where: {place}").format(place=isolate(activity.place)))
        return notice("\n".join(lines))
    if row.kind == OutboxKind.ACTIVITY_CANCELLED:
        text = _("{title} has been cancelled. We are sorry. See /activities for what else is on.")
        return notice(text.format(title=title))
    return None


def notice(text: str) -> Reply:
    return news(text, i18n.current_language())


def _reminder(row: Outbox, activity: Activity, title: str, name: str, when: str) -> Reply:
    lines = [_("Reminder: {title}").format(title=title), when]
    if activity.place:
        lines.append(_("Where: {place}").format(place=isolate(activity.place)))
    if activity.kind == ActivityKind.HOMEWORK:
        lines.append(_("For: {name}").format(name=name))
    lines.append(_("Will you come?"))
    enrolment_id = int(row.payload["enrolment"])
    occurrence = parse_occurrence(str(row.payload["occurrence"]))
    assert occurrence is not None  # written by the reminder check itself
    come, skip = (Rsvp(enrolment_id, occurrence, answer).pack() for answer in ("yes", "no"))
    return Reply(
        "\n".join(lines),
        ((Button(_("I'll come"), come), Button(_("I can't this time"), skip)),),
        template=Template("reminder", i18n.current_language(), (title, when), (come, skip)),
    )
