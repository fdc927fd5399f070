"""Leases in the database: the one process that does a piece of work for the whole deployment.

Several `helpdesk serve` workers may share one PostgreSQL; the outbox's paced sender, the
reminders and the nudges must still run once. A lease is a row naming its holder and when it
lapses: the holder renews it well before then, and when a holder dies its lease lapses and
another worker takes it. Taking and renewing are one conditional write each, so two workers
can never both believe they hold it (PostgreSQL re-reads a row another transaction changed
before updating it; SQLite has one writer at a time). On SQLite, the one process holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from db.models import Lease
from db.session import Sessions, insert_or_ignore

log = logging.getLogger(__name__)

TERM = timedelta(seconds=15)  # how long a lease lasts unless renewed
LAPSED = datetime(2000, 1, 1, tzinfo=UTC)


async def _nothing() -> None:
    return None


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


async def release(sessions: Sessions, name: str, holder: str, forget: bool = False) -> None:
    """Let the lease go at once (a clean stop), so that another process need not wait for it
    to lapse; `forget` removes its row (a lease of passing work, not to be kept)."""
    async with sessions() as session, session.begin():
        mine = (col(Lease.name) == name, col(Lease.holder) == holder)
        if forget:
            await session.exec(delete(Lease).where(*mine))
        else:
            await session.exec(update(Lease).where(*mine).values(expires_at=LAPSED))


async def take_from(
    sessions: Sessions, name: str, holder: str, gone: str, moment: datetime, term: timedelta = TERM
) -> bool:
    """Take the lease from `gone`, a holder known to be dead, without waiting for it to lapse;
    whether `holder` now holds it (not if another took it first)."""
    moment = moment.astimezone(UTC)
    async with sessions() as session, session.begin():
        taken = await session.exec(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == gone)
            .values(holder=holder, expires_at=moment + term)
        )
        return bool(taken.rowcount)


def ended_here(holder: str) -> bool:
    """Whether a holder (named by holder_name) was a process of this machine that has ended: a
    process that restarts after a crash need not wait for its own old lease to lapse. Each
    machine must have a name of its own (containers do)."""
    host, _, pid = holder.rpartition("-")[0].rpartition("-")
    if host != _host() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # an earlier process of this one's number (a container started again)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _host() -> str:
    return socket.gethostname()[:40]


def holder_name() -> str:
    """A name for a holder that no other process has: the machine's, the process's and a
    random tag (two help desks in one process, as tests run them)."""
    return f"{_host()}-{os.getpid()}-{secrets.token_hex(2)}"


async def holder_of(sessions: Sessions, name: str, moment: datetime) -> str | None:
    """Who holds the lease now, if anyone."""
    async with sessions() as session:
        found = await session.get(Lease, name)
    if found is None:
        return None
    expires = found.expires_at if found.expires_at.tzinfo else found.expires_at.replace(tzinfo=UTC)
    return found.holder if expires > moment else None


class Leadership:
    """A lease held for as long as this process lives: tried at once and every third of its
    term, so that it is renewed well before it lapses, and taken over soon after another
    holder's lapsed. `on_gained` and `on_lost` run when that changes; a database that cannot be
    reached counts as lost (a holder that cannot renew must not go on as if it led)."""

    def __init__(
        self,
        sessions: Sessions,
        name: str,
        holder: str,
        clock: Callable[[], datetime],
        on_gained: Callable[[], Awaitable[None]] = _nothing,
        on_lost: Callable[[], Awaitable[None]] = _nothing,
        term: timedelta = TERM,
    ) -> None:
        self.sessions, self.name, self.holder, self.clock = sessions, name, holder, clock
        self.on_gained, self.on_lost, self.term = on_gained, on_lost, term
        self.leading = False
        self._renewed = 0.0  # time.monotonic() of the last renewal
        self._task: asyncio.Task[None] | None = None

    async def begin(self) -> None:
        """Try at once (a process alone takes the lease before it serves anyone: everything it
        leads has started when this returns), then keep trying in the background."""
        await self._try()
        self._task = asyncio.create_task(self._keep(), name=f"lease {self.name}")

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(first=True), name=f"lease {self.name}")

    def sure(self) -> bool:
        """Whether this process may still act as the holder: it leads and renewed the lease less
        than two thirds of a term ago. A process that stalled (a long pause, a slow database)
        stops at once rather than at its next try, which may come after another took over."""
        fresh = time.monotonic() - self._renewed < self.term.total_seconds() * 2 / 3
        return self.leading and fresh

    async def stop(self) -> None:
        """Stop trying; let the lease go if held, so that another takes it at once."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.leading:
            self.leading = False
            await self.on_lost()
            with contextlib.suppress(OSError, SQLAlchemyError):  # it lapses by itself then
                await release(self.sessions, self.name, self.holder)

    async def _keep(self, first: bool = False) -> None:
        if first:
            await self._try()
        while True:
            await asyncio.sleep(self.term.total_seconds() / 3)
            await self._try()

    async def _take_from_the_dead(self) -> bool:
        """Take the lease at once from a process of this machine that has ended."""
        moment = self.clock()
        current = await holder_of(self.sessions, self.name, moment)
        if current is None or current == self.holder or not ended_here(current):
            return False
        return await take_from(self.sessions, self.name, self.holder, current, moment, self.term)

    async def _try(self) -> None:
        tried = time.monotonic()
        try:
            held = await hold(self.sessions, self.name, self.holder, self.clock(), self.term)
            if not held:
                held = await self._take_from_the_dead()
        except (OSError, SQLAlchemyError):
            log.warning("the lease %s could not be renewed: the database did not answer", self.name)
            held = False
        if held:
            self._renewed = tried  # measured from before the write: the lease may be older
        if held == self.leading:
            return
        self.leading = held
        log.info("this process %s %s", "now does" if held else "no longer does", self.name)
        try:
            await (self.on_gained if held else self.on_lost)()
        except Exception:
            log.exception(
                "the work of %s could not be %s", self.name, "started" if held else "stopped"
            )
            if held:  # another process may manage it: let the lease go, and try again later
                self.leading = False
                with contextlib.suppress(OSError, SQLAlchemyError):
                    await release(self.sessions, self.name, self.holder)
