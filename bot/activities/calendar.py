"""An activity as an iCalendar file, so that residents can add it to their phone's calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from bot.activities.schedule import description_in, rule_of, title_in
from db.models import Activity

PRODUCT = "-//Sportello//Activities//EN"


def ics(
    activity: Activity,
    language: str,
    zone: ZoneInfo,
    cancelled: set[datetime],
    moment: datetime,
) -> bytes:
    """One event, repeating as the activity does, in the deployment's time zone, made at `moment`.

    The start carries its zone (not UTC), so calendars keep a weekly 16:30 at 16:30 across
    daylight-saving changes; cancelled dates are left out.
    """
    event = Event()
    event.add("uid", f"activity-{activity.id}@sportello")
    event.add("dtstamp", moment)
    event.add("summary", title_in(activity, language))
    start = activity.starts_local.replace(tzinfo=zone)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=activity.duration_minutes))
    if activity.place:
        event.add("location", activity.place)
    description = description_in(activity, language)
    if description:
        event.add("description", description)
    rule = rule_of(activity.repeat)
    if rule is not None:
        event.add("rrule", vRecur.from_ical(rule))
        for moment in sorted(cancelled):
            event.add("exdate", moment.astimezone(zone))
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
