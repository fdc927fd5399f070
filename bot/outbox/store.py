"""Messages to residents that are not answers (reminders, promotions, cancellations), kept in a
durable outbox so that a restart neither loses nor repeats one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Outbox, OutboxKind, OutboxStatus, Resident
from db.session import insert_or_ignore


@dataclass(frozen=True)
class Message:
    """One message to queue: `key` names it, so queueing the same key twice queues it once."""

    key: str
    resident_id: int
    kind: OutboxKind
    payload: dict[str, Any]
    status: OutboxStatus = OutboxStatus.QUEUED


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
        )
        for row, resident in (await session.exec(statement)).all()
    ]


def _wanted(row: Outbox, resident: Resident) -> bool:
    return resident.reachable and not (resident.stopped and row.kind != OutboxKind.PROMOTED)


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
        .values(status=status, sent_at=moment, platform_message_id=reference)
    )


async def mark_unreachable(session: AsyncSession, resident_id: int) -> None:
    """The resident blocked the bot: nothing more is tried until they write again."""
    await session.exec(
        update(Resident).where(col(Resident.id) == resident_id).values(reachable=False)
    )


async def count_queued(session: AsyncSession) -> int:
    """How many messages wait to be sent (for /metrics)."""
    statement = select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.QUEUED)
    return int((await session.exec(statement)).one())
