"""Statistics: the figures counted from the requests, a summary in the organiser's language, a
chart as a PNG with Arabic labels shaped; `/stats` for an organiser only; `helpdesk stats`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import i18n
from bot.config import Settings
from bot.reports import stats
from handlers.emulation.telegram import EmulatedBotAPI
from tests.clock import ROME
from tests.conftest import Bot
from tests.reports.test_exports import requests
from tests.stories import DESK_SETTINGS, ORGANISER
from tests.transcript import Person

PNG = b"\x89PNG\r\n\x1a\n"


async def test_the_figures_and_their_summary(sessions: Any, settings: Settings) -> None:
    await requests(sessions, settings)
    async with sessions() as session:
        found = await stats.figures(session, ROME, datetime.now(UTC))
    assert found.total == 4 and sum(sum(c.values()) for _m, c in found.weeks) == 4
    assert found.by_district == {"m5": 4} and found.by_language == {"it": 2, "ar": 1, "en": 1}
    assert found.open_by_queue == {"housing": 3}
    assert found.claim_hours is not None and found.close_hours is not None
    with i18n.locale("en"):
        text = stats.summary(found)
    assert "requests: 4 (Housing help 4)." in text
    assert "Open requests per queue: housing 3" in text


def test_arabic_labels_are_shaped_and_in_visual_order() -> None:
    drawn = stats.drawn("طلبات", "ar")
    assert all("\ufe70" <= letter <= "\ufeff" for letter in drawn)  # joined presentation forms
    assert stats.drawn("Requests", "en") == "Requests"


async def test_an_organiser_gets_the_chart_and_anyone_else_a_polite_no(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    await requests(sessions, settings)
    samia, stranger = Person(telegram, ORGANISER, "ar"), Person(telegram, 5010, "en")
    async with bot.running(**DESK_SETTINGS):
        samia.says("/stats")
        await samia.hears("عدد الطلبات: 4")
        chart = await telegram.next_message(samia.chat_id)
        assert chart.kind == "photo" and chart.file is not None
        assert chart.file.data.startswith(PNG)
        stranger.says("/stats")
        await stranger.hears("Only the help desk's organisers can use this command.")


def test_the_command_line_prints_the_summary_and_writes_the_chart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"
    command = [sys.executable, "-m", "bot.cli", "stats", "--since", "2026-11-01"]
    done = subprocess.run(
        [*command, "--png", str(tmp_path / "stats.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 nov 2026" in done.stdout and "(—)" in done.stdout  # in Italian, the default
    assert (tmp_path / "stats.png").read_bytes().startswith(PNG)
