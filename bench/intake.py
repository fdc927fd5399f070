"""Intake benchmark: residents complete intakes against `helpdesk run` and a bare PTB echo bot."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from handlers.emulation.telegram import JSON, EmulatedBotAPI, SentMessage, User

TOKEN = "424242:BENCH-TOKEN"
REPO = Path(__file__).resolve().parent.parent
REPLY_TIMEOUT = 30.0  # one reply slower than this is a failure, not a measurement
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

Kind = Literal["text", "press", "toggle"]
BotName = Literal["sportello", "echo"]
SETUPS: dict[BotName, str] = {
    "sportello": (
        "`helpdesk run` as deployed: aiohttp Bot API client, AIORateLimiter (429s retried, "
        "group pace), chats handled side by side, SQLite WAL + synchronous=FULL"
    ),
    "echo": "bare PTB (bench.echo_bot): no rate limiter, no database",
}


Measure = Callable[[argparse.Namespace, Callable[[str], None]], Coroutine[Any, Any, dict[str, Any]]]


class BenchError(Exception):
    """The benchmark could not measure: a bot died, answered wrongly or not at all."""


# ---- the Bot API emulation, with arrival times ---------------------------------------------


class TimedEmulatedBotAPI(EmulatedBotAPI):
    """The tests' fake Telegram, telling a waiting resident when the bot's reply arrives."""

    def __init__(self, token: str, latency: float = 0.0) -> None:
        super().__init__(token=token)
        self.latency = latency  # seconds each Bot API call takes on top, as over a real network
        self._expected: dict[int, tuple[str, asyncio.Future[tuple[float, SentMessage]]]] = {}

    def expect(self, chat_id: int, method: str) -> asyncio.Future[tuple[float, SentMessage]]:
        """The next `method` call into `chat_id`, as (perf_counter at arrival, message)."""
        future: asyncio.Future[tuple[float, SentMessage]] = (
            asyncio.get_running_loop().create_future()
        )
        self._expected[chat_id] = (method, future)
        return future

    async def _handle(self, request: web.Request) -> web.Response:
        if self.latency and not request.path.endswith("/getUpdates"):
            await asyncio.sleep(self.latency)
        return await super()._handle(request)

    def api_calls(self) -> int:
        """Calls the bot made so far, long polls left out."""
        return sum(1 for call in self.calls if call.method != "getUpdates")

    def _m_sendMessage(self, p: JSON) -> JSON:
        at = time.perf_counter()
        result = super()._m_sendMessage(p)
        self._arrived("sendMessage", p["chat_id"], self.chats[p["chat_id"]][-1], at)
        return result

    def _m_editMessageText(self, p: JSON) -> JSON:
        at = time.perf_counter()
        result = super()._m_editMessageText(p)
        self._arrived(
            "editMessageText", p["chat_id"], self._sent[(p["chat_id"], p["message_id"])], at
        )
        return result

    def _arrived(self, method: str, chat_id: int, message: SentMessage, at: float) -> None:
        waiting = self._expected.get(chat_id)
        if waiting is not None and waiting[0] == method and not waiting[1].done():
            del self._expected[chat_id]
            waiting[1].set_result((at, message))


# ---- residents and their scripts ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: Kind  # type a text, press a button, or toggle a multiple choice (answered by an edit)
    value: str  # the text, or the label of the button
    expect: str  # a fragment of Sportello's reply


def _consent() -> list[Step]:
    return [
        Step("text", "/start", "Which language"),
        Step("press", "English", "Before we start"),
        Step("press", "Yes, I agree", "What do you need help with?"),
    ]


def housing_script(rng: random.Random) -> list[Step]:
    household = rng.randint(1, 6)
    return [
        *_consent(),
        Step("press", "Housing help", "best describes your situation"),
        Step("press", rng.choice(["no home", "eviction notice", "overcrowded"]), "How many people"),
        Step("text", str(household), "children under 18"),
        Step("text", str(rng.randint(0, household - 1)), "Where do you live?"),
        Step("text", str(rng.randint(1, 9)), "ERP"),  # a Municipio's number, typed
        Step("press", rng.choice(["Yes", "No", "I don't know"]), "How soon"),
        Step("press", rng.choice(["Within a few days", "It can wait"]), "best time"),
        Step("press", rng.choice(["Morning", "Evening", "Any time"]), "take part"),
        Step("press", rng.choice(["Yes", "No"]), "please check your answers"),
        Step("press", "Confirm and send", "SP-"),
    ]


def food_script(rng: random.Random) -> list[Step]:
    household = rng.randint(2, 6)
    children = rng.randint(1, household - 1)
    ages = " ".join(str(rng.randint(0, 17)) for _ in range(children))
    return [
        *_consent(),
        Step("press", "Food aid", "How many people"),
        Step("text", str(household), "children under 18"),
        Step("text", str(children), "How old are the children?"),
        Step("text", ages, "dietary needs"),
        Step("toggle", rng.choice(["Halal", "No pork", "Vegetarian", "Food allergies"]), "dietary"),
        Step("press", "Done", "Where do you live?"),
        Step("press", f"Municipio {rng.randint(1, 9)}", "How soon"),
        Step("text", str(rng.randint(1, 3)), "please check your answers"),
        Step("press", "Confirm and send", "SP-"),
    ]


def script_for(user_id: int) -> list[Step]:
    """Half the residents ask for housing help, half for food aid with children."""
    rng = random.Random(user_id)
    return housing_script(rng) if user_id % 2 else food_script(rng)


def _buttons(message: SentMessage) -> list[dict[str, str]]:
    markup = message.reply_markup or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _bare(label: str) -> str:
    """A button label without its "3. " number or "✓ " mark."""
    label = label.removeprefix("✓ ").removeprefix("☑ ").removeprefix("☐ ")
    number, dot, rest = label.partition(". ")
    return rest if dot and number.isdigit() else label


def button_data(message: SentMessage, label: str) -> str:
    buttons = _buttons(message)
    exact = [b for b in buttons if _bare(b["text"]) == label]
    found = exact or [b for b in buttons if label in b["text"]]
    if not found:
        raise BenchError(f"no button {label!r} among {[b['text'] for b in buttons]}")
    return found[0]["callback_data"]


class Resident:
    """One person going through a scripted intake, one update at a time."""

    def __init__(self, server: TimedEmulatedBotAPI, user_id: int, bot: BotName) -> None:
        self.server = server
        self.user = User(user_id, first_name=f"Resident {user_id}", language_code="en")
        self.bot = bot
        self.script = script_for(user_id)
        self.position = 0
        self.last: SentMessage | None = None  # the bot's latest reply, whose buttons get pressed

    @property
    def done(self) -> bool:
        return self.position >= len(self.script)

    async def step(self) -> float:
        """Send the next update; the seconds until the bot's reply to it reached the server."""
        step = self.script[self.position]
        toggle = step.kind == "toggle" and self.bot == "sportello"
        reply = self.server.expect(self.user.id, "editMessageText" if toggle else "sendMessage")
        pushed = time.perf_counter()
        if step.kind == "text":
            self.server.push_text(self.user, step.value)
        else:
            if self.last is None:
                raise BenchError(f"resident {self.user.id}: nothing to press for {step}")
            data = "again" if self.bot == "echo" else button_data(self.last, step.value)
            self.server.push_callback(self.user, self.last, data)
        try:
            arrived, message = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except TimeoutError:
            raise BenchError(
                f"{self.bot}: no reply to resident {self.user.id}'s {step} within "
                f"{REPLY_TIMEOUT:.0f} s\n{self.server.dump()}"
            ) from None
        text = message.text or ""
        wanted = step.expect if self.bot == "sportello" else ""
        if self.bot == "echo" and step.kind == "text":
            wanted = step.value
        if wanted not in text:
            raise BenchError(
                f"{self.bot}: resident {self.user.id} expected {wanted!r} after {step}, "
                f"got:\n{text}"
            )
        self.last = message
        self.position += 1
        return arrived - pushed


# ---- the bot under test, as a subprocess -------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), or None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BotProcess:
    """`helpdesk run` or the echo bot, in a fresh directory with a fresh SQLite database."""

    ready_call = "getUpdates"  # the Bot API call that shows the bot is taking updates

    def __init__(self, bot: BotName, server: EmulatedBotAPI, workdir: Path) -> None:
        self.bot = bot
        self.server = server
        self.workdir = workdir
        self.log = workdir / f"{bot}.log"
        self.process: asyncio.subprocess.Process | None = None

    def argv(self) -> list[str]:
        if self.bot == "echo":
            return [sys.executable, "-m", "bench.echo_bot"]
        helpdesk = Path(sys.executable).parent / "helpdesk"
        if helpdesk.exists():
            return [str(helpdesk), "run"]
        return [sys.executable, "-m", "bot.cli", "run"]

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "HELPDESK_CONFIG"}
        pythonpath = [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
        env |= {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'helpdesk.db'}",
            "PYTHONPATH": os.pathsep.join(pythonpath),
        }
        return env

    async def start(self) -> None:
        """Start the bot and wait until it takes updates (its first `ready_call`)."""
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv(),
                cwd=self.workdir,  # no helpdesk.toml there: the built-in defaults apply
                env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not any(call.method == self.ready_call for call in self.server.calls):
            if self.process.returncode is not None:
                raise BenchError(f"{self.bot} exited with {self.process.returncode}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.bot} did not call {self.ready_call} within {STARTUP_TIMEOUT:.0f} s\n"
                    f"{self.tail()}"
                )
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float | None:
        return _cpu_seconds(self.process.pid) if self.process else None

    async def stop(self) -> None:
        """SIGINT, as a deployed bot gets it; killed if it does not stop in time."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise BenchError(
                f"{self.bot} did not stop within {STOP_TIMEOUT:.0f} s of SIGINT"
            ) from None

    async def kill(self) -> None:
        """After an error: no grace, but still reaped."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.kill()
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# ---- the two phases ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass
class Latency:
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(percentile(ms, 50), percentile(ms, 99), max(ms, default=math.nan))


@dataclass
class Closed:
    residents: int
    updates: int
    seconds: float
    updates_per_s: float
    latency: Latency
    api_calls_per_update: float
    bot_cpu_percent: float | None  # of one core
    harness_cpu_percent: float  # this process: the Bot API emulation and the residents


@dataclass
class Steady:
    rate: float
    seconds: float
    residents: int
    issued: int
    achieved_per_s: float
    late: int  # updates issued more than one interval behind schedule: every resident was waiting
    latency: Latency


@dataclass
class BotResult:
    bot: str
    closed: Closed
    steady: Steady
    setup: str


class Population:
    """Hands out residents with user ids never used before on this server."""

    def __init__(self, server: TimedEmulatedBotAPI, bot: BotName, first_id: int) -> None:
        self.server, self.bot = server, bot
        self._ids = itertools.count(first_id)

    def new(self) -> Resident:
        return Resident(self.server, next(self._ids), self.bot)


async def closed_loop(residents: list[Resident]) -> tuple[int, float, list[float]]:
    """Every resident sends its next update as soon as the last one is answered."""
    latencies: list[float] = []

    async def go(resident: Resident) -> None:
        while not resident.done:
            latencies.append(await resident.step())

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for resident in residents:
            group.create_task(go(resident))
    return len(latencies), time.perf_counter() - started, latencies


async def open_loop(population: Population, residents: int, rate: float, seconds: float) -> Steady:
    """Updates at a fixed rate, each from an idle resident (at most one outstanding each)."""
    idle: asyncio.Queue[Resident] = asyncio.Queue()
    for _ in range(residents):
        idle.put_nowait(population.new())
    latencies: list[float] = []
    issued = late = 0

    async def one(resident: Resident) -> None:
        latencies.append(await resident.step())
        idle.put_nowait(population.new() if resident.done else resident)

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
                resident = await asyncio.wait_for(idle.get(), max(0.0, end - time.perf_counter()))
            except TimeoutError:
                break  # every resident still waiting for the bot when the window closed
            late += time.perf_counter() - due > interval
            issued += 1
            group.create_task(one(resident))
    return Steady(
        rate=rate,
        seconds=seconds,
        residents=residents,
        issued=issued,
        achieved_per_s=issued / seconds,
        late=late,
        latency=Latency.of(latencies),
    )


async def closed_round(
    server: TimedEmulatedBotAPI,
    process: BotProcess,
    population: Population,
    options: argparse.Namespace,
) -> Closed:
    """One closed-loop round with residents the bot has never seen."""
    residents = [population.new() for _ in range(options.residents)]
    calls_before, cpu_before = server.api_calls(), process.cpu_seconds()
    harness_before = time.process_time()
    updates, elapsed, latencies = await closed_loop(residents)
    harness = time.process_time() - harness_before
    calls, cpu_after = server.api_calls() - calls_before, process.cpu_seconds()
    cpu = (
        None
        if cpu_before is None or cpu_after is None
        else 100 * (cpu_after - cpu_before) / elapsed
    )
    return Closed(
        residents=options.residents,
        updates=updates,
        seconds=elapsed,
        updates_per_s=updates / elapsed,
        latency=Latency.of(latencies),
        api_calls_per_update=calls / updates,
        bot_cpu_percent=cpu,
        harness_cpu_percent=100 * harness / elapsed,
    )


async def measure(
    bot: BotName, options: argparse.Namespace, process_type: type[BotProcess] = BotProcess
) -> BotResult:
    """Start a fake server and the bot, warm up, run both phases, stop everything."""
    server = TimedEmulatedBotAPI(TOKEN, latency=options.api_latency / 1000)
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{bot}-") as tmp:
            process = process_type(bot, server, Path(tmp))
            try:
                await process.start()
                population = Population(server, bot, first_id=10_000)
                await closed_loop([population.new() for _ in range(options.warmup)])

                # The median of a few rounds: one round of a fast bot lasts seconds, and a
                # shared machine's hiccup would otherwise decide the ratio.
                rounds = [
                    await closed_round(server, process, population, options)
                    for _ in range(options.rounds)
                ]
                closed = sorted(rounds, key=lambda r: r.updates_per_s)[len(rounds) // 2]
                steady = await open_loop(
                    population, options.steady_residents, options.rate, options.seconds
                )
                await process.stop()
            except BenchError as error:
                raise BenchError(
                    f"{error}\n--- the {bot} bot's log ---\n{process.tail()}"
                ) from None
            finally:
                await process.kill()
    finally:
        await server.stop()
    return BotResult(bot=bot, closed=closed, steady=steady, setup=SETUPS[bot])


# ---- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def report(results: dict[str, BotResult], options: argparse.Namespace) -> dict[str, Any]:
    sportello, echo = results["sportello"], results["echo"]
    ratio = sportello.closed.updates_per_s / echo.closed.updates_per_s
    figures = {
        "python": platform.python_version(),
        "database": "sqlite",
        "cpus": os.cpu_count(),
        "residents": options.residents,
        "rate": options.rate,
        "api_latency_ms": options.api_latency,
        "seconds": options.seconds,
        "sportello": asdict(sportello),
        "echo": asdict(echo),
        "ratio": ratio,
        "targets": {
            "ratio_at_least_0.5": ratio >= 0.5,
            "steady_p99_under_100_ms": sportello.steady.latency.p99_ms < 100
            and sportello.steady.achieved_per_s >= 0.95 * options.rate,
        },
    }
    return {k: rounded(v) for k, v in figures.items()}


def closed_row(name: str, result: dict[str, Any]) -> str:
    c, lat = result["closed"], result["closed"]["latency"]
    cpu = "?" if c["bot_cpu_percent"] is None else f"{c['bot_cpu_percent']:.0f} %"
    return (
        f"{name:<22}{c['updates_per_s']:>10.1f}{lat['p50_ms']:>9.1f}{lat['p99_ms']:>9.1f}"
        f"{lat['max_ms']:>9.1f}{c['api_calls_per_update']:>11.2f}{cpu:>9}"
        f"{c['harness_cpu_percent']:>8.0f} %"
    )


def steady_row(name: str, result: dict[str, Any]) -> str:
    s, lat = result["steady"], result["steady"]["latency"]
    return (
        f"{name:<22}{s['achieved_per_s']:>10.1f}{lat['p50_ms']:>9.1f}{lat['p99_ms']:>9.1f}"
        f"{lat['max_ms']:>9.1f}{s['late']:>11}"
    )


def table(figures: dict[str, Any]) -> str:
    sportello, echo = figures["sportello"], figures["echo"]
    targets = figures["targets"]
    closed, steady = sportello["closed"], sportello["steady"]
    rate = f"{figures['rate']:g}/s"
    heading = f"steady {rate}, {figures['seconds']:g} s"
    return "\n".join(
        [
            f"intake benchmark: {closed['residents']} residents, {closed['updates']:,} updates "
            f"per bot (SQLite, python {figures['python']}, {figures['cpus']} CPUs)",
            f"{'closed loop':<22}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'calls/upd':>11}{'bot CPU':>9}{'fake CPU':>10}",
            closed_row("sportello", sportello),
            closed_row("echo bot", echo),
            f"{'ratio sportello/echo':<22}{figures['ratio']:>10.2f}   target >= 0.5: "
            f"{verdict(targets['ratio_at_least_0.5'])}",
            "",
            f"{heading:<22}{'issued/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'late':>11}",
            steady_row("sportello", sportello),
            steady_row("echo bot", echo),
            f"{'':<22}target p99 < 100 ms at {rate}: {verdict(targets['steady_p99_under_100_ms'])}",
            "",
            "latency: update pushed into the emulated Bot API -> the bot's reply arriving there",
            "  (its sendMessage; the edit for a multiple-choice toggle), on one clock.",
            f"steady: {steady['residents']} residents with at most one update outstanding each; "
            "late = issued",
            "  over one interval behind schedule because every resident was waiting for a reply.",
            f"sportello: {sportello['setup']}.",
            f"echo bot: {echo['setup']}.",
            "closed loop: the median of the rounds (--rounds); "
            f"Bot API latency added: {figures['api_latency_ms']:g} ms a call.",
        ]
    )


def _parse(argv: list[str] | None, prog: str, description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--residents", type=int, default=50, help="closed loop (default 50)")
    parser.add_argument("--rate", type=float, default=50.0, help="steady updates/s (default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady phase (default 10)")
    parser.add_argument(
        "--steady-residents", type=int, default=100, help="residents in the steady phase"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed-loop rounds, the median kept (default 3)"
    )
    parser.add_argument("--warmup", type=int, default=4, help="residents warming up each bot")
    parser.add_argument("--timeout", type=float, default=180.0, help="for the whole benchmark")
    parser.add_argument(
        "--api-latency",
        type=float,
        default=0.0,
        help="milliseconds added to every Bot API call, as over a real network (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    if options.residents < 1 or options.steady_residents < 1 or options.rate <= 0:
        parser.error("--residents, --steady-residents and --rate must be positive")
    return options


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, BotResult] = {}
    async with asyncio.timeout(options.timeout):
        for bot in ("sportello", "echo"):
            progress(f"measuring {bot}...")
            results[bot] = await measure(bot, options)
    return report(results, options)


def _first_error(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def main(argv: list[str] | None = None) -> int:
    return bench_main(argv, "python -m bench.intake", __doc__, run, table)


def bench_main(
    argv: list[str] | None,
    prog: str,
    description: str | None,
    measure_all: Measure,
    render: Callable[[dict[str, Any]], str],
) -> int:
    """The command line of a benchmark: options, progress on stderr, the table or JSON."""
    return run_command(_parse(argv, prog, description), measure_all, render)


def run_command(
    options: argparse.Namespace, measure_all: Measure, render: Callable[[dict[str, Any]], str]
) -> int:
    """Measure with progress on stderr, then print the table (or JSON with --json); a timeout
    or a BenchError is one line and exit status 1."""

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        figures = asyncio.run(measure_all(options, progress))
    except KeyboardInterrupt:
        return 130
    except Exception as group:
        error = _first_error(group)
        if isinstance(error, TimeoutError):
            print(f"bench: gave up after {options.timeout:g} s (--timeout)", file=sys.stderr)
        elif isinstance(error, BenchError):
            print(f"bench: {error}", file=sys.stderr)
        else:
            raise
        return 1
    print(json.dumps(figures, indent=2) if options.json else render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
