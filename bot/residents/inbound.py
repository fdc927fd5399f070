"""Messages from residents kept from the moment a webhook delivers them until they are answered.

A channel whose webhook must answer at once (WhatsApp) stores each message first, answers the
platform, then applies the message and sends its answer. The stored row goes from received to
applied (its effects committed in the same transaction as its answer) to answered, so that a
crash at any point loses nothing and applies nothing twice: a received message is applied after
a restart, an applied one is answered, and a message delivered again is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Inbound, InboundStatus
from db.session import Sessions, insert_or_ignore


@dataclass(frozen=True)
class Received:
    """One message as the webhook delivered it."""

    message_key: str  # the platform's id for the message: the same when delivered again
    sender: str  # the channel's id for the resident
    payload: dict[str, Any]


async def store(
    session: AsyncSession, channel: str, messages: Iterable[Received], moment: datetime
) -> int:
    """Keep messages not kept yet; how many were new."""
    rows = [
        {
            "channel": channel,
            "message_key": message.message_key,
            "sender": message.sender,
            "payload": message.payload,
            "received_at": moment,
            "status": InboundStatus.RECEIVED,
        }
        for message in messages
    ]
    if not rows:
        return 0
    connection = await session.connection()
    result = await connection.execute(insert_or_ignore(session, Inbound).values(rows))
    return int(result.rowcount or 0)


async def next_of(sessions: Sessions, channel: str, sender: str) -> Inbound | None:
    """The oldest message of a resident that is not answered yet."""
    async with sessions() as session:
        statement = (
            select(Inbound)
            .where(
                Inbound.channel == channel,
                Inbound.sender == sender,
                Inbound.status != InboundStatus.ANSWERED,
            )
            .order_by(col(Inbound.received_at), col(Inbound.message_key))
            .limit(1)
        )
        return (await session.exec(statement)).first()


async def waiting_senders(
    sessions: Sessions, channel: str, before: datetime | None = None
) -> list[str]:
    """Everyone with a message not answered yet (after a restart: what the last run left), or
    with one received before `before` (what nobody took up in time)."""
    async with sessions() as session:
        statement = (
            select(Inbound.sender)
            .where(Inbound.channel == channel, Inbound.status != InboundStatus.ANSWERED)
            .distinct()
        )
        if before is not None:
            statement = statement.where(col(Inbound.received_at) < before)
        return list((await session.exec(statement)).all())


async def applied(session: AsyncSession, row: Inbound, answer: list[Any]) -> None:
    """Record, in the transaction of its effects, that a message was applied and its answer."""
    await session.exec(
        update(Inbound)
        .where(col(Inbound.channel) == row.channel, col(Inbound.message_key) == row.message_key)
        .values(status=InboundStatus.APPLIED, answer=answer)
    )


async def answered(sessions: Sessions, row: Inbound) -> None:
    """The answer went out: only the message's id stays, to know it if it comes again (not who
    sent it, nor what it said)."""
    async with sessions() as session, session.begin():
        await session.exec(
            update(Inbound)
            .where(
                col(Inbound.channel) == row.channel,
                col(Inbound.message_key) == row.message_key,
            )
            .values(status=InboundStatus.ANSWERED, sender="", payload={}, answer=None)
        )
