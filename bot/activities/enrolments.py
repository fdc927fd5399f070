"""Places in activities: signing up, the waitlist and its promotions, leaving, cancellations."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities.schedule import occurrences
from bot.i18n import aware
from bot.outbox import store as outbox
from db.models import (
    Activity,
    ActivityStatus,
    Cancellation,
    Enrolment,
    EnrolmentStatus,
    OutboxKind,
    Resident,
    Rsvp,
)

MAX_NAME = 40


@dataclass(frozen=True)
class Counts:
    enrolled: int
    waiting: int

    def free(self, activity: Activity) -> int | None:
        """Places left; None when the activity has no limit."""
        if activity.capacity is None:
            return None
        return max(activity.capacity - self.enrolled, 0)


async def counts(session: AsyncSession, activity_id: int) -> Counts:
    statement = (
        select(Enrolment.status, func.count())
        .where(Enrolment.activity_id == activity_id)
        .group_by(col(Enrolment.status))
    )
    found = dict((await session.exec(statement)).all())
    return Counts(found.get(EnrolmentStatus.ENROLLED, 0), found.get(EnrolmentStatus.WAITING, 0))


async def lock(session: AsyncSession, activity_id: int) -> Activity | None:
    """The activity, locked until the transaction ends, so two sign-ups never share a place.

    (PostgreSQL takes a row lock; SQLite has one writer at a time anyway.)
    """
    statement = select(Activity).where(Activity.id == activity_id).with_for_update()
    return (await session.exec(statement)).first()


def occurrence_key(occurrence: datetime) -> str:
    """An occurrence as it appears in button data and outbox keys: its UTC start, to the minute."""
    return occurrence.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def parse_occurrence(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


async def sign_up(
    session: AsyncSession,
    activity: Activity,
    resident: Resident,
    name: str,
    age: int | None,
    moment: datetime,
) -> Enrolment:
    """A place if one is free, else a place on the waitlist. Lock the activity first."""
    assert activity.id is not None and resident.id is not None
    moment = utc(moment)  # stored as UTC: SQLite would keep a local time as it is
    taken = await counts(session, activity.id)
    free = taken.free(activity)
    full = free is not None and (free == 0 or taken.waiting > 0)
    enrolment = Enrolment(
        activity_id=activity.id,
        resident_id=resident.id,
        name=name.strip()[:MAX_NAME],
        age=age,
        status=EnrolmentStatus.WAITING if full else EnrolmentStatus.ENROLLED,
        created_at=moment,
        enrolled_at=None if full else moment,
    )
    session.add(enrolment)
    await session.flush()
    return enrolment


async def leave(session: AsyncSession, enrolment: Enrolment, moment: datetime) -> list[Enrolment]:
    """Give up a place (or a place on the waitlist); those promoted to the freed place."""
    activity = await lock(session, enrolment.activity_id)
    await session.delete(enrolment)
    await session.flush()
    if activity is None or enrolment.status == EnrolmentStatus.WAITING:
        return []
    return await promote(session, activity, moment)


async def promote(session: AsyncSession, activity: Activity, moment: datetime) -> list[Enrolment]:
    """Move people from the waitlist into free places, first come first served, and tell them."""
    assert activity.id is not None
    moment = utc(moment)
    free = (await counts(session, activity.id)).free(activity)
    statement = (
        select(Enrolment)
        .where(Enrolment.activity_id == activity.id, Enrolment.status == EnrolmentStatus.WAITING)
        .order_by(col(Enrolment.created_at), col(Enrolment.id))
    )
    if free is not None:
        statement = statement.limit(free)
    promoted = list((await session.exec(statement)).all())
    for enrolment in promoted:
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.enrolled_at = moment
    await outbox.queue(
        session,
        [
            outbox.Message(
                f"promoted:{enrolment.id}",
                enrolment.resident_id,
                OutboxKind.PROMOTED,
                {"activity": activity.id, "enrolment": enrolment.id, "name": enrolment.name},
            )
            for enrolment in promoted
        ],
        moment,
    )
    await session.flush()
    return promoted


async def of_resident(session: AsyncSession, resident: Resident) -> list[Enrolment]:
    statement = (
        select(Enrolment)
        .where(Enrolment.resident_id == resident.id)
        .order_by(col(Enrolment.activity_id), col(Enrolment.id))
    )
    return list((await session.exec(statement)).all())


async def of_activity(session: AsyncSession, activity_id: int) -> list[Enrolment]:
    """Everyone on the list, then everyone waiting, each in the order they came."""
    statement = (
        select(Enrolment)
        .where(Enrolment.activity_id == activity_id)
        .order_by(col(Enrolment.status), col(Enrolment.created_at), col(Enrolment.id))
    )
    return list((await session.exec(statement)).all())


async def answers(session: AsyncSession, activity_id: int, occurrence: datetime) -> dict[int, bool]:
    """Who said they will come (True) or not (False) to one occurrence, by enrolment."""
    statement = (
        select(Rsvp.enrolment_id, Rsvp.coming)
        .join(Enrolment, col(Enrolment.id) == col(Rsvp.enrolment_id))
        .where(Enrolment.activity_id == activity_id, Rsvp.occurrence == occurrence)
    )
    return dict((await session.exec(statement)).all())


async def answer(
    session: AsyncSession,
    enrolment: Enrolment,
    occurrence: datetime,
    coming: bool,
    moment: datetime,
) -> None:
    """Record (or change) a resident's answer to a reminder."""
    existing = await session.get(Rsvp, (enrolment.id, occurrence))
    if existing is None:
        assert enrolment.id is not None
        session.add(Rsvp(enrolment_id=enrolment.id, occurrence=occurrence, coming=coming))
    else:
        existing.coming = coming
        existing.answered_at = utc(moment)


async def called_off(
    session: AsyncSession, activity_ids: Collection[int] | None = None
) -> dict[int, set[datetime]]:
    """The cancelled dates of some activities (None: of all), by activity, in UTC."""
    statement = select(Cancellation.activity_id, Cancellation.occurrence)
    if activity_ids is not None:
        statement = statement.where(col(Cancellation.activity_id).in_(activity_ids))
    found: dict[int, set[datetime]] = {}
    for activity_id, moment in (await session.exec(statement)).all():
        found.setdefault(activity_id, set()).add(utc(moment))
    return found


async def cancelled(session: AsyncSession, activity_id: int) -> set[datetime]:
    return (await called_off(session, [activity_id])).get(activity_id, set())


def utc(moment: datetime) -> datetime:
    """A timestamp in UTC, as everything is stored (SQLite hands them back without a zone)."""
    return aware(moment).astimezone(UTC)


async def upcoming(
    session: AsyncSession, activity: Activity, zone: ZoneInfo, moment: datetime, until: datetime
) -> list[datetime]:
    """The occurrences still to come before `until`, without the cancelled ones."""
    assert activity.id is not None
    skipped = await cancelled(session, activity.id)
    return taking_place(activity, skipped, zone, moment, until)


def taking_place(
    activity: Activity, skipped: set[datetime], zone: ZoneInfo, moment: datetime, until: datetime
) -> list[datetime]:
    """The occurrences between two instants that are not among the `skipped` (cancelled) ones."""
    return [
        when
        for when in occurrences(activity, zone, moment, until)
        if when.astimezone(UTC) not in skipped
    ]


async def cancel_occurrence(
    session: AsyncSession, activity: Activity, occurrence: datetime, moment: datetime
) -> int:
    """Call off one occurrence and tell everyone with a place; how many will be told."""
    assert activity.id is not None
    occurrence = occurrence.astimezone(UTC)
    if await session.get(Cancellation, (activity.id, occurrence)) is not None:
        return 0
    session.add(Cancellation(activity_id=activity.id, occurrence=occurrence))
    return await _tell_everyone(
        session, activity, f"cancelled:{activity.id}:{occurrence_key(occurrence)}",
        OutboxKind.OCCURRENCE_CANCELLED, {"occurrence": occurrence_key(occurrence)},
        statuses=(EnrolmentStatus.ENROLLED,), moment=moment,
    )  # fmt: skip


async def cancel_activity(session: AsyncSession, activity: Activity, moment: datetime) -> int:
    """Call off the whole activity and tell everyone, on the list or waiting for a place."""
    activity.status = ActivityStatus.CANCELLED
    return await _tell_everyone(
        session, activity, f"ended:{activity.id}", OutboxKind.ACTIVITY_CANCELLED, {},
        statuses=(EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING), moment=moment,
    )  # fmt: skip


async def announce_change(session: AsyncSession, activity: Activity, moment: datetime) -> int:
    """Tell everyone signed up or waiting that the date or the place changed."""
    assert activity.id is not None
    return await _tell_everyone(
        session, activity, f"changed:{activity.id}:{occurrence_key(moment)}",
        OutboxKind.ACTIVITY_CHANGED, {},
        statuses=(EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING), moment=moment,
    )  # fmt: skip


async def _tell_everyone(
    session: AsyncSession,
    activity: Activity,
    key: str,
    kind: OutboxKind,
    payload: dict[str, str],
    statuses: tuple[EnrolmentStatus, ...],
    moment: datetime,
) -> int:
    assert activity.id is not None
    statement = select(Enrolment).where(
        Enrolment.activity_id == activity.id, col(Enrolment.status).in_(statuses)
    )
    people = (await session.exec(statement)).all()
    return await outbox.queue(
        session,
        [
            outbox.Message(
                f"{key}:{enrolment.id}",
                enrolment.resident_id,
                kind,
                {"activity": activity.id, "enrolment": enrolment.id, "name": enrolment.name}
                | payload,
            )
            for enrolment in people
        ],
        moment,
    )
