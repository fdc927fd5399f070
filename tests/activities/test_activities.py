"""Activities: the organisers' files, and occurrences that keep local time across DST."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import config
from bot.activities import schedule as activities
from bot.activities.schedule import ActivityError
from bot.config import ConfigError
from db.models import Activity, ActivityKind

ROME = ZoneInfo("Europe/Rome")
UTC = ZoneInfo("UTC")

HOMEWORK = """
[[activity]]
kind = "homework"            # homework | theatre | event | meeting
title = "Doposcuola 8-10 anni"
place = "Via Stuparich 18, Milano"
start = "2026-11-24T16:30"   # local time in the configured time zone
repeat = "weekly"
duration_minutes = 90
capacity = 6
ages = [8, 10]

[activity.translations.ar]
title = "مساعدة في الواجبات المدرسية 8-10 سنوات"

[[activity]]
kind = "event"
title = "Festa di quartiere"
place = "Piazza Tirana"
start = 2026-12-05T15:00:00
repeat = "RRULE:FREQ=MONTHLY;BYDAY=1SA"
"""


def weekly(start: str, repeat: str = "weekly") -> Activity:
    return Activity(
        kind=ActivityKind.HOMEWORK,
        title="t",
        starts_local=datetime.fromisoformat(start),
        repeat=repeat,
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [("2027-03-16T16:30", "2027-04-06T16:30"), ("2027-10-19T16:30", "2027-11-09T16:30")],
)
def test_a_weekly_activity_keeps_its_local_time_across_daylight_saving(
    first: str, last: str
) -> None:
    activity = weekly(first)
    after = datetime.fromisoformat(first).replace(tzinfo=ROME)
    before = datetime.fromisoformat(last).replace(tzinfo=ROME) + timedelta(minutes=1)
    found = list(activities.occurrences(activity, ROME, after, before))
    assert len(found) == 4
    assert {moment.astimezone(ROME).time() for moment in found} == {time(16, 30)}
    offsets = {moment.astimezone(UTC).hour for moment in found}
    assert offsets == {15, 14}  # one hour apart in UTC, the same for the families


def test_first_saturday_of_the_month_and_one_offs() -> None:
    monthly = weekly("2026-12-05T15:00", "RRULE:FREQ=MONTHLY;BYDAY=1SA")
    after = datetime(2026, 12, 1, tzinfo=ROME)
    found = list(activities.occurrences(monthly, ROME, after, after + timedelta(days=70)))
    assert [f.date().isoformat() for f in found] == ["2026-12-05", "2027-01-02", "2027-02-06"]
    once = weekly("2026-12-10T18:00", "none")
    assert len(list(activities.occurrences(once, ROME, after, after + timedelta(days=30)))) == 1
    assert activities.next_occurrence(once, ROME, datetime(2027, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "party", "title": "x", "start": "2026-11-24T16:30"}, "kind must be one of"),
        ({"kind": "event", "start": "2026-11-24T16:30"}, "a title is needed"),
        ({"kind": "event", "title": "x", "start": "tomorrow"}, "start must be a local date"),
        ({"kind": "event", "title": "x", "start": "2026-11-24T16:30+01:00"}, "no offset"),
        (
            {"kind": "event", "title": "x", "start": "2026-11-24T16:30", "repeat": "daily!"},
            "repeat must be none, weekly, monthly or an RRULE",
        ),
        (
            {"kind": "event", "title": "x", "start": "2026-11-24T16:30", "capacity": 0},
            "capacity must be a whole number above 0",
        ),
        (
            {"kind": "homework", "title": "x", "start": "2026-11-24T16:30", "ages": [10, 8]},
            "ages must be two ages",
        ),
        (
            {"kind": "event", "title": "x", "start": "2026-11-24T16:30", "colour": "red"},
            "unknown field 'colour'",
        ),
    ],
)
def test_a_wrong_activity_is_named_in_one_line(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ActivityError, match=message) as raised:
        activities.check(3, raw)
    assert str(raised.value).startswith("activity 3: ")


def helpdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_the_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "autumn.toml").write_text(HOMEWORK)
    first = helpdesk("activities", "import", "autumn.toml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created: #1 homework: Doposcuola 8-10 anni" in first.stdout
    assert "2 created, 0 already there" in first.stdout
    again = helpdesk("activities", "import", "autumn.toml", cwd=tmp_path)
    assert "0 created, 2 already there" in again.stdout
    listed = helpdesk("activities", "list", cwd=tmp_path).stdout.splitlines()
    assert "مساعدة" not in listed[0]  # organisers read the title as they wrote it
    assert len(listed) == 2
    assert "6 places" in listed[0] and "ages 8-10" in listed[0] and "16:30" in listed[0]


def test_a_csv_file_works_too_and_a_mistake_imports_nothing(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text(
        "kind,title,place,start,repeat,duration_minutes,capacity,ages\n"
        "theatre,Laboratorio teatrale,Via Gola 10,2026-11-26T18:00,weekly,120,,\n"
        "homework,Doposcuola 11-13,Via Stuparich 18,2026-11-25T16:30,weekly,90,6,11-13\n"
    )
    result = helpdesk("activities", "import", "labs.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 created" in result.stdout
    (tmp_path / "broken.csv").write_text(
        "kind,title,start\nevent,Cena,2026-12-01T20:00\nparty,Ballo,2026-12-02T20:00\n"
    )
    broken = helpdesk("activities", "import", "broken.csv", cwd=tmp_path)
    assert broken.returncode == 2
    assert broken.stderr.strip().splitlines() == [
        "helpdesk: activity 2: kind must be one of homework, theatre, event, meeting, not 'party'"
    ]
    listed = helpdesk("activities", "list", cwd=tmp_path).stdout
    assert "Cena" not in listed


def test_reminder_offsets_and_quiet_hours_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.toml"
    path.write_text('reminder_offsets = ["2h", "24h", "30m"]\nquiet_hours = "22:30-07:00"\n')
    settings = config.load({"HELPDESK_CONFIG": str(path)})
    assert settings.reminder_offsets == (
        timedelta(hours=24),
        timedelta(hours=2),
        timedelta(minutes=30),
    )
    assert settings.quiet_hours == (time(22, 30), time(7, 0))
    path.write_text('quiet_hours = ""\n')
    assert config.load({"HELPDESK_CONFIG": str(path)}).quiet_hours is None
    for wrong in ['reminder_offsets = ["2 hours"]', 'quiet_hours = "late"']:
        path.write_text(wrong + "\n")
        with pytest.raises(ConfigError):
            config.load({"HELPDESK_CONFIG": str(path)})


def test_residents_read_the_title_in_their_language_when_the_organiser_wrote_one() -> None:
    raw = {
        "kind": "event",
        "title": "Festa di quartiere",
        "start": "2027-06-05T15:00",
        "translations": {"ar": {"title": "حفلة الحي"}, "en": {"description": "Music"}},
    }
    activity = activities.check(1, raw)
    assert activities.title_in(activity, "ar") == "حفلة الحي"
    assert activities.title_in(activity, "en") == "Festa di quartiere"
    assert activities.description_in(activity, "en") == "Music"
    with pytest.raises(ActivityError, match=r"translations\.ar takes a title and a description"):
        activities.check(1, raw | {"translations": {"ar": {"place": "x"}}})
