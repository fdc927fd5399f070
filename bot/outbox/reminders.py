"""When reminders are due, and queueing each one exactly once.

The schedule is computed from the activities in the database, never kept anywhere else: a
reminder is one "slot" (an occurrence and an offset before it), and each person it goes to gets
one outbox row whose key names the enrolment, the occurrence and the offset. The row is written
in the transaction that finds the reminder due, so finding it due again after a restart, or in
two checks at once, queues nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from bot.activities.enrolments import called_off, occurrence_key, taking_place
from bot.config import Settings
from bot.outbox import store as outbox
from db.models import (
    Activity,
    ActivityStatus,
    Enrolment,
    EnrolmentStatus,
    OutboxKind,
    OutboxStatus,
    Resident,
)

log = logging.getLogger(__name__)

# How far back a check looks for reminders it may have missed while the bot was stopped: those
# older than the grace window are recorded as skipped (and logged) once, however long the stop.
LOOK_BACK = timedelta(days=2)


@dataclass(frozen=True, order=True)
class Slot:
    """One reminder of one occurrence, for everyone with a place."""

    send_at: datetime  # UTC, after the quiet hours moved it
    activity_id: int
    occurrence: datetime  # UTC
    offset: timedelta


def send_time(
    occurrence: datetime, offset: timedelta, zone: ZoneInfo, quiet: tuple[time, time] | None
) -> datetime:
    """When the reminder `offset` before `occurrence` goes out, in UTC.

    Offsets count wall-clock time in the zone: 24 hours before Monday 16:30 is Sunday 16:30,
    even on the night the clocks change. A time inside the quiet hours moves earlier, to the
    moment they begin, never later and never away.
    """
    local = occurrence.astimezone(zone).replace(tzinfo=None) - offset
    if quiet is not None:
        local = _before_quiet(local, *quiet)
    return local.replace(tzinfo=zone).astimezone(UTC)


def _before_quiet(local: datetime, start: time, end: time) -> datetime:
    """The latest time not after `local` that is outside the quiet hours (start, end)."""
    clock = local.time()
    if start < end:  # e.g. 13:00-15:00, within one day
        quiet = start < clock < end
        day = local.date()
    else:  # e.g. 21:00-08:00, across midnight
        quiet = clock > start or clock < end
        day = local.date() if clock > start else local.date() - timedelta(days=1)
    return datetime.combine(day, start) if quiet else local


def slots(
    activity: Activity,
    cancelled: set[datetime],
    settings: Settings,
    after: datetime,
    before: datetime,
) -> list[Slot]:
    """The reminders of an activity that go out between two instants."""
    assert activity.id is not None
    widest = max(settings.reminder_offsets, default=timedelta(0))
    # Quiet hours move a reminder at most a day earlier.
    latest = before + widest + timedelta(days=1)
    found = []
    for local in taking_place(activity, cancelled, settings.timezone, after, latest):
        occurrence = local.astimezone(UTC)
        for offset in settings.reminder_offsets:
            moment = send_time(occurrence, offset, settings.timezone, settings.quiet_hours)
            if after <= moment < before and moment < occurrence:
                found.append(Slot(moment, activity.id, occurrence, offset))
    return found


async def schedule(
    session: AsyncSession, settings: Settings, after: datetime, before: datetime
) -> list[Slot]:
    """Every reminder of every running activity between two instants, in the order they go."""
    active = (
        await session.exec(select(Activity).where(Activity.status == ActivityStatus.ACTIVE))
    ).all()
    cancelled = await called_off(session)
    found: list[Slot] = []
    for activity in active:
        assert activity.id is not None
        found.extend(slots(activity, cancelled.get(activity.id, set()), settings, after, before))
    return sorted(found)


async def next_reminder(
    session: AsyncSession, settings: Settings, moment: datetime, within: timedelta
) -> Slot | None:
    """The first reminder after `moment` that someone would receive, if any within `within`."""
    for slot in await schedule(session, settings, moment, moment + within):
        if slot.send_at > moment and await _someone_to_remind(session, slot):
            return slot
    return None


async def _someone_to_remind(session: AsyncSession, slot: Slot) -> bool:
    return (await session.exec(_recipients(slot).limit(1))).first() is not None


@dataclass(frozen=True)
class Checked:
    queued: int  # reminders queued for sending by this check
    skipped: int  # reminders found too late, recorded so that they are never sent
    next_at: datetime | None  # when the next reminder falls due, if any in the horizon


async def queue_due(
    session: AsyncSession,
    settings: Settings,
    moment: datetime,
    horizon: timedelta,
    since: datetime | None = None,
) -> Checked:
    """Queue every reminder due at `moment` that is not queued yet; skip those found too late.

    A reminder is due from its send time for `settings.reminder_grace`, and never once its
    occurrence has begun. People who took their place after the send time are not reminded:
    they chose the date a moment ago. `since`: an earlier check of this process already dealt
    with everything due before then (at start, there is none, and the check looks back).
    """
    after = moment - LOOK_BACK if since is None else max(since, moment - LOOK_BACK)
    due = await schedule(session, settings, after, moment + horizon)
    queued = skipped = 0
    next_at = None
    for slot in due:
        if slot.send_at > moment:
            next_at = slot.send_at if next_at is None else min(next_at, slot.send_at)
            continue
        late = moment - slot.send_at > settings.reminder_grace or moment >= slot.occurrence
        added = await _queue_slot(session, slot, late, moment)
        if late and added:
            skipped += added
            log.warning(
                "skipped %d reminders of activity %s for %s: found %s after their time",
                added,
                slot.activity_id,
                occurrence_key(slot.occurrence),
                _minutes(moment - slot.send_at),
            )
        else:
            queued += added
    return Checked(queued, skipped, next_at)


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


def _recipients(slot: Slot) -> Select[int | None, int, str]:
    """Who a reminder goes to: those with a place taken before its time, who still listen."""
    return (
        select(Enrolment.id, Enrolment.resident_id, Enrolment.name)
        .join(Resident, col(Resident.id) == col(Enrolment.resident_id))
        .where(
            Enrolment.activity_id == slot.activity_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            col(Enrolment.enrolled_at) <= slot.send_at,
            col(Resident.stopped).is_(False),
            col(Resident.reachable).is_(True),
        )
    )


async def _queue_slot(session: AsyncSession, slot: Slot, late: bool, moment: datetime) -> int:
    people = (await session.exec(_recipients(slot))).all()
    occurrence = occurrence_key(slot.occurrence)
    minutes = int(slot.offset.total_seconds() // 60)
    return await outbox.queue(
        session,
        [
            outbox.Message(
                key=f"reminder:{enrolment_id}:{occurrence}:{minutes}",
                resident_id=resident_id,
                kind=OutboxKind.REMINDER,
                payload={
                    "activity": slot.activity_id,
                    "enrolment": enrolment_id,
                    "occurrence": occurrence,
                    "name": name,
                },
                status=OutboxStatus.SKIPPED if late else OutboxStatus.QUEUED,
            )
            for enrolment_id, resident_id, name in people
        ],
        moment,
    )
