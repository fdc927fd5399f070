"""Bad input at volume: generated updates against `helpdesk run` as deployed (its own process,
SQLite, a config with two queues and an organiser), polling the Bot API emulation in this
process. The updates are those of tests/fuzz: any text up to 10,000 characters (direction
controls, NULs), commands with odd arguments, button data of the bot's own kinds with ids far
out of range, forged or arbitrary, every kind of media, from residents, volunteers, the
organiser, strangers, bots and anonymous admins, in private chats and groups, new or edited;
a tenth of them delivered twice.

Figures:
  updates          sent (and delivered again), and how long the bot took for all of them
  by kind          updates of each kind, and how many the bot answered (a press is always
                   answered; a message from a person in a private chat should be)
  refused          presses answered "no longer active", messages answered as a kind the bot
                   cannot read, updates the bot let be (edited, from bots, strangers in groups)
  errors           updates that reached the error handler (its log line); the target is 0
  unanswered       messages from a person in a private chat that got nothing back (target 0)
  served after     whether a new resident who sends /start then gets the language picker
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.intake import BenchError, run_command
from bench.reminders import migrated
from handlers.emulation.telegram import EmulatedBotAPI, User
from tests.fuzz import strategies
from tests.fuzz.strategies import HOUSING_GROUP, RESIDENTS, VOLUNTEERS, Poke

TOKEN = "123456:FUZZ-TOKEN"
CONFIG = f"""
organisers = [{strategies.ORGANISER}]
default_language = "en"

[queues.housing]
chat_id = {strategies.HOUSING_GROUP}

[queues.food]
chat_id = {strategies.FOOD_GROUP}
"""
STALE = "This button is no longer active."
FAILED = " failed, reference "  # the error handler's log line


def texts(rng: random.Random, count: int) -> list[str]:
    """Texts as a clumsy or hostile person writes them: any characters, often the tricky ones,
    up to 10,000 of them."""
    found = []
    for _ in range(count):
        length = rng.choice((1, 5, 40, 300, 4096, 10_000))
        if rng.random() < 0.5:
            found.append("".join(rng.choices(strategies.TRICKY + "abc /:-1", k=length)))
        else:
            found.append("".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(length)))
    return found


def start_bot(folder: Path, database_url: str, api_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url, "DATABASE_URL": database_url}
    (folder / "helpdesk.toml").write_text(CONFIG)
    log = (folder / "bot.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, cwd=folder, stdout=log, stderr=log
    )


async def measure(
    count: int, seed: int, limit_s: float, progress: Callable[[str], None]
) -> dict[str, Any]:
    rng = random.Random(seed)
    pokes = [strategies.poke(rng, text) for text in texts(rng, count)]
    server = EmulatedBotAPI(token=TOKEN)
    await server.start()
    for volunteer in VOLUNTEERS:
        server.set_member_status(HOUSING_GROUP, volunteer, "member")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
            folder = Path(tmp)
            url = await migrated(folder)
            bot = start_bot(folder, url, server.base_url)
            try:
                await server.wait_for_call("getUpdates", timeout=60)
                started, since = time.monotonic(), len(server.calls)
                sent = [strategies.push(server, poke) for poke in pokes]
                for update_id in rng.sample(sent, len(sent) // 10):
                    server.redeliver(update_id)
                await settled(server, bot, started, limit_s)
                seconds = time.monotonic() - started
                progress(f"{count:,} updates in {seconds:.0f} s; a new resident writes /start")
                served = await serves_a_newcomer(server)
            finally:
                bot.terminate()
                bot.wait(timeout=30)
            log = (folder / "bot.log").read_text(errors="replace")
    finally:
        await server.stop()
    return tally(pokes, server, since, log, seconds, served)


async def settled(
    server: EmulatedBotAPI, bot: subprocess.Popen[bytes], started: float, limit_s: float
) -> None:
    """Until every update is confirmed and the bot has said nothing for a second."""
    seen = -1
    while seen != len(server.calls) or server._pending:
        if bot.poll() is not None:
            raise BenchError("the bot stopped (see its log)")
        if time.monotonic() - started > limit_s:
            raise BenchError(f"the bot was still busy after {limit_s:.0f} s")
        seen = len(server.calls)
        await asyncio.sleep(1)


async def serves_a_newcomer(server: EmulatedBotAPI) -> bool:
    newcomer = User(424242, first_name="Nadia", language_code="it")
    server.push_text(newcomer, "/start")
    try:
        reply = await server.next_message(newcomer.id, timeout=30)
    except AssertionError:
        return False
    return "Ciao! Che lingua vuoi usare?" in (reply.text or "")


def tally(
    pokes: list[Poke], server: EmulatedBotAPI, since: int, log: str, seconds: float, served: bool
) -> dict[str, Any]:
    calls = server.calls[since:]
    spoken_to = Counter(c.params.get("chat_id") for c in calls if c.method.startswith("send"))
    stale = sum(
        1 for c in calls if c.method == "answerCallbackQuery" and c.params.get("text") == STALE
    )
    kinds: Counter[str] = Counter(poke.kind for poke in pokes)
    let_be = [p for p in pokes if p.edited or not p.from_a_person or not p.private]
    expected = [
        p for p in pokes if p.private and p.from_a_person and not p.edited and p.kind != "press"
    ]
    unanswered = sum(1 for p in expected if not spoken_to[p.chat])
    return {
        "python": sys.version.split()[0],
        "updates": len(pokes),
        "delivered_twice": len(pokes) // 10,
        "seconds": seconds,
        "by_kind": dict(kinds.most_common()),
        "presses_answered": sum(1 for c in calls if c.method == "answerCallbackQuery"),
        "presses": kinds["press"],
        "stale_answers": stale,
        "let_be": len(let_be),
        "errors": log.count(FAILED),
        "unanswered": unanswered,
        "served_after": served,
        "residents_known": len(RESIDENTS),
    }


async def run(options: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"{options.updates:,} generated updates against helpdesk run (seed {options.seed})...")
    return await measure(options.updates, options.seed, options.timeout, progress)


def table(figures: dict[str, Any]) -> str:
    kinds = ", ".join(f"{kind} {count}" for kind, count in figures["by_kind"].items())
    rate = figures["updates"] / figures["seconds"] if figures["seconds"] else 0.0
    ok = figures["errors"] == 0 and figures["unanswered"] == 0 and figures["served_after"]
    return "\n".join(
        [
            f"fuzz benchmark: python {figures['python']}, helpdesk run against the Bot API "
            "emulation",
            f"updates      {figures['updates']:,} (+{figures['delivered_twice']:,} delivered "
            f"twice) in {figures['seconds']:.0f} s ({rate:.0f}/s)",
            f"by kind      {kinds}",
            f"presses      {figures['presses']:,}, answered {figures['presses_answered']:,}, "
            f'of which "no longer active" {figures["stale_answers"]:,}',
            f"let be       {figures['let_be']:,} (edited, from bots, in groups)",
            f"errors       {figures['errors']} reached the error handler",
            f"unanswered   {figures['unanswered']} messages from a person in a private chat",
            f"served after {'yes' if figures['served_after'] else 'NO'}: a new resident's /start",
            f"target: 0 errors, 0 unanswered, served after: {'OK' if ok else 'MISSED'}",
        ]
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--updates", type=int, default=10_000, help="default 10000")
    parser.add_argument("--seed", type=int, default=14, help="the same seed, the same updates")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_command(_parse(argv), run, table)


if __name__ == "__main__":
    sys.exit(main())
