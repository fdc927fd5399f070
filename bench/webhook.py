"""Webhook benchmark: the intake load of bench.intake through `helpdesk serve` (the fake Bot
API posting each update to its webhook, as Telegram does) beside `helpdesk run` (long polling).

Both run as deployed, on SQLite, one after the other against a fresh Bot API emulation. It measures
updates per second and reply latency (p50, p99, max) with residents answering as fast as the
bot replies, then the latency at a steady rate of updates (50 a second by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from bench.intake import (
    BotProcess,
    BotResult,
    bench_main,
    closed_row,
    measure,
    rounded,
    steady_row,
    verdict,
)

SECRET = "bench-webhook-secret"
STEADY_P99_MS = 50.0
SETUPS = {
    "webhook": (
        "`helpdesk serve` as deployed (uvicorn, Starlette); the fake posts each update, up to "
        "40 at once (Telegram's default max_connections) and one chat's at a time, and the bot "
        "answers once the update is handled and recorded as such"
    ),
    "polling": "`helpdesk run` as deployed, long polling",
}
BOTH = (
    "aiohttp Bot API client, AIORateLimiter (429s retried, group pace), chats handled side by "
    "side, SQLite WAL + synchronous=FULL"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess(BotProcess):
    """`helpdesk serve` on a free port; ready once it has registered its webhook."""

    ready_call = "setWebhook"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.port = free_port()

    def argv(self) -> list[str]:
        command = super().argv()[:-1]  # `helpdesk run`'s, without "run"
        return [*command, "serve", "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        return super().environment() | {
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
        }


def report(results: dict[str, BotResult], options: argparse.Namespace) -> dict[str, Any]:
    webhook, polling = results["webhook"], results["polling"]
    ratio = webhook.closed.updates_per_s / polling.closed.updates_per_s
    figures = {
        "python": platform.python_version(),
        "database": "sqlite",
        "cpus": os.cpu_count(),
        "residents": options.residents,
        "rate": options.rate,
        "api_latency_ms": options.api_latency,
        "seconds": options.seconds,
        "webhook": asdict(webhook),
        "polling": asdict(polling),
        "ratio": ratio,
        "targets": {
            "throughput_at_least_polling": ratio >= 1,
            "steady_p99_under_50_ms": webhook.steady.latency.p99_ms < STEADY_P99_MS
            and webhook.steady.achieved_per_s >= 0.95 * options.rate,
        },
    }
    return {k: rounded(v) for k, v in figures.items()}


def table(figures: dict[str, Any]) -> str:
    webhook, polling, targets = figures["webhook"], figures["polling"], figures["targets"]
    closed, steady = webhook["closed"], webhook["steady"]
    rate = f"{figures['rate']:g}/s"
    heading = f"steady {rate}, {figures['seconds']:g} s"
    return "\n".join(
        [
            f"webhook benchmark: {closed['residents']} residents, {closed['updates']:,} updates "
            f"per bot (SQLite, python {figures['python']}, {figures['cpus']} CPUs)",
            f"{'closed loop':<22}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'calls/upd':>11}{'bot CPU':>9}{'fake CPU':>10}",
            closed_row("webhook (serve)", webhook),
            closed_row("long polling (run)", polling),
            f"{'ratio webhook/polling':<22}{figures['ratio']:>10.2f}   target >= 1: "
            f"{verdict(targets['throughput_at_least_polling'])}",
            "",
            f"{heading:<22}{'issued/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'late':>11}",
            steady_row("webhook (serve)", webhook),
            steady_row("long polling (run)", polling),
            f"{'':<22}target webhook p99 < {STEADY_P99_MS:g} ms at {rate}: "
            f"{verdict(targets['steady_p99_under_50_ms'])}",
            "",
            "latency: update pushed into the emulated Bot API -> the bot's reply arriving there",
            "  (its sendMessage; the edit for a multiple-choice toggle), on one clock.",
            f"steady: {steady['residents']} residents with at most one update outstanding each; "
            "late = issued",
            "  over one interval behind schedule because every resident was waiting for a reply.",
            f"webhook: {webhook['setup']}.",
            f"long polling: {polling['setup']}.",
            f"both: {BOTH}.",
            "closed loop: the median of the rounds (--rounds); "
            f"Bot API latency added: {figures['api_latency_ms']:g} ms a call.",
        ]
    )


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, BotResult] = {}
    async with asyncio.timeout(options.timeout):
        for name, process_type in (("webhook", ServeProcess), ("polling", BotProcess)):
            progress(f"measuring {name}...")
            result = await measure("sportello", options, process_type)
            results[name] = replace(result, bot=name, setup=SETUPS[name])
    return report(results, options)


def main(argv: list[str] | None = None) -> int:
    return bench_main(argv, "python -m bench.webhook", __doc__, run, table)


if __name__ == "__main__":
    sys.exit(main())
