"""WhatsApp benchmark: bulk sending through the Cloud API's throughput limit, and residents writing
through the signed webhook, against `helpdesk serve` as deployed (uvicorn, SQLite WAL +
synchronous=FULL) and the Graph API emulation (handlers.emulation.whatsapp) in this process.

One `helpdesk serve` runs both parts, one after the other, with WhatsApp's four variables pointed
at the emulation (and Telegram's at the Bot API emulation, which serve needs to start):

1. Bulk sending. 2,000 residents on WhatsApp (--bulk), each of whom wrote within the last 20
   hours (their 24-hour window is open, in the database and in the emulation), 20 to an
   activity, all the activities starting tomorrow at the same minute: their 24-hour reminders
   are queued in the outbox (`bot.outbox.reminders.queue_due`, as the reminder check does)
   before the bot starts. At start, the real outbox sender (`bot.outbox.sender.OutboxSender`)
   sends them through the real `WhatsAppChannel` (pywa_async), paced at the number's
   `per_second` (80), to the emulation, which refuses any message over 80 in one second with
   130429, as Meta does. Meta's "sent" and "delivered" statuses of every message are posted to
   serve's /whatsapp, signed, as Meta posts them (--no-statuses leaves them out).
     msg/s         (accepted - 1) / seconds from the first message accepted to the last: the
                   pace the messages were spaced at (the bot's start-up is not in it)
     of limit      msg/s as a share of the emulation's limit; target 95 % to 100 %
     busiest 1 s   the most messages accepted in any one second (the emulation refuses the 81st)
     lost          queued - residents who got a message; duplicated: residents who got more than
                   one (each has exactly one reminder queued)
     delivery      the last status Meta reported kept on each outbox row (what the webhook
                   made of the statuses), and the rows left without one although the webhook
                   answered their statuses 200 (Meta does not post those again)
     wall time     from starting serve to every outbox row marked
     CPU           of the bot's process and of this one (the emulation) while the messages went
                   out, in % of one core
     where it went (first to last message): the time the bot's own pace takes, the pauses (gaps
                   over 100 ms: a hold after a 130429, a wait for the next rows), and smaller
                   delays; and how late the emulation's own event loop ran, since a stall there
                   would bunch the bot's messages through no fault of the bot's
   --pace sets the bot's per_second apart from the emulation's limit (e.g. a margin under it).

2. Inbound. New residents (British numbers: English offered first) write to the bot through the
   emulation, which posts each message to serve's /whatsapp signed, one person's at a time, and
   retries until answered 2xx, as Meta does. Each resident walks the language picker and the
   privacy notice (/start, taps "English", taps "Yes, I agree"), then types /status a few times
   (--statuses-per-resident), each as soon as the bot's answer arrives.
     closed loop   --residents at once, the median of --rounds rounds: residents' messages a
                   second, every webhook call a second (their messages and the statuses of the
                   bot's answers), reply latency; once with the emulation's 80/s limit (which
                   the answers share, as on WhatsApp), once with it lifted (the bot's own
                   capacity), the rounds alternating
     unanswered    messages whose answer did not come within 30 s (the resident stops there)
     steady        one message every 1/--rate s, each from a resident with no message waiting
     latency       from the message pushed into the emulation to the bot's answer (the last
                   message of it, the one the resident answers) accepted there, on one clock

The emulation keeps its 80/s limit in part 2 too (but in the closed loop's lifted rounds): the
bot's answers count against the number's throughput on WhatsApp as well. This process's garbage
collector is tuned as serve tunes its own, so that the emulation's pauses do not bunch the bot's
messages; how late its event loop still ran is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import logging
import math
import os
import platform
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import col, select

from bench.intake import BenchError, Latency, rounded, run_command, verdict
from bench.reminders import busiest_second, insert_all
from bench.webhook import ServeProcess
from bot.config import Settings
from bot.outbox import reminders
from bot.outbox.reminding import CHECK_EVERY
from db import migrate
from db.models import (
    Activity,
    ActivityKind,
    Enrolment,
    EnrolmentStatus,
    Outbox,
    Resident,
)
from db.session import create_engine, session_factory
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import Change, EmulatedGraphAPI, OutgoingMessage, WaUser

VERIFY_TOKEN = "bench-verify-token"
PER_ACTIVITY = 20  # residents in each activity of the bulk sending
LANGUAGES = ("it", "en", "ar")
REPLY_TIMEOUT = 30.0  # one answer slower than this is a failure, not a measurement
STALL = 75.0  # seconds without progress before the bulk sending is given up (over IDLE_CHECK)
PAUSE = 0.1  # a gap this long between two bulk messages is a pause, not the pace (12.5 ms)
SETTLE = 60.0  # for the statuses still on their way, and the rows still being marked


# ---- the emulation, with arrival times ---------------------------------------------------------


@dataclass
class Arrival:
    at: float  # perf_counter when the emulation accepted it
    message: OutgoingMessage


class Arrivals:
    """Every message the bot sent that the emulation accepted, with its time; the answers to
    the residents being measured go to their own queues."""

    def __init__(self, graph: EmulatedGraphAPI) -> None:
        self.graph = graph
        # (moment, wa_id, message id): the moment the emulation counted the message against its
        # limit (its monotonic clock), so that "any one second" is the one it refuses over.
        self.accepted: list[tuple[float, str, str]] = []
        self.inboxes: dict[str, asyncio.Queue[Arrival]] = {}
        self.on_accepted: Callable[[int], None] = lambda _count: None
        self.stop = graph.watch(self._changed)

    def _changed(self, change: Change) -> None:
        if change.kind != "message" or change.message_id is None:
            return
        message = self.graph.message(change.message_id)  # None: a person's own message
        if message is None:
            return
        at = time.perf_counter()
        # Told synchronously after the message was counted: the last time counted is its own.
        counted = self.graph._send_times
        limited = self.graph.per_second is not None and counted
        moment = counted[-1] if limited else time.monotonic()
        self.accepted.append((moment, change.wa_id, change.message_id))
        inbox = self.inboxes.get(change.wa_id)
        if inbox is not None:
            inbox.put_nowait(Arrival(at, message))
        self.on_accepted(len(self.accepted))

    def inbox(self, wa_id: str) -> asyncio.Queue[Arrival]:
        return self.inboxes.setdefault(wa_id, asyncio.Queue())


class LagMonitor:
    """How late this process's event loop (the emulation's) wakes up: a stall here holds the
    bot's requests and lets them in together, as if the bot had sent them together."""

    TICK = 0.002
    STALL_AT = 0.005  # later than this is recorded

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []  # (monotonic, seconds late) over STALL_AT
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK)
            late = time.monotonic() - before - self.TICK
            if late > self.STALL_AT:
                self.stalls.append((before, late))

    def worst_ms(self, start: float, end: float) -> tuple[float, int]:
        """The longest stall between two monotonic moments, in ms, and the stalls over 10 ms."""
        within = [late for at, late in self.stalls if start <= at <= end]
        return 1000 * max(within, default=0.0), sum(1 for late in within if late > 0.010)


# ---- helpdesk serve, with WhatsApp ------------------------------------------------------------


class WhatsAppServe(ServeProcess):
    """`helpdesk serve` (bench.webhook) with the WhatsApp number pointed at the emulation, and a
    helpdesk.toml giving the number's pace and no quiet hours (so that the reminders are due
    whatever the time of day the benchmark runs)."""

    def __init__(
        self, telegram: EmulatedBotAPI, graph: EmulatedGraphAPI, workdir: Path, pace: float
    ) -> None:
        super().__init__("sportello", telegram, workdir)
        self.graph = graph
        (workdir / "helpdesk.toml").write_text(
            f'quiet_hours = ""\n\n[whatsapp]\nper_second = {pace:g}\n'
        )

    def environment(self) -> dict[str, str]:
        return super().environment() | {
            "WHATSAPP_PHONE_ID": self.graph.phone_id,
            "WHATSAPP_TOKEN": self.graph.token,
            "WHATSAPP_APP_SECRET": self.graph.app_secret,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_API_URL": self.graph.base_url,
        }

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'helpdesk.db'}"

    def log_lines(self) -> list[str]:
        try:
            return self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds so far: the bot's process, this one, and the whole machine (Linux)."""

    bot: float | None
    harness: float
    machine: float | None


@dataclass(frozen=True)
class CpuShare:
    """CPU between two samples, in % of one core."""

    bot: float | None
    harness: float
    others: float | None  # the rest of the machine: other processes (and the kernel's own work)


def _machine_busy() -> float | None:
    """CPU seconds every core spent busy since boot (/proc/stat), or None off Linux."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _cpu(process: WhatsAppServe) -> CpuSample:
    return CpuSample(process.cpu_seconds(), time.process_time(), _machine_busy())


def _cpu_share(before: CpuSample, after: CpuSample, seconds: float) -> CpuShare:
    if seconds <= 0:
        return CpuShare(None, math.nan, None)
    bot = (
        None
        if before.bot is None or after.bot is None
        else 100 * (after.bot - before.bot) / seconds
    )
    harness = 100 * (after.harness - before.harness) / seconds
    others = (
        None
        if bot is None or before.machine is None or after.machine is None
        else max(0.0, 100 * (after.machine - before.machine) / seconds - bot - harness)
    )
    return CpuShare(bot, harness, others)


# ---- 1. bulk sending ---------------------------------------------------------------------------


def bulk_user(n: int) -> WaUser:
    return WaUser(f"39320{n:07d}", name=f"Resident {n}")  # Italian mobile numbers


@dataclass
class BulkResult:
    limit: float  # messages a second the emulation accepts
    pace: float  # messages a second the bot aims at (WhatsAppSettings.per_second)
    statuses: bool  # Meta's statuses of each message posted to the webhook
    queued: int
    accepted: int  # messages the emulation accepted for these residents
    delivered: int  # residents who got a message
    rows: dict[str, int]  # outbox rows by status at the end
    rows_matching: int  # rows marked sent whose platform id is a message the emulation accepted
    delivery: dict[str, int]  # outbox rows by the last status Meta reported ("none": no status)
    statuses_dropped: int  # rows with no status kept though the webhook took their statuses (2xx)
    seconds: float  # first message accepted to the last
    per_second: float
    fraction_of_limit: float
    busiest_second: int
    longest_gap_ms: float
    min_gap_ms: float  # the closest two messages arrived: the pace is 1000/limit ms
    pauses: int  # gaps between two messages over PAUSE (the sender holding its pace)
    paused_s: float  # the time those gaps took beyond one interval of the pace
    at_pace_s: float  # (accepted - 1) / pace: what the sending would take at the bot's own pace
    emulation_stall_ms: float  # the longest the emulation's event loop was late, while sending
    emulation_stalls: int  # how many times it was over 10 ms late
    rejected_130429: int
    rejected_131056: int
    lost: int
    duplicated: int
    first_after_s: float  # from starting serve to the first message accepted
    wall_s: float  # from starting serve to every row marked
    bot_cpu_percent: float | None
    harness_cpu_percent: float
    others_cpu_percent: float | None  # the rest of the machine: other processes, the kernel
    stalled: bool  # given up: no progress for STALL seconds


async def fill_bulk(url: str, graph: EmulatedGraphAPI, count: int, settings: Settings) -> int:
    """The residents, their places and their reminders, queued as the check at start would; the
    emulation knows each resident and when they last wrote. How many reminders were queued."""
    now = datetime.now(UTC)
    zone = settings.timezone
    # Tomorrow, five minutes before this minute: the 24-hour reminders fell due 5 minutes ago.
    starts = (now.astimezone(zone) + timedelta(hours=24, minutes=-5)).replace(
        second=0, microsecond=0, tzinfo=None
    )
    activities = [
        Activity(
            id=n + 1,
            kind=ActivityKind.EVENT,
            title=f"Open day {n + 1}",
            place="Sala comune",
            starts_local=starts,
            repeat="none",
            duration_minutes=120,
            capacity=None,
            created_at=now - timedelta(days=7),
        )
        for n in range(math.ceil(count / PER_ACTIVITY))
    ]
    residents: list[Resident] = []
    enrolments: list[Enrolment] = []
    for n in range(1, count + 1):
        user = bulk_user(n)
        wrote = now - timedelta(minutes=n % 1200)  # all within the last 20 hours
        residents.append(
            Resident(
                id=n,
                channel="whatsapp",
                channel_user_id=user.user_id,  # the BSUID, as the inbox keeps it
                language=LANGUAGES[n % len(LANGUAGES)],
                created_at=now - timedelta(days=30),
                phone=f"+{user.wa_id}",
                last_inbound_at=wrote,
            )
        )
        enrolments.append(
            Enrolment(
                activity_id=(n - 1) // PER_ACTIVITY + 1,
                resident_id=n,
                name=user.name,
                status=EnrolmentStatus.ENROLLED,
                created_at=now - timedelta(days=2),
                enrolled_at=now - timedelta(days=2),
            )
        )
        graph.add_user(user, wrote_at=wrote.timestamp())
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await insert_all(sessions, activities)
        await insert_all(sessions, residents)
        await insert_all(sessions, enrolments)
        async with sessions() as session, session.begin():
            checked = await reminders.queue_due(session, settings, now, CHECK_EVERY)
    finally:
        await engine.dispose()
    return checked.queued


async def outbox_state(url: str) -> tuple[dict[str, int], dict[str, int], dict[str, str | None]]:
    """Outbox rows by status and by delivery status; the delivery status by platform id."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            statuses = (
                await session.exec(select(Outbox.status, func.count()).group_by(Outbox.status))
            ).all()
            deliveries = (
                await session.exec(select(Outbox.delivery, func.count()).group_by(Outbox.delivery))
            ).all()
            references = (
                await session.exec(
                    select(Outbox.platform_message_id, Outbox.delivery).where(
                        col(Outbox.platform_message_id).is_not(None)
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    return (
        {str(status): count for status, count in statuses},
        {str(delivery or "none"): count for delivery, count in deliveries},
        {reference: delivery for reference, delivery in references if reference is not None},
    )


async def measure_bulk(
    options: argparse.Namespace,
    graph: EmulatedGraphAPI,
    arrivals: Arrivals,
    process: WhatsAppServe,
    lags: LagMonitor,
    progress: Callable[[str], None],
) -> BulkResult:
    """Start serve on the queued reminders; wait until each is accepted and its row marked."""
    settings = Settings(quiet_hours=None)
    await migrate.upgrade(process.database_url)
    queued = await fill_bulk(process.database_url, graph, options.bulk, settings)
    if queued != options.bulk:
        raise BenchError(f"{queued} reminders queued, not {options.bulk}")
    graph.send_statuses = options.statuses
    rejected_rate, rejected_pair = graph.rejected_rate, graph.rejected_pair
    marks: dict[str, tuple[float, CpuSample]] = {}

    def accepted(count: int) -> None:
        # The CPU of both processes while the messages go out, not during serve's start-up.
        if count == 1:
            marks["first"] = (time.perf_counter(), _cpu(process))
        if count == options.bulk:
            marks["last"] = (time.perf_counter(), _cpu(process))

    arrivals.on_accepted = accepted
    progress(
        f"bulk: {queued:,} reminders queued; starting helpdesk serve "
        f"(about {queued / options.limit:.0f} s of sending)..."
    )
    started = time.perf_counter()
    await process.start()

    # Every message accepted, then every row marked; given up when nothing moves for STALL s
    # (a message the sender left queued is looked at again after its IDLE_CHECK, 60 s).
    stalled, last_count, last_move = False, -1, time.perf_counter()
    while True:
        count = len(arrivals.accepted)
        if count != last_count:
            last_count, last_move = count, time.perf_counter()
        if count >= options.bulk:
            break
        if time.perf_counter() - last_move > STALL:
            stalled = True
            break
        await asyncio.sleep(0.05)
    first_at, cpu_first = marks.get("first", (started, _cpu(process)))
    last_at, cpu_last = marks.get("last", (time.perf_counter(), _cpu(process)))
    arrivals.on_accepted = lambda _count: None

    deadline = time.perf_counter() + SETTLE
    rows, delivery, references = await outbox_state(process.database_url)
    while rows.get("queued", 0) and time.perf_counter() < deadline and not stalled:
        await asyncio.sleep(0.2)
        rows, delivery, references = await outbox_state(process.database_url)
    wall = time.perf_counter() - started
    if options.statuses:  # the statuses still on their way, then what the bot made of them
        try:
            await graph.wait_delivered(timeout=max(1.0, deadline - time.perf_counter()))
        except AssertionError:
            progress("bulk: some statuses were still not answered 2xx by the webhook")
        await asyncio.sleep(0.5)  # the last webhook's transaction
        rows, delivery, references = await outbox_state(process.database_url)

    bulk_people = {bulk_user(n).wa_id for n in range(1, options.bulk + 1)}
    mine = [(at, wa_id, ref) for at, wa_id, ref in arrivals.accepted if wa_id in bulk_people]
    per_person = Counter(wa_id for _, wa_id, _ in mine)
    moments = sorted(at for at, _, _ in mine)
    seconds = moments[-1] - moments[0] if len(moments) > 1 else math.nan
    per_second = (len(moments) - 1) / seconds if len(moments) > 1 else math.nan
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    accepted_ids = {ref for _, _, ref in mine}
    # The messages whose statuses the webhook answered 2xx: Meta will not post them again.
    answered = {ref for ref, status in graph.webhook_calls if 200 <= status < 300}
    cpu = _cpu_share(cpu_first, cpu_last, last_at - first_at)
    stall_ms, stalls = lags.worst_ms(moments[0], moments[-1]) if moments else (math.nan, 0)
    return BulkResult(
        limit=options.limit,
        pace=options.pace,
        statuses=options.statuses,
        queued=queued,
        accepted=len(mine),
        delivered=len(per_person),
        rows=rows,
        rows_matching=sum(1 for ref in references if ref in accepted_ids),
        statuses_dropped=sum(
            1 for ref, kept in references.items() if kept is None and ref in answered
        ),
        delivery=delivery,
        seconds=seconds,
        per_second=per_second,
        fraction_of_limit=per_second / options.limit,
        busiest_second=busiest_second(moments),
        longest_gap_ms=1000 * max(gaps, default=math.nan),
        min_gap_ms=1000 * min(gaps, default=math.nan),
        pauses=sum(1 for gap in gaps if gap > PAUSE),
        paused_s=sum(gap - 1 / options.pace for gap in gaps if gap > PAUSE),
        at_pace_s=(len(moments) - 1) / options.pace,
        emulation_stall_ms=stall_ms,
        emulation_stalls=stalls,
        rejected_130429=graph.rejected_rate - rejected_rate,
        rejected_131056=graph.rejected_pair - rejected_pair,
        lost=queued - len(per_person),
        duplicated=sum(1 for n in per_person.values() if n > 1),
        first_after_s=first_at - started,
        wall_s=wall,
        bot_cpu_percent=cpu.bot,
        harness_cpu_percent=cpu.harness,
        others_cpu_percent=cpu.others,
        stalled=stalled,
    )


# ---- 2. inbound: residents writing through the webhook -----------------------------------------


class Unanswered(BenchError):
    """The bot's answer to a resident's message did not come within REPLY_TIMEOUT."""


@dataclass(frozen=True)
class Step:
    kind: Literal["text", "tap"]
    value: str  # the text typed, or the title of the button or row tapped
    expect: str  # a fragment of the bot's answer, in its last message


def script(statuses: int) -> list[Step]:
    """The language picker, the privacy notice, then /status again and again."""
    return [
        Step("text", "/start", "Which language"),
        Step("tap", "English", "Do you agree?"),
        Step("tap", "Yes, I agree", "What do you need help with?"),
        *[Step("text", "/status", "What do you need help with?")] * statuses,
    ]


class Person:
    """One resident on WhatsApp, writing one message at a time."""

    def __init__(self, graph: EmulatedGraphAPI, arrivals: Arrivals, n: int, statuses: int):
        self.graph = graph
        self.user = WaUser(f"4477009{n:05d}", name=f"Resident {n}")  # British: English first
        self.inbox = arrivals.inbox(self.user.wa_id)
        self.script = script(statuses)
        self.position = 0
        self.last: OutgoingMessage | None = None  # the bot's last message, whose buttons get tapped

    @property
    def done(self) -> bool:
        return self.position >= len(self.script)

    async def step(self) -> float:
        """Send the next message; the seconds until the bot's answer to it was accepted."""
        step = self.script[self.position]
        pushed = time.perf_counter()
        if step.kind == "text":
            self.graph.push_text(self.user, step.value)
        else:
            self._tap(step.value)
        deadline = pushed + REPLY_TIMEOUT
        seen: list[str] = []
        while True:
            try:
                arrival = await asyncio.wait_for(
                    self.inbox.get(), max(0.0, deadline - time.perf_counter())
                )
            except TimeoutError:
                raise Unanswered(
                    f"no answer with {step.expect!r} to resident {self.user.wa_id}'s "
                    f"{step.value!r} within {REPLY_TIMEOUT:.0f} s; got {seen}\n{self.graph.dump()}"
                ) from None
            text = arrival.message.text or ""
            seen.append(text[:60])
            if step.expect in text:
                break
        self.last = arrival.message
        self.position += 1
        return arrival.at - pushed

    def _tap(self, title: str) -> None:
        message = self.last
        if message is None:
            raise BenchError(f"resident {self.user.wa_id}: nothing to tap {title!r} on")
        found = [button_id for button_id, shown in message.buttons if title in shown]
        if not found:
            raise BenchError(f"no button {title!r} among {message.buttons}")
        if message.interactive == "list":
            self.graph.push_list_reply(self.user, message, found[0])
        else:
            self.graph.push_button_reply(self.user, message, found[0])


class Population:
    """Hands out residents the bot has never seen."""

    def __init__(self, graph: EmulatedGraphAPI, arrivals: Arrivals, statuses: int) -> None:
        self.graph, self.arrivals, self.statuses = graph, arrivals, statuses
        self._numbers = itertools.count(1)

    def new(self) -> Person:
        return Person(self.graph, self.arrivals, next(self._numbers), self.statuses)


@dataclass
class Closed:
    residents: int
    messages: int  # the residents'
    seconds: float
    messages_per_s: float
    webhooks_per_s: float  # every webhook call answered 2xx: messages and statuses
    latency: Latency
    bot_cpu_percent: float | None
    harness_cpu_percent: float
    others_cpu_percent: float | None
    rejected_130429: int
    unanswered: int  # messages whose answer never came (the resident stopped there)


@dataclass
class Steady:
    rate: float
    seconds: float
    residents: int
    issued: int
    achieved_per_s: float
    late: int  # issued over one interval behind schedule: every resident was waiting
    latency: Latency
    rejected_130429: int
    unanswered: int
    bot_cpu_percent: float | None
    others_cpu_percent: float | None


@dataclass
class InboundResult:
    closed: Closed  # the median round, the emulation refusing over its limit as Meta does
    rounds: list[float]  # messages/s of each closed-loop round
    lifted: Closed  # the median round with the emulation's limit lifted: the bot's own capacity
    lifted_rounds: list[float]
    steady: Steady
    statuses_per_answer: float
    emulation_stall_ms: float  # the longest the emulation's event loop was late, in the phase
    emulation_stalls: int  # how many times it was over 10 ms late


async def settled(graph: EmulatedGraphAPI) -> None:
    """Until every webhook notification (messages, statuses) got its 2xx."""
    try:
        await graph.wait_delivered(timeout=SETTLE)
    except AssertionError:
        raise BenchError(
            f"webhook notifications still not answered 2xx after {SETTLE:g} s"
        ) from None


def _answered(graph: EmulatedGraphAPI) -> int:
    return sum(1 for _, status in graph.webhook_calls if 200 <= status < 300)


async def closed_round(
    population: Population, process: WhatsAppServe, graph: EmulatedGraphAPI, residents: int
) -> Closed:
    people = [population.new() for _ in range(residents)]
    latencies: list[float] = []
    unanswered = 0

    async def go(person: Person) -> None:
        nonlocal unanswered
        while not person.done:
            try:
                latencies.append(await person.step())
            except Unanswered:
                unanswered += 1  # this resident gives up
                return

    rejected, webhooks, cpu = graph.rejected_rate, _answered(graph), _cpu(process)
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for person in people:
            group.create_task(go(person))
    elapsed = time.perf_counter() - started
    share = _cpu_share(cpu, _cpu(process), elapsed)
    return Closed(
        residents=residents,
        messages=len(latencies),
        seconds=elapsed,
        messages_per_s=len(latencies) / elapsed,
        webhooks_per_s=(_answered(graph) - webhooks) / elapsed,
        latency=Latency.of(latencies),
        bot_cpu_percent=share.bot,
        harness_cpu_percent=share.harness,
        others_cpu_percent=share.others,
        rejected_130429=graph.rejected_rate - rejected,
        unanswered=unanswered,
    )


async def open_loop(
    population: Population,
    process: WhatsAppServe,
    graph: EmulatedGraphAPI,
    residents: int,
    rate: float,
    seconds: float,
) -> Steady:
    """Messages at a fixed rate, each from an idle resident (at most one waiting each)."""
    idle: asyncio.Queue[Person] = asyncio.Queue()
    for _ in range(residents):
        idle.put_nowait(population.new())
    latencies: list[float] = []
    issued = late = unanswered = 0
    rejected, cpu = graph.rejected_rate, _cpu(process)

    async def one(person: Person) -> None:
        nonlocal unanswered
        try:
            latencies.append(await person.step())
        except Unanswered:
            unanswered += 1
            person = population.new()
        idle.put_nowait(population.new() if person.done else person)

    interval = 1 / rate
    started = time.perf_counter()
    end = started + seconds
    async with asyncio.TaskGroup() as group:
        for k in itertools.count():
            due = started + k * interval
            if due >= end:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                person = await asyncio.wait_for(idle.get(), max(0.0, end - time.perf_counter()))
            except TimeoutError:
                break  # every resident still waiting for the bot when the window closed
            late += time.perf_counter() - due > interval
            issued += 1
            group.create_task(one(person))
    share = _cpu_share(cpu, _cpu(process), time.perf_counter() - started)
    return Steady(
        rate=rate,
        seconds=seconds,
        residents=residents,
        issued=issued,
        achieved_per_s=issued / seconds,
        late=late,
        latency=Latency.of(latencies),
        rejected_130429=graph.rejected_rate - rejected,
        unanswered=unanswered,
        bot_cpu_percent=share.bot,
        others_cpu_percent=share.others,
    )


async def measure_inbound(
    options: argparse.Namespace,
    graph: EmulatedGraphAPI,
    arrivals: Arrivals,
    process: WhatsAppServe,
    lags: LagMonitor,
    progress: Callable[[str], None],
) -> InboundResult:
    population = Population(graph, arrivals, options.statuses_per_resident)
    graph.send_statuses = True  # as Meta does: the answers' statuses come back to the webhook
    answers, webhooks, pushed = len(arrivals.accepted), _answered(graph), len(graph.incoming)
    started = time.monotonic()
    progress("inbound: warming up...")
    warm = [population.new() for _ in range(options.warmup)]
    async with asyncio.TaskGroup() as group:
        for person in warm:

            async def go(person: Person = person) -> None:
                while not person.done:
                    await person.step()

            group.create_task(go())
    rounds: dict[str, list[Closed]] = {"on": [], "lifted": []}
    for n, kind in itertools.product(range(options.rounds), rounds):
        progress(f"inbound: closed loop, round {n + 1} of {options.rounds}, limit {kind}...")
        # The statuses of the last answers first: a round starts with nothing on its way.
        await settled(graph)
        # Lifted: no throughput limit, so that the bot's own capacity shows, not the number's.
        graph.per_second = None if kind == "lifted" else options.limit
        try:
            rounds[kind].append(await closed_round(population, process, graph, options.residents))
        finally:
            graph.per_second = options.limit
    closed, lifted = (
        sorted(rounds[kind], key=lambda r: r.messages_per_s)[len(rounds[kind]) // 2]
        for kind in ("on", "lifted")
    )
    progress(f"inbound: steady {options.rate:g}/s for {options.seconds:g} s...")
    await settled(graph)
    steady = await open_loop(
        population, process, graph, options.steady_residents, options.rate, options.seconds
    )
    await settled(graph)
    answers = len(arrivals.accepted) - answers
    # Each resident's message is answered 2xx once; every other 2xx was a status.
    statuses = _answered(graph) - webhooks - (len(graph.incoming) - pushed)
    stall_ms, stalls = lags.worst_ms(started, time.monotonic())
    return InboundResult(
        closed=closed,
        rounds=[round(r.messages_per_s, 2) for r in rounds["on"]],
        lifted=lifted,
        lifted_rounds=[round(r.messages_per_s, 2) for r in rounds["lifted"]],
        steady=steady,
        statuses_per_answer=statuses / answers if answers else math.nan,
        emulation_stall_ms=stall_ms,
        emulation_stalls=stalls,
    )


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class LogSummary:
    errors: int
    warnings: int
    tracebacks: int
    distinct: list[str]  # the different ERROR and WARNING lines, timestamps left out, at most 10


def summarise_log(lines: list[str]) -> LogSummary:
    errors = warnings = tracebacks = 0
    distinct: dict[str, None] = {}
    for line in lines:
        tracebacks += line.startswith("Traceback")
        found = re.search(r" (ERROR|WARNING|CRITICAL) (.*)", line)
        if found is None:
            continue
        if found[1] == "WARNING":
            warnings += 1
        else:
            errors += 1
        # Numbers (ids, counts) made alike, so that one kind of line is listed once.
        alike = re.sub(r"\d+", "N", found[2])[:160]
        distinct.setdefault(f"{found[1]} {alike}", None)
    return LogSummary(errors, warnings, tracebacks, list(distinct)[:10])


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "sqlite": sqlite3.sqlite_version,
        "pywa": version("pywa"),
        "system": f"{platform.system()} {platform.release()}",
    }


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    telegram = EmulatedBotAPI(token="424242:BENCH-TOKEN")
    graph = EmulatedGraphAPI(per_second=options.limit)
    async with asyncio.timeout(options.timeout):
        await telegram.start()
        await graph.start()
        arrivals = Arrivals(graph)
        lags = LagMonitor()
        lags.start()
        # As serve does for itself (bot.cli._tune_garbage_collector): the emulation keeps every
        # call and message, and with the default thresholds its full collections stalled its
        # event loop for up to 170 ms, which let the bot's messages in together, over the limit.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-whatsapp-") as tmp:
                process = WhatsAppServe(telegram, graph, Path(tmp), options.pace)
                graph.webhook_url = f"http://127.0.0.1:{process.port}/whatsapp"
                try:
                    bulk = await measure_bulk(options, graph, arrivals, process, lags, progress)
                    if not bulk.stalled and not await graph.verify(graph.webhook_url, VERIFY_TOKEN):
                        raise BenchError("serve's /whatsapp refused Meta's handshake")
                    inbound = await measure_inbound(
                        options, graph, arrivals, process, lags, progress
                    )
                    await process.stop()
                except BenchError as error:
                    raise BenchError(f"{error}\n--- serve's log ---\n{process.tail()}") from None
                finally:
                    await process.kill()
                log = summarise_log(process.log_lines())
        finally:
            await lags.stop()
            arrivals.stop()
            await graph.stop()
            await telegram.stop()
    return report(options, bulk, inbound, log)


def report(
    options: argparse.Namespace, bulk: BulkResult, inbound: InboundResult, log: LogSummary
) -> dict[str, Any]:
    sent = bulk.rows.get("sent", 0)
    figures = {
        "machine": machine(),
        "database": "sqlite",
        "bulk": asdict(bulk),
        "inbound": asdict(inbound),
        "serve_log": asdict(log),
        "targets": {
            "bulk_95_to_100_percent_of_limit": 0.95 <= bulk.fraction_of_limit <= 1.0
            and bulk.busiest_second <= options.limit,
            "bulk_none_lost_or_duplicated": bulk.lost == 0
            and bulk.duplicated == 0
            and sent == bulk.queued
            and bulk.rows_matching == sent,
        },
    }
    return {k: rounded(v) for k, v in figures.items()}


def _cpu_text(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f} %"


def closed_row(name: str, closed: dict[str, Any]) -> str:
    latency = closed["latency"]
    return (
        f"{name:<22}{closed['messages_per_s']:>8.1f}{closed['webhooks_per_s']:>12.1f}"
        f"{latency['p50_ms']:>9.1f}{latency['p99_ms']:>9.1f}{latency['max_ms']:>9.1f}"
        f"{_cpu_text(closed['bot_cpu_percent']):>9}{closed['harness_cpu_percent']:>8.0f} %"
        f"{_cpu_text(closed['others_cpu_percent']):>8}{closed['rejected_130429']:>8}"
        f"{closed['unanswered']:>12}"
    )


def table(figures: dict[str, Any]) -> str:
    m, b, i, log = figures["machine"], figures["bulk"], figures["inbound"], figures["serve_log"]
    targets = figures["targets"]
    closed, lifted, steady = i["closed"], i["lifted"], i["steady"]
    statuses = "posted to the webhook" if b["statuses"] else "not posted (--no-statuses)"
    rows = ", ".join(f"{k} {v:,}" for k, v in sorted(b["rows"].items()))
    delivery = ", ".join(f"{k} {v:,}" for k, v in sorted(b["delivery"].items()))
    heading = f"steady {steady['rate']:g}/s, {steady['seconds']:g} s"
    rounds = ", ".join(f"{r:.1f}" for r in i["rounds"])
    lifted_rounds = ", ".join(f"{r:.1f}" for r in i["lifted_rounds"])
    lines = [
        f"WhatsApp benchmark: python {m['python']}, {m['cpus']} CPUs ({m['cpu_model']}), "
        f"SQLite {m['sqlite']}, pywa {m['pywa']}, {m['system']}",
        "",
        f"bulk: {b['queued']:,} reminders to WhatsApp residents with an open window; Graph "
        f"emulation limit {b['limit']:g}/s, bot pace {b['pace']:g}/s; statuses {statuses}",
        f"  {b['per_second']:.2f} msg/s = {100 * b['fraction_of_limit']:.1f} % of the limit "
        f"({b['accepted']:,} accepted over {b['seconds']:.1f} s, first to last); busiest second "
        f"{b['busiest_second']}",
        f"  gaps between messages: shortest {b['min_gap_ms']:.1f} ms (pace "
        f"{1000 / b['pace']:.1f} ms), longest {b['longest_gap_ms']:.0f} ms; {b['pauses']} pauses "
        f"over {1000 * PAUSE:.0f} ms",
        f"  where the {b['seconds']:.1f} s went: {b['at_pace_s']:.1f} s at the bot's own pace, "
        f"{b['paused_s']:.1f} s in pauses, {b['seconds'] - b['at_pace_s'] - b['paused_s']:.1f} s "
        f"in smaller delays; the emulation's loop was late by up to "
        f"{b['emulation_stall_ms']:.0f} ms ({b['emulation_stalls']} times over 10 ms)",
        f"  130429 answers: {b['rejected_130429']}; 131056: {b['rejected_131056']}",
        f"  lost {b['lost']}, duplicated {b['duplicated']} (residents who got it: "
        f"{b['delivered']:,}); outbox rows: {rows}; sent rows naming an accepted message: "
        f"{b['rows_matching']:,}",
        f"  delivery status kept on the rows: {delivery}; rows whose statuses the webhook "
        f"answered 200 but kept none: {b['statuses_dropped']:,}",
        f"  wall time {b['wall_s']:.1f} s from starting serve to every row marked (first "
        f"message after {b['first_after_s']:.1f} s){'; STALLED' if b['stalled'] else ''}",
        f"  CPU while sending, in % of one core: bot {_cpu_text(b['bot_cpu_percent'])}, this "
        f"process (the emulation) {b['harness_cpu_percent']:.0f} %, the rest of the machine "
        f"{_cpu_text(b['others_cpu_percent'])}",
        f"  target 95-100 % of the limit: "
        f"{verdict(targets['bulk_95_to_100_percent_of_limit'])}; none lost or duplicated: "
        f"{verdict(targets['bulk_none_lost_or_duplicated'])}",
        "",
        f"inbound: residents writing through the signed webhook to helpdesk serve "
        f"({closed['residents']} at once, {closed['messages']:,} messages a round)",
        f"{'closed loop':<22}{'msgs/s':>8}{'webhooks/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'bot CPU':>9}{'fake CPU':>10}{'others':>8}{'130429':>8}"
        f"{'unanswered':>12}",
        closed_row(f"limit {figures['bulk']['limit']:g}/s", closed),
        closed_row("limit lifted", lifted),
        f"  (the median of rounds at {rounds} msgs/s with the limit, {lifted_rounds} lifted)",
        f"{heading:<22}{'issued/s':>8}{'late':>12}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'bot CPU':>9}{'':>10}{'others':>8}{'130429':>8}{'unanswered':>12}",
        f"{'limit ' + format(figures['bulk']['limit'], 'g') + '/s':<22}"
        f"{steady['achieved_per_s']:>8.1f}{steady['late']:>12}"
        f"{steady['latency']['p50_ms']:>9.1f}{steady['latency']['p99_ms']:>9.1f}"
        f"{steady['latency']['max_ms']:>9.1f}{_cpu_text(steady['bot_cpu_percent']):>9}{'':>10}"
        f"{_cpu_text(steady['others_cpu_percent']):>8}{steady['rejected_130429']:>8}"
        f"{steady['unanswered']:>12}",
        f"  webhook statuses per answer: {i['statuses_per_answer']:.2f} (sent + delivered); the "
        f"emulation's loop was late by up to {i['emulation_stall_ms']:.0f} ms "
        f"({i['emulation_stalls']} times over 10 ms)",
        "",
        "latency: message pushed into the emulation -> the last message of the bot's answer "
        "accepted there.",
        "webhooks/s: every POST to /whatsapp answered 2xx (the residents' messages and the "
        "statuses of the bot's answers).",
        "CPU in % of one core; others: the rest of the machine (other processes, the kernel): "
        "not 0 means the figures shared the cores.",
        f"serve's log: {log['errors']} errors, {log['warnings']} warnings, "
        f"{log['tracebacks']} tracebacks",
        *(f"  {line}" for line in log["distinct"]),
    ]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.whatsapp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bulk", type=int, default=2_000, help="reminders to send in bulk (default 2000)"
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=80.0,
        help="messages/s the Graph emulation accepts (default 80)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        help="the bot's [whatsapp] per_second in its helpdesk.toml (default: --limit, as "
        "Meta's documented throughput would be configured)",
    )
    parser.add_argument(
        "--statuses",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="post Meta's statuses of the bulk messages to the webhook (default: yes)",
    )
    parser.add_argument("--residents", type=int, default=40, help="closed loop (default 40)")
    parser.add_argument(
        "--statuses-per-resident",
        type=int,
        default=5,
        help="/status messages each resident types after the consent (default 5)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed-loop rounds, the median kept (default 3)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="steady messages/s (default 20)")
    parser.add_argument("--seconds", type=float, default=15.0, help="steady phase (default 15)")
    parser.add_argument(
        "--steady-residents", type=int, default=60, help="residents in the steady phase"
    )
    parser.add_argument("--warmup", type=int, default=4, help="residents warming the bot up")
    parser.add_argument("--timeout", type=float, default=400.0, help="for the whole benchmark")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    positive = (options.bulk, options.residents, options.rounds, options.steady_residents)
    if min(positive) < 1 or options.limit <= 0 or options.rate <= 0 or options.seconds <= 0:
        parser.error(
            "--bulk, --limit, --residents, --rounds, --steady-residents, --rate and --seconds "
            "must be positive"
        )
    if options.pace is None:
        options.pace = options.limit
    if not 0 < options.pace <= 1000:
        parser.error("--pace must be from 1 to 1000, as per_second in helpdesk.toml")
    if options.statuses_per_resident < 0 or options.warmup < 0:
        parser.error("--statuses-per-resident and --warmup cannot be negative")
    return options


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    # Errors only: the figures count what matters (the serve's own log is summarised).
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")
    return run_command(options, run, table)


if __name__ == "__main__":
    sys.exit(main())
