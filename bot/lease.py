"""Leases in the database: the one process that does a piece of work for the whole deployment.

Several `helpdesk serve` workers may share one PostgreSQL; the outbox's paced sender, the
reminders and the nudges must still run once. A lease is a row naming its holder and when it
lapses: the holder renews it well before then, and when a holder dies its lease lapses and
another worker takes it. Taking and renewing are one conditional write each, so two workers
can never both believe they hold it (PostgreSQL re-reads a row another transaction changed
before updating it; SQLite has one writer at a time). On SQLite, the one process holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col

from db.models import Lease
from db.session import Sessions, insert_or_ignore

TERM = timedelta(seconds=15)  # how long a lease lasts unless renewed
LAPSED = datetime(2000, 1, 1, tzinfo=UTC)


async def hold(
    sessions: Sessions, name: str, holder: str, moment: datetime, term: timedelta = TERM
) -> bool:
    """Take the lease if nobody holds it or its holder let it lapse, or renew it if `holder`
    has it; whether `holder` holds it until `moment + term`."""
    moment = moment.astimezone(UTC)  # stored as UTC: SQLite would keep a local time as it is
    until = moment + term
    async with sessions() as session, session.begin():
        renewed = await session.exec(
            update(Lease)
            .where(
                col(Lease.name) == name,
                or_(col(Lease.holder) == holder, col(Lease.expires_at) <= moment),
            )
            .values(holder=holder, expires_at=until)
        )
        if renewed.rowcount:
            return True
        statement = insert_or_ignore(session, Lease).values(
            name=name, holder=holder, expires_at=until
        )
        taken = await session.exec(statement)
        return bool(taken.rowcount)


async def release(sessions: Sessions, name: str, holder: str) -> None:
    """Let the lease go at once (a clean stop), so that another process need not wait for it
    to lapse."""
    async with sessions() as session, session.begin():
        await session.exec(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == holder)
            .values(expires_at=LAPSED)
        )


async def holder_of(sessions: Sessions, name: str, moment: datetime) -> str | None:
    """Who holds the lease now, if anyone."""
    async with sessions() as session:
        found = await session.get(Lease, name)
    if found is None:
        return None
    expires = found.expires_at if found.expires_at.tzinfo else found.expires_at.replace(tzinfo=UTC)
    return found.holder if expires > moment else None
