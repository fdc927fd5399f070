"""Activities and their occurrences, and the organisers' files that describe them."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from db.models import Activity, ActivityKind

KINDS = tuple(ActivityKind)
REPEATS = {"none": None, "weekly": "FREQ=WEEKLY", "monthly": "FREQ=MONTHLY"}
FIELDS = {
    "kind",
    "title",
    "description",
    "place",
    "start",
    "repeat",
    "duration_minutes",
    "capacity",
    "ages",
    "translations",
}


class ActivityError(ValueError):
    """An activity in a file is wrong; the message says which and why, in one line."""


def rule_of(repeat: str) -> str | None:
    """The RFC 5545 rule of a repeat setting, or None for a one-off."""
    if repeat in REPEATS:
        return REPEATS[repeat]
    return repeat.removeprefix("RRULE:")


def occurrences(
    activity: Activity, zone: ZoneInfo, after: datetime, before: datetime
) -> Iterator[datetime]:
    """When the activity takes place between two instants, as aware datetimes in `zone`.

    The rule runs over local wall-clock times, which are placed in the zone one by one: this is
    what keeps Tuesday 16:30 at 16:30 in the weeks on both sides of a daylight-saving change.
    """
    start = activity.starts_local
    rule = rule_of(activity.repeat)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    local_before = before.astimezone(zone).replace(tzinfo=None)
    if rule is None:
        candidates: Iterator[datetime] = iter(
            [start] if local_after <= start < local_before else []
        )
    else:
        recurrence = rrulestr(rule, dtstart=start)
        candidates = iter(recurrence.between(local_after, local_before, inc=True))
    for local in candidates:
        moment = local.replace(tzinfo=zone)
        if after <= moment < before:
            yield moment


# -- reading organisers' files ----------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    created: list[Activity]
    unchanged: list[Activity]


def read_file(path: Path) -> list[dict[str, Any]]:
    """The activities of a TOML (`[[activity]]` tables) or CSV file, not yet checked."""
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8") as file:
                return [_from_csv_row(row) for row in csv.DictReader(file)]
        with path.open("rb") as file:
            table = tomllib.load(file)
    except OSError as error:
        raise ActivityError(f"{path}: cannot be read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ActivityError(f"{path}: not valid TOML: {error}") from None
    activities = table.get("activity", [])
    if not isinstance(activities, list) or set(table) - {"activity"}:
        raise ActivityError(f"{path}: expected only [[activity]] tables")
    return activities


def _from_csv_row(row: Mapping[str, str | None]) -> dict[str, Any]:
    """A CSV row in the TOML's terms: empty cells left out, numbers."""
    values: dict[str, Any] = {}
    for key, raw in row.items():
        text = (raw or "").strip()
        if not key or not text:
            continue
        if key in ("duration_minutes", "capacity"):
            values[key] = int(text) if text.isdigit() else text
        elif key == "ages":
            parts = [p.strip() for p in text.replace("-", " ").split()]
            values[key] = [int(p) if p.isdigit() else p for p in parts]
        else:
            values[key] = text
    return values


def check(number: int, raw: Mapping[str, Any]) -> Activity:
    """One activity of a file, checked; `number` names it in errors (1 is the first)."""
    where = f"activity {number}"
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise ActivityError(f"{where}: unknown field {unknown[0]!r}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ActivityError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ActivityError(f"{where}: a title is needed")
    start = _start(where, raw.get("start"))
    repeat = str(raw.get("repeat", "none"))
    _check_repeat(where, repeat, start)
    ages = raw.get("ages")
    if ages is not None and not (
        isinstance(ages, list)
        and len(ages) == 2
        and all(type(a) is int and 0 <= a <= 17 for a in ages)
        and ages[0] <= ages[1]
    ):
        raise ActivityError(f"{where}: ages must be two ages from 0 to 17, e.g. [8, 10]")
    return Activity(
        translations=_translations(where, raw.get("translations", {})),
        kind=kind,
        title=title.strip()[:200],
        description=str(raw.get("description", "")),
        place=str(raw.get("place", ""))[:200],
        starts_local=start,
        repeat=repeat,
        duration_minutes=_positive(where, raw, "duration_minutes", 60) or 60,
        capacity=_positive(where, raw, "capacity", None),
        age_min=ages[0] if ages else None,
        age_max=ages[1] if ages else None,
    )


def _translations(where: str, value: object) -> dict[str, dict[str, str]]:
    """`[activity.translations.ar] title = "…"`: the title and description in other languages."""
    if not isinstance(value, dict):
        raise ActivityError(f"{where}: translations must be tables like [activity.translations.ar]")
    texts: dict[str, dict[str, str]] = {}
    for language, fields in value.items():
        if language not in i18n.KNOWN_LANGUAGES:
            raise ActivityError(f"{where}: translations: unknown language {language!r}")
        if not isinstance(fields, dict) or set(fields) - {"title", "description"}:
            raise ActivityError(f"{where}: translations.{language} takes a title and a description")
        texts[language] = {
            key: str(text).strip()[: 200 if key == "title" else 2000]
            for key, text in fields.items()
        }
    return texts


def _start(where: str, value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ActivityError(
                f"{where}: start must be a local date and time like 2026-11-24T16:30"
            ) from None
    if moment.tzinfo is not None:
        raise ActivityError(f"{where}: start is local time in the configured time zone: no offset")
    return moment.replace(second=0, microsecond=0)


def _check_repeat(where: str, repeat: str, start: datetime) -> None:
    rule = rule_of(repeat)
    if rule is None:
        return
    try:
        rrulestr(rule, dtstart=start)
    except (ValueError, TypeError):
        raise ActivityError(
            f"{where}: repeat must be none, weekly, monthly or an RRULE, not {repeat!r}"
        ) from None


def _positive(where: str, raw: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise ActivityError(f"{where}: {key} must be a whole number above 0")
    return value


async def import_activities(session: AsyncSession, raws: list[dict[str, Any]]) -> Imported:
    """Create the activities not there yet (same kind, title and start): importing twice is safe.

    Every activity is checked before any is created, so a file with a mistake changes nothing.
    """
    checked = [check(number, raw) for number, raw in enumerate(raws, 1)]
    created, unchanged = [], []
    for activity in checked:
        existing = await twin(session, activity)
        if existing is None:
            session.add(activity)
            created.append(activity)
        else:
            unchanged.append(existing)
    await session.flush()
    return Imported(created, unchanged)


async def twin(session: AsyncSession, activity: Activity) -> Activity | None:
    """Another activity with the same kind, title and start: the same activity to organisers,
    so an import skips it and the chat refuses to create or change one into it."""
    statement = select(Activity).where(
        Activity.kind == activity.kind,
        Activity.title == activity.title,
        Activity.starts_local == activity.starts_local,
    )
    if activity.id is not None:
        statement = statement.where(Activity.id != activity.id)
    return (await session.exec(statement)).first()


async def all_activities(session: AsyncSession) -> list[Activity]:
    statement = select(Activity).order_by(col(Activity.starts_local), col(Activity.id))
    return list((await session.exec(statement)).all())


def next_occurrence(activity: Activity, zone: ZoneInfo, moment: datetime) -> datetime | None:
    """The first occurrence at or after `moment`, looking a year past the later of the two."""
    horizon = max(moment, activity.starts_local.replace(tzinfo=zone)) + timedelta(days=366)
    return next(occurrences(activity, zone, moment, horizon), None)


def title_in(activity: Activity, language: str) -> str:
    """The activity's title in `language` if the organiser wrote one, else as written."""
    text = activity.translations.get(language, {}).get("title")
    return text if isinstance(text, str) and text else activity.title


def description_in(activity: Activity, language: str) -> str:
    text = activity.translations.get(language, {}).get("description")
    return text if isinstance(text, str) and text else activity.description
