"""Settings from the environment and the TOML config file, with defaults that need no file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import i18n
from bot.routing import QueueSettings, Route, RoutingError, parse_queues, parse_routes

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///helpdesk.db"
DEFAULT_CONFIG = "helpdesk.toml"
DEFAULT_LANGUAGES = ("it", "en", "ar")

_KNOWN_KEYS = {
    "timezone",
    "default_language",
    "languages",
    "organisers",
    "queues",
    "routing",
    "max_open_cases",
    "unclaimed_hours",
    "stalled_days",
}


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path = Path(DEFAULT_CONFIG)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Rome"))
    default_language: str = "it"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    organisers: frozenset[int] = frozenset()
    queues: tuple[QueueSettings, ...] = ()
    routes: tuple[Route, ...] = ()
    max_open_cases: int = 5  # per volunteer, so that nobody sits on more than they can follow
    unclaimed_after: timedelta = timedelta(hours=24)  # then the card is posted again
    stalled_after: timedelta = timedelta(days=3)  # a claimed case this quiet reminds its claimer

    def queue(self, name: str) -> QueueSettings | None:
        return next((queue for queue in self.queues if queue.name == name), None)

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
            )
        return self.token


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings: environment variables first, then the config file if it exists."""
    env = os.environ if environ is None else environ
    path = Path(env.get("HELPDESK_CONFIG") or DEFAULT_CONFIG)
    table = _read_toml(path) if path.exists() else {}
    if "HELPDESK_CONFIG" in env and not path.exists():
        raise ConfigError(f"config file {path} (from HELPDESK_CONFIG) does not exist")
    return Settings(
        token=env.get("TELEGRAM_BOT_TOKEN") or None,
        api_url=env.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        config_path=path,
        **_file_settings(table, path),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None


def _file_settings(table: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r}")
    values: dict[str, Any] = {}
    if "timezone" in table:
        values["timezone"] = _zone(table["timezone"], path)
    languages = table.get("languages", list(DEFAULT_LANGUAGES))
    values["languages"] = _languages(languages, path)
    default = table.get("default_language", values["languages"][0])
    if default not in values["languages"]:
        raise ConfigError(
            f"config file {path}: default_language {default!r} is not one of the languages"
        )
    values["default_language"] = default
    organisers = table.get("organisers", [])
    if not isinstance(organisers, list) or not all(type(i) is int for i in organisers):
        raise ConfigError(f"config file {path}: organisers must be a list of Telegram user ids")
    values["organisers"] = frozenset(organisers)
    try:
        values["queues"] = parse_queues(table.get("queues", {}))
        values["routes"] = parse_routes(table.get("routing", []), values["queues"])
    except RoutingError as error:
        raise ConfigError(f"config file {path}: {error}") from None
    values["max_open_cases"] = _positive(table, "max_open_cases", 5, path)
    values["unclaimed_after"] = timedelta(hours=_positive(table, "unclaimed_hours", 24, path))
    values["stalled_after"] = timedelta(days=_positive(table, "stalled_days", 3, path))
    return values


def _positive(table: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = table.get(key, default)
    if type(value) is not int or value < 1:
        raise ConfigError(f"config file {path}: {key} must be a whole number above 0")
    return value


def _zone(name: object, path: Path) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"config file {path}: unknown timezone {name!r}") from None


def _languages(languages: object, path: Path) -> tuple[str, ...]:
    if not isinstance(languages, list) or not languages:
        raise ConfigError(f"config file {path}: languages must be a non-empty list")
    for code in languages:
        if not isinstance(code, str) or code not in i18n.KNOWN_LANGUAGES:
            raise ConfigError(f"config file {path}: unknown language {code!r}")
        if not i18n.has_catalog(code):
            raise ConfigError(f"config file {path}: language {code!r} has no translation yet")
    return tuple(languages)
