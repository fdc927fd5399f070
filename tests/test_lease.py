"""Leases on SQLite and PostgreSQL: one holder at a time, renewed while alive, taken over once
lapsed, let go at a clean stop; and many workers racing for a lapsed one, one of them wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from bot import lease
from db.models import Lease
from db.session import create_engine, session_factory

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
TERM = timedelta(seconds=15)


async def test_one_holder_at_a_time_renewed_then_taken_over_once_lapsed(sessions: Any) -> None:
    assert await lease.hold(sessions, "outbox", "worker-a", T0)
    assert not await lease.hold(sessions, "outbox", "worker-b", T0 + timedelta(seconds=1))
    assert await lease.hold(sessions, "outbox", "worker-a", T0 + timedelta(seconds=10))  # renewed
    # Renewed at 10 s, it lasts until 25 s: at 20 s it is still A's.
    assert not await lease.hold(sessions, "outbox", "worker-b", T0 + timedelta(seconds=20))
    assert await lease.holder_of(sessions, "outbox", T0 + timedelta(seconds=20)) == "worker-a"
    # A died: at 26 s the lease has lapsed and B takes it; A, back, is refused.
    assert await lease.hold(sessions, "outbox", "worker-b", T0 + timedelta(seconds=26))
    assert not await lease.hold(sessions, "outbox", "worker-a", T0 + timedelta(seconds=27))
    assert await lease.holder_of(sessions, "outbox", T0 + timedelta(seconds=27)) == "worker-b"
    # Leases of different work are independent.
    assert await lease.hold(sessions, "reminders", "worker-a", T0 + timedelta(seconds=27))


async def test_a_clean_stop_lets_another_take_it_at_once(sessions: Any) -> None:
    assert await lease.hold(sessions, "outbox", "worker-a", T0)
    await lease.release(sessions, "outbox", "worker-a")
    assert await lease.holder_of(sessions, "outbox", T0 + timedelta(seconds=1)) is None
    assert await lease.hold(sessions, "outbox", "worker-b", T0 + timedelta(seconds=1))
    await lease.release(sessions, "outbox", "worker-a")  # no longer A's: nothing changes
    assert await lease.holder_of(sessions, "outbox", T0 + timedelta(seconds=2)) == "worker-b"


async def test_workers_racing_for_a_lapsed_lease_leave_exactly_one_holder(
    database_url: str, sessions: Any
) -> None:
    """Eight workers, each with its own engine (its own connections), try at the same moment,
    first for a lease nobody ever held, then for one whose holder died."""
    engines = [create_engine(database_url) for _ in range(8)]
    try:
        factories = [session_factory(engine) for engine in engines]
        for moment in (T0, T0 + timedelta(seconds=30)):
            won = await asyncio.gather(
                *(
                    lease.hold(factory, "outbox", f"worker-{n}", moment)
                    for n, factory in enumerate(factories)
                )
            )
            assert sum(won) == 1, won
            winner = f"worker-{won.index(True)}"
            assert await lease.holder_of(sessions, "outbox", moment) == winner
    finally:
        for engine in engines:
            await engine.dispose()


async def leader_among(*leaderships: lease.Leadership, within: float = 3.0) -> lease.Leadership:
    """The one that leads, once exactly one does."""
    for _ in range(int(within / 0.05)):
        leading = [one for one in leaderships if one.leading]
        if len(leading) == 1:
            return leading[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sum(one.leading for one in leaderships)} lead after {within} s")


async def test_one_process_leads_and_another_takes_over_when_it_dies_or_stops(
    database_url: str,
) -> None:
    """Two processes (two engines) with a one-second lease: one leads; when it dies (its loop
    stops without letting go) the other leads within the term; when that one stops cleanly,
    a third leads at its next try."""
    engines = [create_engine(database_url) for _ in range(3)]
    events: list[str] = []

    def process(n: int) -> lease.Leadership:
        async def gained() -> None:
            events.append(f"{n} gained")

        async def lost() -> None:
            events.append(f"{n} lost")

        return lease.Leadership(
            session_factory(engines[n]), "outbox", f"worker-{n}", lambda: datetime.now(UTC),
            gained, lost, term=timedelta(seconds=1),
        )  # fmt: skip

    first, second, third = (process(n) for n in range(3))
    try:
        first.start()
        second.start()
        leader = await leader_among(first, second)
        follower = second if leader is first else first
        assert leader._task is not None
        leader._task.cancel()  # it dies: no renewal, no release
        started = asyncio.get_running_loop().time()
        assert await leader_among(follower, within=3.0) is follower
        assert asyncio.get_running_loop().time() - started < 2.0  # the term, one try, slack
        third.start()
        await follower.stop()  # a clean stop lets go at once
        assert await leader_among(third, within=1.0) is third
        assert not follower.leading
    finally:
        for one in (first, second, third):
            await one.stop()
        for engine in engines:
            await engine.dispose()
    assert events.count("0 gained") + events.count("1 gained") == 2  # each led once


async def test_a_process_of_this_machine_that_ended_leaves_its_lease_at_once(sessions: Any) -> None:
    """`helpdesk run` started again after a crash, or a worker beside one that was killed: the
    lease's holder was a process of this machine that is gone, so there is nothing to wait for.
    One of another machine (or of a process still alive) must lapse first."""
    ended = await asyncio.create_subprocess_exec("true")
    await ended.wait()
    here = lease.holder_name().rsplit("-", 2)[0]
    moment = datetime.now(UTC)
    for holder, taken in [
        (f"{here}-{ended.pid}-dead", True),
        (f"elsewhere-{ended.pid}-dead", False),
        (f"{here}-1-init", False),  # alive (the machine's first process)
    ]:
        async with sessions() as session, session.begin():
            await session.exec(delete(Lease))
        assert await lease.hold(sessions, "leader", holder, moment)
        successor = lease.Leadership(sessions, "leader", lease.holder_name(), lambda: moment)
        await successor.begin()
        try:
            assert successor.leading is taken, holder
        finally:
            await successor.stop()
