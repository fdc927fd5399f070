"""City scale benchmark: 1, 2 and 4 `helpdesk serve` workers on one PostgreSQL, behind one proxy
(bench.cluster), each worker its own process as deployed, the Bot API emulated in this process.

1. Webhooks. For each number of workers, on a fresh database: --residents residents (40) go
   through the intake of bench.intake as fast as the bot answers them (a closed loop), their
   updates posted by the emulation to the proxy as Telegram posts them (up to 40 at once, one
   chat's at a time), and the proxy passing them round robin to the workers. The median of
   --rounds rounds (3), each with residents never seen before.
     upd/s        updates answered a second
     p50, p99     reply latency: the update pushed into the emulation -> the bot's reply there
     CPU          in % of one core, over the round: the workers together, PostgreSQL's
                  processes, and this process (the emulation, the proxy, the residents)
   The machine's cores are shared by all of them: with 2 cores, more workers add little
   throughput; the ratios and the CPU split say where the time goes.
2. Bulk. With 4 workers, a broadcast to --bulk residents (1,500) queued in the database as an
   organiser's Send queues it; the leader sends it at Telegram's 30 messages a second, the
   emulation answering 429 to any message over 30 in one second.
     msg/s, of limit   (accepted - 1) / seconds from the first accepted to the last, and as a
                       share of 30/s (target: at least 95 %, never above)
     busiest 1 s       the most messages accepted in any one second (at most 30)
     429s, missing, duplicates
     sent by          the outbox messages each worker's /metrics counts as sent: the leader
                       all of them, the others none
3. Takeover. With 4 workers, the seconds until /healthz names a new leader after the leader is
   frozen with SIGSTOP (alive but stalled, as a machine that hangs: its lease must lapse, 15 s,
   and the others try every 5 s), then whether the frozen one, thawed, claims to lead again (it
   must not: another holds the lease); after the new leader is killed with SIGKILL (a worker of
   the same machine sees its process gone and takes over at its next try; on another machine
   the lease must lapse, as after SIGSTOP); after the next is stopped with SIGTERM (it lets the
   lease go: the next try takes it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.cluster import Cluster, cluster, postgres_database, until
from bench.intake import (
    TOKEN,
    Latency,
    Population,
    TimedEmulatedBotAPI,
    _cpu_seconds,
    closed_loop,
    rounded,
    run_command,
    verdict,
)
from bench.reminders import busiest_second, insert_all
from bot.broadcasts.notice import Notice, queue
from bot.residents.privacy import NOTICE_VERSION
from db.models import Consent, Resident
from db.session import create_engine, session_factory
from handlers.emulation.telegram import Call

WORKERS = (1, 2, 4)
LIMIT = 30  # Telegram's messages a second for bulk sending
ORGANISER = 10**9
CONFIG = f'default_language = "en"\norganisers = [{ORGANISER}]\nquiet_hours = ""\n'
NOTICE = "Saturday party in the courtyard, at 4pm! Bring something to share."


def postgres_cpu_seconds() -> float:
    """CPU time of PostgreSQL on this machine: its live processes, and the backends that ended
    (which their parent, the postmaster, counts as its children's time)."""
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def workers_cpu_seconds(running: Cluster) -> float:
    return sum(_cpu_seconds(worker.process.pid) or 0.0 for worker in running.workers)


async def webhook_round(running: Cluster, population: Population, residents: int) -> dict[str, Any]:
    before = (workers_cpu_seconds(running), postgres_cpu_seconds(), time.process_time())
    updates, seconds, latencies = await closed_loop([population.new() for _ in range(residents)])
    after = (workers_cpu_seconds(running), postgres_cpu_seconds(), time.process_time())
    used = [100 * (b - a) / seconds for a, b in zip(before, after, strict=True)]
    return {
        "updates": updates,
        "seconds": seconds,
        "updates_per_s": updates / seconds,
        "latency": Latency.of(latencies).__dict__,
        "cpu_workers": used[0],
        "cpu_postgres": used[1],
        "cpu_harness": used[2],
    }


@asynccontextmanager
async def deployed(
    workers: int, rate_limit: float | None = None
) -> AsyncIterator[tuple[Cluster, TimedEmulatedBotAPI]]:
    """`workers` workers on a fresh database, and the Bot API emulation they talk to."""
    telegram = TimedEmulatedBotAPI(TOKEN)
    telegram.rate_limit_per_second = rate_limit
    await telegram.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            async with (
                postgres_database("helpdesk_scale") as url,
                cluster(Path(tmp), url, telegram, config=CONFIG) as running,
            ):
                for _ in range(workers):
                    await running.start_worker()
                yield running, telegram
    finally:
        await telegram.stop()


async def measure_webhooks(
    count: int, options: argparse.Namespace, progress: Callable[[str], None]
) -> dict[str, Any]:
    progress(f"webhooks with {count} worker(s)...")
    async with deployed(count) as (running, telegram):
        population = Population(telegram, "sportello", first_id=10_000)
        await closed_loop([population.new() for _ in range(options.warmup)])
        rounds = [
            await webhook_round(running, population, options.residents)
            for _ in range(options.rounds)
        ]
        served = dict(running.balancer.served)
    median = sorted(rounds, key=lambda r: r["updates_per_s"])[len(rounds) // 2]
    return {"workers": count, **median, "served": sorted(served.values())}


async def fill_audience(url: str, count: int) -> None:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        agreed = datetime.now(UTC) - timedelta(days=1)
        people = [
            Resident(id=n, channel="telegram", channel_user_id=str(n), language="en")
            for n in range(1, count + 1)
        ]
        await insert_all(sessions, people)
        consents = [
            Consent(resident_id=n, version=NOTICE_VERSION, accepted=True, answered_at=agreed)
            for n in range(1, count + 1)
        ]
        await insert_all(sessions, consents)
        notice = Notice.of({"text": {"en": NOTICE}}, ("en",), "en")
        async with sessions() as session, session.begin():
            await queue(session, notice, "en", datetime.now(UTC), ORGANISER, language="en")
    finally:
        await engine.dispose()


async def measure_bulk_and_takeover(
    options: argparse.Namespace, progress: Callable[[str], None]
) -> dict[str, Any]:
    async with deployed(4, rate_limit=LIMIT) as (running, telegram):
        leader = await running.leader()
        progress(f"bulk: a broadcast to {options.bulk:,} with 4 workers...")

        def sent() -> list[Call]:
            return [
                call
                for call in telegram.calls
                if call.method == "sendMessage"
                and call.ok
                and NOTICE in str(call.params.get("text"))
            ]

        # A cheap look, not often: the emulation runs in this loop, and a look that holds it
        # would make it read messages sent apart together (and refuse some as over the limit).
        def everyone_has_it() -> bool:
            return all(telegram.chats.get(n) for n in range(1, options.bulk + 1))

        limit = options.bulk / LIMIT * 2 + 30
        # The emulation stands for Telegram's servers, which do not pause for this process's
        # garbage collection: a pause would make it read messages sent apart together.
        gc.collect()
        gc.disable()
        try:
            await fill_audience(running.database_url, options.bulk)
            await until(everyone_has_it, limit, "broadcast to everyone", every=0.5)
            await asyncio.sleep(2)  # a duplicate would come now
        finally:
            gc.enable()
        bulk = bulk_figures(sent(), options.bulk, telegram)
        bulk["leader_sends"] = sends_of(await running.metrics(leader))
        others = [w for w in running.workers if w is not leader]
        bulk["others_sends"] = sum([sends_of(await running.metrics(w)) for w in others])

        progress("takeover: the leader frozen with SIGSTOP...")
        started = time.monotonic()
        running.freeze(leader)
        successor = await running.leader(within=60, besides=leader)
        frozen = time.monotonic() - started
        running.thaw(leader)
        await asyncio.sleep(6)  # its next try
        thawed = await running.health(leader)
        progress("takeover: the new leader killed with SIGKILL...")
        started = time.monotonic()
        await running.kill(successor)
        third = await running.leader(within=60)
        killed = time.monotonic() - started
        progress("takeover: the next stopped with SIGTERM...")
        started = time.monotonic()
        third.process.terminate()
        await running.leader(within=60, besides=third)
        stopped = time.monotonic() - started
        takeover = {
            "sigstop_s": frozen,
            "thawed_leads": bool(thawed and thawed["leader"]),
            "sigkill_s": killed,
            "sigterm_s": stopped,
        }
    return {"bulk": bulk, "takeover": takeover}


def sends_of(metrics: str) -> int:
    """The outbox messages a worker sent, from its /metrics."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("helpdesk_outbox_sends_total{") and 'result="sent"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def bulk_figures(calls: list[Call], count: int, telegram: TimedEmulatedBotAPI) -> dict[str, Any]:
    moments = sorted(call.at for call in calls)
    seconds = moments[-1] - moments[0]
    rate = (len(moments) - 1) / seconds if seconds > 0 else float("nan")
    reached = Counter(int(call.params["chat_id"]) for call in calls)
    refused = sum(1 for call in telegram.calls if call.method == "sendMessage" and not call.ok)
    return {
        "messages": len(calls),
        "msg_per_s": rate,
        "of_limit": rate / LIMIT,
        "busiest_second": busiest_second(moments),
        "refused_429": refused,
        "missing": count - len(reached),
        "duplicates": sum(times - 1 for times in reached.values()),
    }


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    async with asyncio.timeout(options.timeout):
        webhooks = [await measure_webhooks(n, options, progress) for n in WORKERS]
        rest = await measure_bulk_and_takeover(options, progress)
    one = webhooks[0]["updates_per_s"]
    for row in webhooks:
        row["ratio"] = row["updates_per_s"] / one
    return {
        "machine": f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}",
        "residents": options.residents,
        "webhooks": webhooks,
        **rest,
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"City scale benchmark: {figures['machine']}, PostgreSQL",
        "",
        f"webhooks: {figures['residents']} residents in a closed loop, through the proxy",
        "workers   upd/s   ratio   p50 ms   p99 ms   CPU workers  postgres  harness   split",
    ]
    for row in figures["webhooks"]:
        latency = row["latency"]
        lines.append(
            f"{row['workers']:>7} {row['updates_per_s']:7.1f} {row['ratio']:7.2f} "
            f"{latency['p50_ms']:8.1f} {latency['p99_ms']:8.1f} {row['cpu_workers']:10.0f} % "
            f"{row['cpu_postgres']:6.0f} % {row['cpu_harness']:6.0f} %   {row['served']}"
        )
    bulk, takeover = figures["bulk"], figures["takeover"]
    ok = bulk["of_limit"] >= 0.95 and bulk["busiest_second"] <= LIMIT
    lines += [
        "",
        f"bulk: a broadcast to {bulk['messages'] - bulk['duplicates']:,} with 4 workers",
        f"  {bulk['msg_per_s']:.2f} msg/s = {100 * bulk['of_limit']:.1f} % of {LIMIT}/s; "
        f"busiest second {bulk['busiest_second']}; 429s {bulk['refused_429']}; "
        f"missing {bulk['missing']}; duplicates {bulk['duplicates']}",
        f"  sent by the leader: {bulk['leader_sends']:,}; by the other three: "
        f"{bulk['others_sends']:,}",
        f"  target 95-100 % of the limit, one sender: {verdict(ok and bulk['others_sends'] == 0)}",
        "",
        "takeover: seconds until another worker leads, after the leader is",
        f"  frozen (SIGSTOP: its lease must lapse)  {takeover['sigstop_s']:5.1f} s; "
        f"thawed, it leads again: {'yes' if takeover['thawed_leads'] else 'no'}",
        f"  killed (SIGKILL: a worker of the same machine sees its process gone)  "
        f"{takeover['sigkill_s']:5.1f} s",
        f"  stopped (SIGTERM: it lets the lease go)  {takeover['sigterm_s']:5.1f} s",
    ]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--residents", type=int, default=40, help="closed loop (default 40)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the median kept")
    parser.add_argument("--warmup", type=int, default=4, help="residents warming up")
    parser.add_argument("--bulk", type=int, default=1_500, help="broadcast recipients")
    parser.add_argument("--timeout", type=float, default=900.0, help="for everything")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_command(_parse(argv), run, lambda figures: table(rounded(figures)))


if __name__ == "__main__":
    raise SystemExit(main())
