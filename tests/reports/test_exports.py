"""Exports for partners and funders: one row per request with a pseudonym for its resident and
nothing personal; sign-ups and answers per activity and date, names only when asked; `/export`
for an organiser, a polite no for anyone else; `helpdesk export` writing the same files."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cases import queues
from bot.config import Settings
from bot.reports import exports
from bot.residents import privacy
from db.models import (
    Activity,
    ActivityKind,
    CaseOutcome,
    CaseStatus,
    Enrolment,
    EnrolmentStatus,
    Rsvp,
)
from handlers.emulation.telegram import EmulatedBotAPI
from tests.clock import ROME
from tests.conftest import Bot
from tests.factories import housing_case, resident
from tests.stories import DESK_SETTINGS, ORGANISER
from tests.transcript import Person


def rows(table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(table)))


async def requests(sessions: Any, settings: Settings) -> None:
    """Three residents' requests: Amina's two (one closed), Nour's, and one of someone erased."""
    desk_settings = replace(settings, **DESK_SETTINGS)
    async with sessions() as session, session.begin():
        await queues.sync_from_config(session, desk_settings, datetime.now(UTC))
        amina = await resident(session, "5001", language="it")
        nour = await resident(session, "201001234567", channel="whatsapp", language="ar")
        gone = await resident(session, "5003")
        first = await housing_case(session, desk_settings, amina)
        first.claimed_by, first.claimed_at = 6001, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        first.status, first.outcome = CaseStatus.CLOSED, CaseOutcome.RESOLVED
        first.closed_at = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)
        await housing_case(session, desk_settings, nour)
        await housing_case(session, desk_settings, gone)
        await housing_case(session, desk_settings, amina)
        await privacy.erase(session, gone)


async def test_requests_have_pseudonyms_and_nothing_personal(
    sessions: Any, settings: Settings
) -> None:
    await requests(sessions, settings)
    async with sessions() as session:
        table = await exports.cases_csv(session, ROME)
    found = rows(table)
    assert list(found[0]) == list(exports.CASE_COLUMNS)
    assert [row["resident"] for row in found] == ["R1", "R2", "", "R1"]
    assert [row["channel"] for row in found] == ["telegram", "whatsapp", "telegram", "telegram"]
    closed = found[0]
    assert (closed["claimed"], closed["closed"]) == ("2026-12-01 10:00", "2026-12-03 18:30")
    assert (closed["status"], closed["outcome"], closed["queue"]) == (
        "closed",
        "resolved",
        "housing",
    )
    for secret in ("5001", "201001234567", "5003", "6001"):  # platform ids: nowhere
        assert secret not in table


async def test_activities_count_places_and_answers_and_name_people_only_when_asked(
    sessions: Any,
) -> None:
    async with sessions() as session, session.begin():
        amina = await resident(session, "5001")
        lab = Activity(
            kind=ActivityKind.HOMEWORK,
            title="Doposcuola",
            starts_local=datetime(2026, 12, 1, 16, 30),
            repeat="weekly",
            capacity=2,
        )
        session.add(lab)
        await session.flush()
        assert lab.id is not None and amina.id is not None
        taken = datetime(2026, 11, 20, tzinfo=UTC)
        omar = Enrolment(activity_id=lab.id, resident_id=amina.id, name="Omar", enrolled_at=taken)
        sara = Enrolment(activity_id=lab.id, resident_id=amina.id, name="Sara", enrolled_at=taken)
        ali = Enrolment(
            activity_id=lab.id, resident_id=amina.id, name="Ali", status=EnrolmentStatus.WAITING
        )
        session.add_all([omar, sara, ali])
        await session.flush()
        assert omar.id is not None and sara.id is not None
        first = datetime(2026, 12, 1, 16, 30, tzinfo=ROME).astimezone(UTC)  # as answers are kept
        session.add(Rsvp(enrolment_id=omar.id, occurrence=first, coming=True))
        session.add(Rsvp(enrolment_id=sara.id, occurrence=first, coming=False))
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    async with sessions() as session:
        counted = rows(await exports.activities_csv(session, ROME, moment))
        named = rows(await exports.activities_csv(session, ROME, moment, with_names=True))
    assert [row["date"] for row in counted] == ["2026-12-01 16:30", "2026-12-08 16:30"]
    assert counted[0] == {
        "activity": str(lab.id),
        "title": "Doposcuola",
        "kind": "homework",
        "date": "2026-12-01 16:30",
        "cancelled": "",
        "places": "2",
        "waiting": "1",
        "coming": "1",
        "not_coming": "1",
        "no_answer": "0",
    }
    assert "Omar" not in str(counted)
    assert [(row["name"], row["place"], row["answer"]) for row in named[:3]] == [
        ("Omar", "yes", "coming"),
        ("Sara", "yes", "not coming"),
        ("Ali", "waiting", ""),
    ]


async def test_an_organiser_gets_the_file_and_anyone_else_a_polite_no(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> None:
    await requests(sessions, settings)
    giulia, stranger = Person(telegram, ORGANISER, "it"), Person(telegram, 5009, "en")
    async with bot.running(**DESK_SETTINGS):
        giulia.says("/export")
        await giulia.hears("Richieste: 4, una per riga.")  # in her language
        day = datetime.now(ROME).date().isoformat()
        table = (await giulia.hears_file(f"requests-{day}.csv")).decode()
        assert [row["resident"] for row in rows(table)] == ["R1", "R2", "", "R1"]
        stranger.says("/export")
        await stranger.hears("Only the help desk's organisers can use this command.")
        await stranger.hears_nothing_more()


def test_the_command_line_writes_the_same_file(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env["DATABASE_URL"] = database

    def helpdesk(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert helpdesk("db", "upgrade").returncode == 0
    written = helpdesk("export", "cases", "--csv", str(tmp_path / "cases.csv"))
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "cases.csv").read_text().splitlines() == [",".join(exports.CASE_COLUMNS)]
    assert "0 rows" in written.stdout
    named = helpdesk("export", "activities", "--csv", str(tmp_path / "a.csv"), "--with-names")
    assert named.returncode == 0, named.stderr
    wrong = helpdesk("export", "cases", "--csv", str(tmp_path / "x.csv"), "--since", "tuesday")
    assert wrong.returncode == 2 and "not a date (YYYY-MM-DD)" in wrong.stderr
