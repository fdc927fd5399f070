"""Exports for the organisers' network, the Municipio and funders: CSV with no free text and no
personal field, unless an organiser explicitly asks for the children's names.

Cases: one row per request, its resident named by a pseudonym that holds within one export
only (R1, R2, … in the order of their first request), never by a platform's id. Activities:
per activity and date, how many hold a place, wait for one, and answered the reminder "I'll
come" or "I can't"; with names, one row per person and date instead.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities.enrolments import called_off, utc
from bot.activities.schedule import occurrences
from bot.desk import Desk
from bot.i18n import _, aware
from bot.outgoing import Attachment, Reply
from db.models import Activity, Case, Enrolment, EnrolmentStatus, Rsvp

CASE_COLUMNS = (
    "resident",
    "kind",
    "district",
    "language",
    "channel",
    "opened",
    "claimed",
    "closed",
    "status",
    "outcome",
    "queue",
)
ACTIVITY_COLUMNS = (
    "activity",
    "title",
    "kind",
    "date",
    "cancelled",
    "places",
    "waiting",
    "coming",
    "not_coming",
    "no_answer",
)
NAMED_COLUMNS = ("activity", "title", "kind", "date", "cancelled", "name", "place", "answer")
ANSWERS = {True: "coming", False: "not coming", None: ""}
AHEAD = timedelta(days=7)  # the dates to come that an activities export shows


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _csv(header: tuple[str, ...], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


async def cases_csv(session: AsyncSession, zone: ZoneInfo, since: datetime | None = None) -> str:
    """Every request opened since `since` (all without it), oldest first."""
    statement = select(Case).order_by(col(Case.id))
    if since is not None:
        statement = statement.where(col(Case.created_at) >= since)
    pseudonyms: dict[int, str] = {}
    rows: list[list[object]] = []
    for case in (await session.exec(statement)).all():
        resident = ""
        if case.resident_id is not None:  # an erased resident is nobody, not even a pseudonym
            resident = pseudonyms.setdefault(case.resident_id, f"R{len(pseudonyms) + 1}")
        rows.append(
            [
                resident,
                case.kind,
                case.district or "",
                case.language,
                case.channel or "",
                _local(case.created_at, zone),
                _local(case.claimed_at, zone),
                _local(case.closed_at, zone),
                case.status,
                case.outcome or "",
                case.queue or "",
            ]
        )
    return _csv(CASE_COLUMNS, rows)


async def activities_csv(
    session: AsyncSession,
    zone: ZoneInfo,
    moment: datetime,
    since: datetime | None = None,
    with_names: bool = False,
) -> str:
    """Each activity's dates from `since` (else its start) to a week after `moment`."""
    activities = (await session.exec(select(Activity).order_by(col(Activity.id)))).all()
    enrolments = (await session.exec(select(Enrolment).order_by(col(Enrolment.id)))).all()
    answers = {
        (rsvp.enrolment_id, utc(rsvp.occurrence)): rsvp.coming
        for rsvp in (await session.exec(select(Rsvp))).all()
    }
    cancelled = await called_off(session)
    rows: list[list[object]] = []
    for activity in activities:
        assert activity.id is not None
        theirs = [e for e in enrolments if e.activity_id == activity.id]
        start = since or activity.starts_local.replace(tzinfo=zone)
        for when in occurrences(activity, zone, start, moment + AHEAD):
            first = [activity.id, activity.title, activity.kind, _local(when, zone)]
            first.append("yes" if utc(when) in cancelled.get(activity.id, set()) else "")
            held = [e for e in theirs if _held_on(e, when)]
            waiting = [e for e in theirs if e.status == EnrolmentStatus.WAITING]
            said = [answers.get((e.id or 0, utc(when))) for e in held]
            if with_names:
                for enrolment in [*held, *waiting]:
                    answer = answers.get((enrolment.id or 0, utc(when)))
                    place = "yes" if enrolment in held else "waiting"
                    rows.append([*first, enrolment.name, place, ANSWERS[answer]])
                continue
            count = Counter(said)
            rows.append([*first, len(held), len(waiting), count[True], count[False], count[None]])
    return _csv(NAMED_COLUMNS if with_names else ACTIVITY_COLUMNS, rows)


def _held_on(enrolment: Enrolment, when: datetime) -> bool:
    """Whether the enrolment held a place on that date (it holds one now, taken before)."""
    if enrolment.status != EnrolmentStatus.ENROLLED:
        return False
    taken = enrolment.enrolled_at or enrolment.created_at
    return aware(taken) <= when


async def cases_file(desk: Desk) -> Reply:
    """/export for an organiser: every request as a CSV file (in the current locale)."""
    async with desk.sessions() as session:
        table = await cases_csv(session, desk.settings.timezone)
    count = table.count("\n") - 1
    day = desk.clock().astimezone(desk.settings.timezone).date().isoformat()
    text = _(
        "Requests: {count}, one row each. No names and no messages: each resident is R1, R2… "
        "within this file only."
    ).format(count=count)
    return Reply(text, attachment=Attachment(f"requests-{day}.csv", table.encode()))
