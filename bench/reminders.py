"""Reminders benchmark: building the schedule of many sign-ups, and sending a burst of reminders.

Two measurements, each on a fresh SQLite database set up as deployed (WAL, synchronous=FULL):

1. The schedule. 10,000 sign-ups over 500 occurrences (--signups, --occurrences), all on the
   weekdays of four weeks (a fixed January, with no clock change, so that runs compare): a
   fifth of the activities are weekly ones that started a year ago (four occurrences each in
   the four weeks, and a year of repetitions for the rule to walk through), the rest one-offs
   spread over the weeks.
   Each resident holds two places. Timed once each, after a run of its own that measures its
   memory (and warms SQLAlchemy's caches up):
     schedule      `bot.outbox.reminders.schedule` over a window holding every reminder of the 500
                   occurrences (two offsets each, so 1,000 slots): what building the whole
                   schedule in memory would cost.
     start         `bot.outbox.reminders.queue_due` as the bot runs it at start, here on the
                   Wednesday of the first week after a two-day stop: the look-back window is
                   full of reminders, those within the grace time queued, the others recorded as
                   skipped; every one of them an outbox row inserted and committed.
     check         the next check, ten minutes later, as the running bot makes it: what the
                   check at start dealt with is not looked at again.
   Most of the time of start and check is Python work in the bot's event loop (computing
   occurrences, one select and one batched insert per slot), time in which the bot answers
   nobody.
   ms is wall-clock time; MiB is the peak of Python allocations during the call (tracemalloc,
   in a run of its own that is rolled back, since tracing slows everything down). SQLite's own
   page cache is not Python memory and is not counted.

2. The burst. 1,000 residents (--burst), 20 to an activity, all starting at the same minute:
   their 24-hour reminders fall due together. One check queues them, then the real outbox sender
   (`bot.outbox.sender.OutboxSender`, on the bot the application gives it: aiohttp, paced by
   the sender itself, which holds its pace when Telegram answers "retry after")
   sends them to the Bot API emulation, which answers 429 to any message over 30 in one
   second, as Telegram does. The fake server runs in the same process and event loop. The bot
   is cold, as just after a start: nothing sent or rendered in any language before the burst.
     msg/s         messages delivered / seconds from the start of the drain to its end (every
                   message answered and its outbox row marked)
     of limit      msg/s as a share of the fake's limit; the target is at least 95 %
     busiest 1 s   the most messages the fake accepted in any one second
     lost          queued - delivered, where delivered counts the residents' chats that got a
                   message; outbox rows marked "sent" are counted too, and must agree
     duplicates    residents who got more than one reminder
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert
from sqlmodel import SQLModel, select

from bench.intake import BenchError, run_command
from bot.app import build_application, bulk_bot
from bot.config import Settings
from bot.outbox import reminders
from bot.outbox.reminding import CHECK_EVERY
from bot.outbox.sender import OutboxSender
from db import migrate
from db.models import (
    Activity,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
    Outbox,
    OutboxStatus,
    Resident,
)
from db.session import Sessions, create_engine, session_factory
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.telegram.channel import PER_SECOND, TelegramChannel

T = TypeVar("T")

TOKEN = "123456:BENCH-TOKEN"
SETTINGS = Settings()  # Europe/Rome, reminders 24 h and 2 h before, quiet hours 21:00-08:00
# The Monday of the first of the four weeks, local time. January: no clock change on the way.
FIRST_MONDAY = datetime(2030, 1, 14)
WEEKS = 4
SIGNED_UP_AT = datetime(2029, 11, 1, tzinfo=UTC)  # well before any reminder
LANGUAGES = ("it", "en", "ar")
KINDS = tuple(ActivityKind)
PER_ACTIVITY = 20  # residents in each activity of the burst


def utc(local: datetime) -> datetime:
    """A local wall-clock time in the deployment's zone, as a UTC instant."""
    return local.replace(tzinfo=SETTINGS.timezone).astimezone(UTC)


async def migrated(directory: Path) -> str:
    url = f"sqlite+aiosqlite:///{directory / 'helpdesk.db'}"
    await migrate.upgrade(url)
    return url


async def insert_all(sessions: Sessions, rows: Sequence[SQLModel]) -> None:
    """Rows of one table in a single executemany: ORM objects one by one would take seconds."""
    async with sessions() as session, session.begin():
        connection = await session.connection()
        # None left out rather than sent: a JSON column would store it as JSON null, not NULL.
        values = [row.model_dump(exclude_none=True) for row in rows]
        await connection.execute(insert(type(rows[0])), values)


def residents(count: int) -> list[Resident]:
    return [
        Resident(
            id=n,
            channel="telegram",
            channel_user_id=str(n),  # also their chat id with the bot
            language=LANGUAGES[n % len(LANGUAGES)],
            created_at=SIGNED_UP_AT,
        )
        for n in range(1, count + 1)
    ]


def enrolment(activity_id: int, resident_id: int) -> Enrolment:
    return Enrolment(
        activity_id=activity_id,
        resident_id=resident_id,
        name=f"Resident {resident_id}",
        status=EnrolmentStatus.ENROLLED,
        created_at=SIGNED_UP_AT,
        enrolled_at=SIGNED_UP_AT,
    )


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """The call's result and its wall-clock milliseconds."""
    started = time.perf_counter()
    result = await call()
    return result, (time.perf_counter() - started) * 1000


async def peak_mib(call: Callable[[], Awaitable[object]]) -> float:
    """The peak of Python allocations during the call, in MiB above what was there before."""
    tracemalloc.start()
    try:
        await call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# ---- 1. the schedule of many sign-ups -------------------------------------------------------


def weekday_time(n: int, days: int) -> datetime:
    """The n-th of many local times spread over `days` weekdays from FIRST_MONDAY, 9:00-19:30.

    Activities keep to weekdays and daytime so that the reminders of the four weeks (moved at
    most to 21:00 the evening before by the quiet hours) and those of the weeks around them
    fall on either side of a clear gap, the weekend: one window then holds exactly the four
    weeks' reminders.
    """
    week, weekday = divmod(n % days, 5)
    rest = n // days
    hour, half = 9 + rest % 11, rest // 11 % 2
    return FIRST_MONDAY + timedelta(weeks=week, days=weekday, hours=hour, minutes=30 * half)


def schedule_activities(occurrences: int) -> list[Activity]:
    """Weekly activities (four occurrences each in the weeks) and one-offs, `occurrences` in all."""
    weekly = occurrences // 5
    one_offs = occurrences - WEEKS * weekly
    found = []
    for n in range(weekly + one_offs):
        if n < weekly:
            # Started a year ago: the rule walks through a year of repetitions, as it would
            # for a homework group that has been running since last school year.
            starts, repeat = weekday_time(n, 5) - timedelta(weeks=52), "weekly"
        else:
            starts, repeat = weekday_time(n - weekly, 5 * WEEKS), "none"
        found.append(
            Activity(
                id=n + 1,
                kind=KINDS[n % len(KINDS)],
                title=f"Activity {n + 1}",
                place="Sala comune",
                starts_local=starts,
                repeat=repeat,
                duration_minutes=90,
                capacity=None,
                created_at=SIGNED_UP_AT,
            )
        )
    return found


@dataclass
class ScheduleResult:
    occurrences: int
    activities: int
    weekly: int
    residents: int
    signups: int
    setup_s: float  # creating and filling the database, for information
    slots: int
    schedule_ms: float
    schedule_mib: float
    start_queued: int
    start_skipped: int
    start_ms: float
    start_mib: float
    check_ms: float
    check_queued: int


async def fill_schedule(sessions: Sessions, occurrences: int, signups: int) -> tuple[int, int]:
    """The activities, residents and sign-ups; (activities, residents)."""
    activities = schedule_activities(occurrences)
    # Two places each, in two different activities (consecutive ones).
    people = math.ceil(signups / 2)
    await insert_all(sessions, activities)
    await insert_all(sessions, residents(people))
    await insert_all(
        sessions, [enrolment(n % len(activities) + 1, n // 2 + 1) for n in range(signups)]
    )
    return len(activities), people


async def measure_schedule(options: argparse.Namespace) -> ScheduleResult:
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        started = time.perf_counter()
        engine = create_engine(await migrated(Path(tmp)))
        try:
            sessions = session_factory(engine)
            activities, people = await fill_schedule(sessions, options.occurrences, options.signups)
            setup = time.perf_counter() - started

            # Saturday before the first week to Saturday of the fourth: every reminder of the
            # four weeks, and none of the weeks around them.
            after = utc(FIRST_MONDAY - timedelta(days=2) + timedelta(hours=10))
            before = utc(FIRST_MONDAY + timedelta(weeks=WEEKS - 1, days=5))

            async def build() -> list[reminders.Slot]:
                async with sessions() as session:
                    return await reminders.schedule(session, SETTINGS, after, before)

            schedule_mib = await peak_mib(build)
            slots, schedule_ms = await timed(build)
            expected = options.occurrences * len(SETTINGS.reminder_offsets)
            if len(slots) != expected:
                raise BenchError(f"the schedule holds {len(slots)} slots, not {expected}")

            # The bot starts again on Wednesday 10:00 of the first week, after two days off.
            restart = utc(FIRST_MONDAY + timedelta(days=2, hours=10))

            async def check(
                commit: bool, moment: datetime = restart, since: datetime | None = None
            ) -> reminders.Checked:
                async with sessions() as session:
                    checked = await reminders.queue_due(
                        session, SETTINGS, moment, CHECK_EVERY, since
                    )
                    if commit:
                        await session.commit()
                    else:  # leaves the outbox empty for the run that is timed
                        await session.rollback()
                return checked

            start_mib = await peak_mib(lambda: check(commit=False))
            at_start, start_ms = await timed(lambda: check(commit=True))
            # The next check, ten minutes later, as the running bot makes it: what the first
            # one dealt with is not looked at again.
            again, check_ms = await timed(
                lambda: check(commit=True, moment=restart + CHECK_EVERY, since=restart)
            )
        finally:
            await engine.dispose()
    return ScheduleResult(
        occurrences=options.occurrences,
        activities=activities,
        weekly=options.occurrences // 5,
        residents=people,
        signups=options.signups,
        setup_s=setup,
        slots=len(slots),
        schedule_ms=schedule_ms,
        schedule_mib=schedule_mib,
        start_queued=at_start.queued,
        start_skipped=at_start.skipped,
        start_ms=start_ms,
        start_mib=start_mib,
        check_ms=check_ms,
        check_queued=again.queued + again.skipped,
    )


# ---- 2. a burst of reminders against a rate-limited Bot API --------------------------------


@dataclass
class BurstResult:
    limit: float  # messages a second the Bot API emulation accepts
    pace: float  # messages a second the sender aims at (handlers.telegram.channel.PER_SECOND)
    queued: int
    handed: int  # what drain() says it handed to Telegram
    delivered: int  # residents' chats with a message in them
    rows_sent: int  # outbox rows marked "sent"
    seconds: float
    per_second: float
    percent_of_limit: float
    busiest_second: int
    rejected_429: int
    lost: int
    duplicates: int


def busiest_second(moments: list[float]) -> int:
    """The most of these moments (seconds, sorted) within any one second."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def fill_burst(sessions: Sessions, count: int, occurrence: datetime) -> None:
    """`count` residents, PER_ACTIVITY to an activity, all the activities at the same time."""
    activities = [
        Activity(
            id=n + 1,
            kind=ActivityKind.EVENT,
            title=f"Open day {n + 1}",
            place="Sala comune",
            starts_local=occurrence,
            repeat="none",
            duration_minutes=120,
            capacity=None,
            created_at=SIGNED_UP_AT,
        )
        for n in range(math.ceil(count / PER_ACTIVITY))
    ]
    await insert_all(sessions, activities)
    await insert_all(sessions, residents(count))
    await insert_all(
        sessions, [enrolment((n - 1) // PER_ACTIVITY + 1, n) for n in range(1, count + 1)]
    )


async def measure_burst(options: argparse.Namespace) -> BurstResult:
    server = EmulatedBotAPI(token=TOKEN, rate_limit_per_second=options.limit)
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
            settings = Settings(
                token=TOKEN, api_url=server.base_url, database_url=await migrated(Path(tmp))
            )
            application = build_application(settings)
            desk = application.bot_data.desk
            try:
                await application.initialize()
                # Thursday 17:00 of the first week: the 24-hour reminders go out on Wednesday
                # at 17:00, outside the quiet hours; the 2-hour ones are beyond the check.
                occurrence = FIRST_MONDAY + timedelta(days=3, hours=17)
                await fill_burst(desk.sessions, options.burst, occurrence)
                async with desk.sessions() as session, session.begin():
                    checked = await reminders.queue_due(
                        session, settings, utc(occurrence - timedelta(days=1)), CHECK_EVERY
                    )
                if checked.queued != options.burst:
                    raise BenchError(f"{checked.queued} reminders queued, not {options.burst}")

                bulk = await bulk_bot(settings)
                sender = OutboxSender({"telegram": TelegramChannel(bulk)}, desk)
                calls_before = len(server.calls)
                handed, elapsed_ms = await timed(sender.drain)
                seconds = elapsed_ms / 1000

                async with desk.sessions() as session:
                    statement = select(func.count()).where(Outbox.status == OutboxStatus.SENT)
                    rows_sent = (await session.exec(statement)).one()
            finally:
                if "bulk" in locals():
                    await bulk.shutdown()
                await application.shutdown()
                await desk.engine.dispose()  # what the application's post_shutdown does
    finally:
        await server.stop()

    received = [len(server.chats[n]) for n in range(1, options.burst + 1)]
    delivered = sum(1 for count in received if count)
    accepted = sorted(
        call.at for call in server.calls[calls_before:] if call.method == "sendMessage" and call.ok
    )
    per_second = delivered / seconds
    return BurstResult(
        limit=options.limit,
        pace=PER_SECOND,
        queued=checked.queued,
        handed=handed,
        delivered=delivered,
        rows_sent=rows_sent,
        seconds=seconds,
        per_second=per_second,
        percent_of_limit=100 * per_second / options.limit,
        busiest_second=busiest_second(accepted),
        rejected_429=server.rejected_429,
        lost=checked.queued - delivered,
        duplicates=sum(1 for count in received if count > 1),
    )


# ---- report ------------------------------------------------------------------------------------


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def report(schedule: ScheduleResult, burst: BurstResult) -> dict[str, Any]:
    figures = {
        "python": platform.python_version(),
        "database": "sqlite",
        "schedule": asdict(schedule),
        "burst": asdict(burst),
        "targets": {
            "burst_at_least_95_percent": burst.percent_of_limit >= 95,
            "burst_none_lost": burst.lost == 0
            and burst.duplicates == 0
            and burst.rows_sent == burst.queued,
        },
    }
    return {k: _rounded(v) for k, v in figures.items()}


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def table(figures: dict[str, Any]) -> str:
    s, b, targets = figures["schedule"], figures["burst"], figures["targets"]
    return "\n".join(
        [
            f"reminders benchmark (SQLite, python {figures['python']})",
            "",
            f"schedule: {s['signups']:,} sign-ups by {s['residents']:,} residents over "
            f"{s['occurrences']} occurrences of {s['activities']} activities "
            f"({s['weekly']} weekly); set up in {s['setup_s']:.1f} s",
            f"{'':<34}{'ms':>9}{'MiB':>8}",
            f"{'schedule of every occurrence':<34}{s['schedule_ms']:>9.1f}"
            f"{s['schedule_mib']:>8.1f}   {s['slots']:,} slots",
            f"{'check at start, after 2 days off':<34}{s['start_ms']:>9.1f}"
            f"{s['start_mib']:>8.1f}   {s['start_queued']:,} queued, "
            f"{s['start_skipped']:,} skipped",
            f"{'next check, nothing new':<34}{s['check_ms']:>9.1f}{'':>8}   "
            f"{s['check_queued']:,} queued",
            "",
            f"burst: {b['queued']:,} reminders due at the same minute, Bot API emulation limit "
            f"{b['limit']:g}/s, sender pace {b['pace']:g}/s",
            f"  delivered {b['delivered']:,} (outbox rows sent: {b['rows_sent']:,}, handed: "
            f"{b['handed']:,}) in {b['seconds']:.1f} s",
            f"  {b['per_second']:.2f} msg/s = {b['percent_of_limit']:.1f} % of the limit; "
            f"busiest second {b['busiest_second']}; 429 answers: {b['rejected_429']}",
            f"  lost {b['lost']}, duplicates {b['duplicates']}",
            f"  target >= 95 % of the limit: {verdict(targets['burst_at_least_95_percent'])}; "
            f"none lost or repeated: {verdict(targets['burst_none_lost'])}",
        ]
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--signups", type=int, default=10_000, help="(default 10000)")
    parser.add_argument("--occurrences", type=int, default=500, help="(default 500)")
    parser.add_argument(
        "--burst", type=int, default=1_000, help="reminders due at the same minute (default 1000)"
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=30.0,
        help="messages/s the Bot API emulation accepts (default 30)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="for the whole benchmark")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    if min(options.signups, options.occurrences, options.burst) < 1 or options.limit <= 0:
        parser.error("--signups, --occurrences, --burst and --limit must be positive")
    return options


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    async with asyncio.timeout(options.timeout):
        progress("measuring the schedule...")
        schedule = await measure_schedule(options)
        seconds = options.burst / PER_SECOND
        progress(f"measuring the burst (about {seconds:.0f} s)...")
        burst = await measure_burst(options)
    return report(schedule, burst)


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    # Errors only: the check after two days off warns once for every slot it skips, and the
    # sender about every message it has to leave for later; the figures count both.
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")
    return run_command(options, run, table)


if __name__ == "__main__":
    sys.exit(main())
