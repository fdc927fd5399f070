"""How an activity is put in words: its kind, how often it repeats, its summary."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import i18n
from bot.i18n import N_, _, isolate, ngettext
from db.models import Activity, ActivityKind

KIND_LABELS: dict[str, str] = {
    ActivityKind.HOMEWORK: N_("Homework group"),
    ActivityKind.THEATRE: N_("Theatre lab"),
    ActivityKind.EVENT: N_("Neighbourhood event"),
    ActivityKind.MEETING: N_("Meeting"),
}
# The week of the month of a start, as RFC 5545 counts it: a 5th week is the month's last.
# One message per weekday: in many languages the ordinal agrees with the weekday's gender
# ("la prima domenica", "il primo martedì").
MONTHLY_ON = {
    (1, "MO"): N_("Every month on the first Monday"),
    (1, "TU"): N_("Every month on the first Tuesday"),
    (1, "WE"): N_("Every month on the first Wednesday"),
    (1, "TH"): N_("Every month on the first Thursday"),
    (1, "FR"): N_("Every month on the first Friday"),
    (1, "SA"): N_("Every month on the first Saturday"),
    (1, "SU"): N_("Every month on the first Sunday"),
    (2, "MO"): N_("Every month on the second Monday"),
    (2, "TU"): N_("Every month on the second Tuesday"),
    (2, "WE"): N_("Every month on the second Wednesday"),
    (2, "TH"): N_("Every month on the second Thursday"),
    (2, "FR"): N_("Every month on the second Friday"),
    (2, "SA"): N_("Every month on the second Saturday"),
    (2, "SU"): N_("Every month on the second Sunday"),
    (3, "MO"): N_("Every month on the third Monday"),
    (3, "TU"): N_("Every month on the third Tuesday"),
    (3, "WE"): N_("Every month on the third Wednesday"),
    (3, "TH"): N_("Every month on the third Thursday"),
    (3, "FR"): N_("Every month on the third Friday"),
    (3, "SA"): N_("Every month on the third Saturday"),
    (3, "SU"): N_("Every month on the third Sunday"),
    (4, "MO"): N_("Every month on the fourth Monday"),
    (4, "TU"): N_("Every month on the fourth Tuesday"),
    (4, "WE"): N_("Every month on the fourth Wednesday"),
    (4, "TH"): N_("Every month on the fourth Thursday"),
    (4, "FR"): N_("Every month on the fourth Friday"),
    (4, "SA"): N_("Every month on the fourth Saturday"),
    (4, "SU"): N_("Every month on the fourth Sunday"),
    (-1, "MO"): N_("Every month on the last Monday"),
    (-1, "TU"): N_("Every month on the last Tuesday"),
    (-1, "WE"): N_("Every month on the last Wednesday"),
    (-1, "TH"): N_("Every month on the last Thursday"),
    (-1, "FR"): N_("Every month on the last Friday"),
    (-1, "SA"): N_("Every month on the last Saturday"),
    (-1, "SU"): N_("Every month on the last Sunday"),
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
    return _(MONTHLY_ON[int(found[1]), found[2]])


def own_words(activity: Activity) -> list[str]:
    """The title and description as the organiser wrote them, and which languages have their own."""
    lines = [isolate(activity.title)]
    if activity.description:
        lines.append(activity.description)
    written = [code for code, texts in activity.translations.items() if any(texts.values())]
    if written:
        names = i18n.format_list(isolate(i18n.language_name(code)) for code in sorted(written))
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
