"""Messages to residents that are not answers (reminders, promotions, cancellations), kept in a
durable outbox so that a restart neither loses nor repeats one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channel import Outcome
from db.models import DeliveryReport, Outbox, OutboxKind, OutboxStatus, Resident
from db.session import insert_or_ignore


@dataclass(frozen=True)
class Message:
    """One message to queue: `key` names it, so queueing the same key twice queues it once."""

    key: str
    resident_id: int
    kind: OutboxKind
    payload: dict[str, Any]
    status: OutboxStatus = OutboxStatus.QUEUED
    broadcast_id: int | None = None  # the broadcast it is part of


async def queue(session: AsyncSession, messages: Sequence[Message], moment: datetime) -> int:
    """Add the messages whose key is new, as queued at `moment`; how many were added."""
    if not messages:
        return 0
    moment = moment.astimezone(UTC)  # stored as UTC: SQLite would keep a local time as it is
    rows = [
        {
            "key": message.key,
            "resident_id": message.resident_id,
            "kind": message.kind,
            "payload": message.payload,
            "status": message.status,
            "created_at": moment,
            "broadcast_id": message.broadcast_id,
        }
        for message in messages
    ]
    # One statement run over all the rows: SQLAlchemy compiles it once and batches the rows,
    # where a statement with every row in its VALUES would be compiled anew each time.
    statement = insert_or_ignore(session, Outbox).returning(col(Outbox.id))
    connection = await session.connection()
    return len((await connection.execute(statement, rows)).all())


@dataclass(frozen=True)
class Queued:
    """A queued message with what its sender needs to know about the resident."""

    row: Outbox
    channel: str  # the channel the resident writes on, and their id there
    user_id: str
    language: str | None
    wanted: bool  # False once the resident said /stop or blocked the bot
    last_inbound_at: datetime | None = None  # when they last wrote (a channel's window)


async def take(
    session: AsyncSession, limit: int, channels: Iterable[str], after_id: int = 0
) -> list[Queued]:
    """The oldest queued messages to residents of these channels, in the order they were queued.

    Those of a channel that is not running are left for when it is, and never hide the others.
    """
    statement = (
        select(Outbox, Resident)
        .join(Resident, col(Resident.id) == col(Outbox.resident_id))
        .where(
            Outbox.status == OutboxStatus.QUEUED,
            col(Outbox.id) > after_id,
            col(Resident.channel).in_(list(channels)),
        )
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    return [
        Queued(
            row,
            resident.channel,
            resident.channel_user_id,
            resident.language,
            _wanted(row, resident),
            resident.last_inbound_at,
        )
        for row, resident in (await session.exec(statement)).all()
    ]


# What a resident who said /stop still gets: what is about them, not notices for everyone.
_PERSONAL = (OutboxKind.PROMOTED, OutboxKind.RELAY, OutboxKind.NEWS)


def _wanted(row: Outbox, resident: Resident) -> bool:
    return resident.reachable and not (resident.stopped and row.kind not in _PERSONAL)


async def mark(
    session: AsyncSession,
    outbox_id: int,
    status: OutboxStatus,
    moment: datetime,
    reference: str | None = None,
) -> None:
    """The row's outcome; `reference`: the platform's id for what was sent, which the
    platform's later statuses (delivered, read, failed) name."""
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == outbox_id, col(Outbox.status) == OutboxStatus.QUEUED)
        .values(
            status=status,
            sent_at=None if status == OutboxStatus.HELD else moment,
            platform_message_id=reference,
        )
    )


async def release(session: AsyncSession, resident_id: int) -> int:
    """The resident wrote: what was held for them is queued again; how many messages."""
    result = await session.exec(
        update(Outbox)
        .where(col(Outbox.resident_id) == resident_id, col(Outbox.status) == OutboxStatus.HELD)
        .values(status=OutboxStatus.QUEUED)
    )
    return int(result.rowcount or 0)


async def holds(session: AsyncSession, resident_id: int, kind: OutboxKind) -> bool:
    """Whether a message of this kind already waits for the resident to write."""
    statement = select(Outbox.id).where(
        Outbox.resident_id == resident_id,
        Outbox.status == OutboxStatus.HELD,
        Outbox.kind == kind,
    )
    return (await session.exec(statement.limit(1))).first() is not None


# A report for a message only ever precedes its row's id by the moments the sender takes to
# save it; one older than this was about a message the outbox did not send (an answer).
REPORTS_KEPT = timedelta(minutes=10)
# The statuses a platform reports of a message, in the order they come; "failed" can follow any.
PROGRESS = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


class Reported(StrEnum):
    APPLIED = "applied"  # kept on its row
    AGAIN = "again"  # kept on its row, which is to be sent again
    KEPT = "kept"  # no row knows the message yet: kept for `settle`


async def report(
    session: AsyncSession,
    reference: str,
    status: str,
    problem: Outcome | None,
    moment: datetime,
) -> Reported:
    """A platform's later word on a message it took (`status`: sent, delivered, read or failed,
    with the `problem` when it failed).

    A report that names no outbox row yet may be about one the sender has just sent and not
    marked: it is kept for `settle` to find.
    """
    row = await _sent_as(session, reference)
    if row is not None:
        return Reported.AGAIN if await _apply(session, row, status, problem) else Reported.APPLIED
    session.add(
        DeliveryReport(reference=reference, status=status, problem=problem, received_at=moment)
    )
    await session.exec(
        delete(DeliveryReport).where(col(DeliveryReport.received_at) < moment - REPORTS_KEPT)
    )
    return Reported.KEPT


async def settle(session: AsyncSession, reference: str) -> bool:
    """Apply the reports about `reference` that came before its row knew it; whether a message
    is to be sent again.

    Called by the sender once its mark is committed, and by the webhook once a report it kept
    is committed: whichever comes second finds both, so none is lost; applying one twice
    changes nothing more.
    """
    reports = (
        await session.exec(
            select(DeliveryReport)
            .where(DeliveryReport.reference == reference)
            .order_by(col(DeliveryReport.id))
        )
    ).all()
    row = await _sent_as(session, reference)
    if not reports or row is None:
        return False
    again = False
    for found in reports:
        problem = Outcome(found.problem) if found.problem else None
        again |= await _apply(session, row, found.status, problem)
    ids = [found.id for found in reports]
    await session.exec(delete(DeliveryReport).where(col(DeliveryReport.id).in_(ids)))
    return again


async def _sent_as(session: AsyncSession, reference: str) -> Outbox | None:
    """The outbox row whose message the platform knows by `reference`, once it is marked."""
    found = await session.exec(select(Outbox).where(Outbox.platform_message_id == reference))
    return found.first()


async def _apply(session: AsyncSession, row: Outbox, status: str, problem: Outcome | None) -> bool:
    """The report kept on its row. A message that found the resident's window closed (WhatsApp
    takes it, then reports it failed) goes again, as its template this time, or waits for them
    to write; a number that cannot receive makes the resident unreachable, as a block does on
    Telegram; a volunteer's message, once delivered, leaves nothing of its words behind."""
    if problem is Outcome.WINDOW_CLOSED and row.status == OutboxStatus.SENT:
        row.status, row.sent_at, row.platform_message_id = OutboxStatus.QUEUED, None, None
        row.delivery = None
        await session.exec(
            update(Resident).where(col(Resident.id) == row.resident_id).values(last_inbound_at=None)
        )
        return True
    if PROGRESS[status] > PROGRESS.get(row.delivery or "", 0):
        row.delivery = status
    if row.kind == OutboxKind.RELAY and status in ("delivered", "read"):
        row.payload = {}
    if problem is Outcome.BLOCKED:
        await mark_unreachable(session, row.resident_id)
    return False


async def mark_unreachable(session: AsyncSession, resident_id: int) -> None:
    """The resident blocked the bot: nothing more is tried until they write again."""
    await session.exec(
        update(Resident).where(col(Resident.id) == resident_id).values(reachable=False)
    )


async def count_queued(session: AsyncSession) -> int:
    """How many messages wait to be sent (for /metrics)."""
    statement = select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.QUEUED)
    return int((await session.exec(statement)).one())
