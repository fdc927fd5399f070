"""How an activity is put in words: its kind, how often it repeats, its summary."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot import i18n
from bot.i18n import N_, _, isolate, ngettext
from db.models import Activity

KIND_LABELS = {
    "homework": N_("Homework group"),
    "theatre": N_("Theatre lab"),
    "event": N_("Neighbourhood event"),
    "meeting": N_("Meeting"),
}
# The week of the month of a start, as RFC 5545 counts it: a 5th week is the month's last.
MONTHLY_ON = {
    1: N_("Every month on the first {weekday}"),
    2: N_("Every month on the second {weekday}"),
    3: N_("Every month on the third {weekday}"),
    4: N_("Every month on the fourth {weekday}"),
    -1: N_("Every month on the last {weekday}"),
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MONTHLY_RULE = re.compile(r"FREQ=MONTHLY;BYDAY=(\+?[1-4]|-1)(MO|TU|WE|TH|FR|SA|SU)")


def repeat_rule(choice: str, start: datetime) -> str:
    """The Activity.repeat for a button of the repeat step and the activity's first date."""
    if choice != "weekday":
        return choice
    week = (start.day - 1) // 7 + 1
    return f"FREQ=MONTHLY;BYDAY={-1 if week == 5 else week:+d}{WEEKDAYS[start.weekday()]}"


def describe_repeat(repeat: str, start: datetime) -> str:
    if repeat == "none":
        return _("Only once")
    if repeat == "weekly":
        return _("Every week")
    if repeat == "monthly":
        return _("Every month on day {day}").format(day=start.day)
    found = _MONTHLY_RULE.fullmatch(repeat.removeprefix("RRULE:"))
    if found is None:
        return isolate(repeat)  # an RRULE from an organiser's file, shown as written
    weekday = get_day_names("wide", locale=i18n.current_language())[WEEKDAYS.index(found[2])]
    return _(MONTHLY_ON[int(found[1])]).format(weekday=weekday)


def own_words(activity: Activity) -> list[str]:
    """The title and description as the organiser wrote them, and which languages have their own."""
    lines = [isolate(activity.title)]
    if activity.description:
        lines.append(activity.description)
    written = [code for code, texts in activity.translations.items() if any(texts.values())]
    if written:
        names = ", ".join(i18n.language_name(code) for code in sorted(written))
        lines.append(_("Also written in: {languages}").format(languages=names))
    return lines


def describe(activity: Activity, zone: ZoneInfo) -> list[str]:
    """The lines saying what an activity is, for the summary and the activity's page."""
    first = activity.starts_local.replace(tzinfo=zone)
    lines = [
        _("Kind: {kind}").format(kind=_(KIND_LABELS.get(activity.kind, activity.kind))),
        _("Place: {place}").format(place=isolate(activity.place or "–")),
        _("First date: {when}").format(when=i18n.format_occurrence(first, zone)),
        _("Repeats: {repeat}").format(repeat=describe_repeat(activity.repeat, first)),
        _("Length: {minutes}").format(minutes=minutes(activity.duration_minutes)),
    ]
    places = activity.capacity
    lines.append(
        _("Places: no limit") if places is None else _("Places: {count}").format(count=places)
    )
    if activity.age_min is not None and activity.age_max is not None:
        ages = _("Ages: {youngest}–{oldest}")
        lines.append(ages.format(youngest=activity.age_min, oldest=activity.age_max))
    return lines


def minutes(count: int) -> str:
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)
