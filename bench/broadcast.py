"""Broadcast benchmark: one notice to many residents, sent by `helpdesk run` as deployed (its own
process, SQLite WAL + synchronous=FULL) to the Bot API emulation in this process, which answers
429 (retry after 1 s) to any message over 30 in one second, as Telegram does.

--recipients residents (10,000) who agreed to the privacy notice, a third each reading Italian,
English and Arabic; the notice has an Italian and an Arabic text, so English readers get the
Italian one under a line naming its language. The bot is started first; then the broadcast is
queued as an organiser's Send in the chat queues it (`bot.broadcasts.notice.queue`, one outbox
row per resident in one transaction), and the running bot finds it at its next look at the
outbox, and shows the organiser its progress in one message it edits, then a report.

Two runs, each on a fresh database:
  straight     the bot sends everything.
  killed       the bot is killed with SIGKILL once half the residents have their message, then
               started again: it must resume with nobody missing; a message in flight at the
               kill (on its way, not yet marked sent) may go twice: at most the sender's
               IN_FLIGHT of them.
Figures:
  msg/s          (accepted - 1) / seconds from the first message accepted to the last
  of limit       msg/s as a share of the emulation's 30/s; the target is at least 95 %
  busiest 1 s    the most messages accepted in any one second
  429s           messages the emulation refused for going over the limit
  first after    seconds from the broadcast's commit to the first message accepted
  missing        residents who got no message (target 0)
  duplicates     residents who got more than one (0 straight; killed: at most IN_FLIGHT)
  edits          times the organiser's progress message was edited while it went
  report after   seconds from the last message accepted to the organiser's report
  bot MiB        the bot process's peak resident memory (VmHWM), the last process in a run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.intake import BenchError, run_command
from bench.reminders import SIGNED_UP_AT, busiest_second, insert_all, migrated, residents
from bot.broadcasts.notice import Notice, queue
from bot.outbox.sender import IN_FLIGHT
from bot.residents.privacy import NOTICE_VERSION
from db.models import Consent
from db.session import create_engine, session_factory
from handlers.emulation.telegram import Call, EmulatedBotAPI

TOKEN = "123456:BENCH-TOKEN"
ORGANISER = 10**9  # a Telegram id no resident has
TEXTS = {
    "it": "Sabato festa in cortile, alle 16! Portate qualcosa da condividere.",
    "ar": "حفلة في الفناء يوم السبت الساعة 4 عصرًا! أحضروا شيئًا للمشاركة.",
}


@dataclass
class RunResult:
    name: str
    recipients: int
    per_second: float
    percent_of_limit: float
    busiest_second: int
    rejected_429: int
    first_after_s: float
    missing: int
    duplicates: int
    progress_edits: int
    report_after_s: float
    bot_mib: float
    wall_s: float


def peak_mib(pid: int) -> float:
    """A live process's peak resident memory, from the kernel."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_bot(database_url: str, api_url: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url, "DATABASE_URL": database_url}
    log = (folder / "bot.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, cwd=folder, stdout=log, stderr=log
    )


async def measure(name: str, count: int, kill_at: int | None, limit_s: float) -> RunResult:
    server = EmulatedBotAPI(token=TOKEN, rate_limit_per_second=30)
    await server.start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
            folder = Path(tmp)
            url = await migrated(folder)
            engine = create_engine(url)
            sessions = session_factory(engine)
            people = residents(count)
            await insert_all(sessions, people)
            agreed = [
                Consent(
                    resident_id=n,
                    version=NOTICE_VERSION,
                    accepted=True,
                    answered_at=SIGNED_UP_AT,
                )
                for n in range(1, count + 1)
            ]
            await insert_all(sessions, agreed)
            bot = start_bot(url, server.base_url, folder)
            try:
                await server.wait_for_call("getUpdates", timeout=60)  # it is up and polling
                notice = Notice.of({"text": TEXTS}, ("it", "en", "ar"), "it")
                async with sessions() as session, session.begin():
                    await queue(session, notice, "it", datetime.now(UTC), ORGANISER, language="it")
                queued_at = time.monotonic()
                calls_before = len(server.calls)

                def delivered() -> int:
                    return sum(1 for n in range(1, count + 1) if server.chats.get(n))

                killed = False
                while delivered() < count:
                    if time.monotonic() - started > limit_s:
                        raise BenchError(f"{name}: {delivered()} of {count} after {limit_s} s")
                    if kill_at is not None and not killed and delivered() >= kill_at:
                        os.kill(bot.pid, signal.SIGKILL)
                        bot.wait()
                        killed = True
                        bot = start_bot(url, server.base_url, folder)
                    if bot.poll() is not None:
                        raise BenchError(f"{name}: the bot stopped (see its log)")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(2)  # anything still on its way (a duplicate) arrives
                reported = await server.wait_for_call(
                    "sendMessage",
                    lambda call: _to_organiser(call) and "Inviati:" in str(call.params.get("text")),
                    timeout=30,
                )
                memory = peak_mib(bot.pid)
            finally:
                if bot.poll() is None:
                    bot.send_signal(signal.SIGINT)
                    bot.wait(timeout=30)
                await engine.dispose()
    finally:
        await server.stop()
    sent = [
        call.at
        for call in server.calls[calls_before:]
        if call.method == "sendMessage" and call.ok and not _to_organiser(call)
    ]
    received = [len(server.chats.get(n, [])) for n in range(1, count + 1)]
    edits = [
        call for call in server.calls if call.method == "editMessageText" and _to_organiser(call)
    ]
    seconds = (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
    rate = (len(sent) - 1) / seconds if seconds else 0.0
    return RunResult(
        name=name,
        recipients=count,
        per_second=rate,
        percent_of_limit=100 * rate / 30,
        busiest_second=busiest_second(sorted(sent)),
        rejected_429=server.rejected_429,
        first_after_s=(sent[0] - queued_at) if sent else float("nan"),
        missing=sum(1 for n in received if n == 0),
        duplicates=sum(1 for n in received if n > 1),
        progress_edits=len(edits),
        report_after_s=reported.at - sent[-1],
        bot_mib=memory,
        wall_s=time.monotonic() - started,
    )


def _to_organiser(call: Call) -> bool:
    return str(call.params.get("chat_id")) == str(ORGANISER)


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    results = []
    about = options.recipients // 29
    progress(f"straight: {options.recipients:,} recipients at 30/s (about {about} s)...")
    results.append(await measure("straight", options.recipients, None, options.timeout))
    progress("killed: the same, the bot killed with SIGKILL halfway and started again...")
    results.append(
        await measure("killed", options.recipients, options.recipients // 2, options.timeout)
    )
    return {
        "python": sys.version.split()[0],
        "in_flight": IN_FLIGHT,
        "runs": [asdict(r) for r in results],
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"broadcast benchmark: python {figures['python']}, helpdesk run against the Bot API "
        "emulation (429 over 30 messages a second)",
        f"{'run':<10}{'msg/s':>8}{'of limit':>10}{'busiest 1 s':>13}{'429s':>6}"
        f"{'first after':>13}{'missing':>9}{'duplicates':>12}{'edits':>7}{'report after':>14}"
        f"{'bot MiB':>9}{'wall':>8}",
    ]
    for run_ in figures["runs"]:
        lines.append(
            f"{run_['name']:<10}{run_['per_second']:>8.2f}{run_['percent_of_limit']:>9.1f}%"
            f"{run_['busiest_second']:>13}{run_['rejected_429']:>6}"
            f"{run_['first_after_s']:>12.1f}s{run_['missing']:>9}{run_['duplicates']:>12}"
            f"{run_['progress_edits']:>7}{run_['report_after_s']:>13.1f}s"
            f"{run_['bot_mib']:>9.0f}{run_['wall_s']:>7.0f}s"
        )
    straight, killed = figures["runs"]
    ok = straight["percent_of_limit"] >= 95 and straight["missing"] == straight["duplicates"] == 0
    ok_killed = killed["missing"] == 0 and killed["duplicates"] <= figures["in_flight"]
    lines.append(
        f"targets: straight >= 95 % with none missing or twice: {'OK' if ok else 'MISSED'}; "
        f"killed: none missing, at most {figures['in_flight']} twice: "
        f"{'OK' if ok_killed else 'MISSED'}"
    )
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.broadcast",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=10_000, help="default 10000")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds, for each run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args(argv)
    if options.recipients < 2:
        parser.error("--recipients must be at least 2")
    return options


def main(argv: list[str] | None = None) -> int:
    return run_command(_parse(argv), run, table)


if __name__ == "__main__":
    sys.exit(main())
