"""Settings from the environment and the TOML config file, with defaults that need no file."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import i18n
from bot.cases.routing import QueueSettings, Route, RoutingError, parse_queues, parse_routes

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///helpdesk.db"
DEFAULT_CONFIG = "helpdesk.toml"
DEFAULT_LANGUAGES = i18n.KNOWN_LANGUAGES  # all fourteen, in the picker's order
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

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
    "reminder_offsets",
    "quiet_hours",
    "reminder_grace",
    "whatsapp",
}
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
# The messages WhatsApp lets a business start outside the 24 hours after a resident wrote: only
# templates approved by Meta, one per purpose and language (see WhatsAppSettings.templates).
TEMPLATE_PURPOSES = ("reminder", "broadcast", "volunteer_wrote")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp Cloud API number the help desk answers on, and how to reach Meta."""

    phone_id: str
    token: str
    app_secret: str  # signs every webhook call: without it, a forged one could not be told
    verify_token: str  # what Meta's subscription handshake must present
    api_url: str = DEFAULT_GRAPH_URL  # the Graph API's base; a local stand-in in tests
    per_second: float = 80.0  # Cloud API throughput of one number (higher tiers can raise it)
    # purpose -> language -> approved template name, e.g. templates["reminder"]["ar"].
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def template(self, purpose: str, language: str, default: str) -> tuple[str, str] | None:
        """The template and its language for a purpose: the resident's, else the default's."""
        named = self.templates.get(purpose, {})
        for code in (language, default):
            if code in named:
                return named[code], code
        return None


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    webhook_secret: str | None = None  # what Telegram must send with every webhook call
    public_url: str | None = None  # where Telegram reaches `helpdesk serve`, if it registers
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
    # Reminders go out this long before each occurrence of an activity...
    reminder_offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    # ...but not at night: one falling in these local hours is moved earlier. None: no quiet.
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(8, 0))
    # A reminder the bot was stopped over still goes out if it starts within this long after
    # the reminder's time; later, it is skipped (and logged) rather than sent stale.
    reminder_grace: timedelta = timedelta(hours=1)
    whatsapp: WhatsAppSettings | None = None  # None: this deployment has no WhatsApp number

    def language_for(self, hint: str | None) -> str:
        """The enabled language a client's language tag points to, else the default one."""
        return i18n.match_language(hint, self.languages) or self.default_language

    def queue(self, name: str) -> QueueSettings | None:
        return next((queue for queue in self.queues if queue.name == name), None)

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
            )
        return self.token

    def require_webhook_secret(self) -> str:
        # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if not self.webhook_secret or not WEBHOOK_SECRET.fullmatch(self.webhook_secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET is not set (or not 1-256 letters, digits, _ or -): "
                "helpdesk serve refuses Telegram's webhook without it"
            )
        return self.webhook_secret


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
        webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
        public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        config_path=path,
        whatsapp=_whatsapp(env, table.get("whatsapp", {}), path),
        **_file_settings(table, path),
    )


_WHATSAPP_ENV = (
    "WHATSAPP_PHONE_ID",
    "WHATSAPP_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)


def _whatsapp(env: Mapping[str, str], table: object, path: Path) -> WhatsAppSettings | None:
    """WhatsApp runs when its four variables are set; some without the others is a mistake."""
    given = {name: (env.get(name) or "").strip() for name in _WHATSAPP_ENV}
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return None
    if missing:
        raise ConfigError(
            f"{missing[0]} is not set: WhatsApp needs {', '.join(_WHATSAPP_ENV)} "
            "(the app secret checks that each webhook call comes from Meta)"
        )
    if not isinstance(table, dict) or set(table) - {"per_second", "templates"}:
        raise ConfigError(f"config file {path}: [whatsapp] takes per_second and templates")
    per_second = table.get("per_second", 80)
    if type(per_second) not in (int, float) or not 0 < per_second <= 1000:
        raise ConfigError(f"config file {path}: [whatsapp] per_second must be from 1 to 1000")
    return WhatsAppSettings(
        phone_id=given["WHATSAPP_PHONE_ID"],
        token=given["WHATSAPP_TOKEN"],
        app_secret=given["WHATSAPP_APP_SECRET"],
        verify_token=given["WHATSAPP_VERIFY_TOKEN"],
        api_url=(env.get("WHATSAPP_API_URL") or DEFAULT_GRAPH_URL).rstrip("/"),
        per_second=float(per_second),
        templates=_templates(table.get("templates", {}), path),
    )


def _templates(raw: object, path: Path) -> dict[str, dict[str, str]]:
    """[whatsapp.templates] reminder = { it = "promemoria_attivita", ar = "..." }, ..."""
    where = f"config file {path}: [whatsapp.templates]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    templates: dict[str, dict[str, str]] = {}
    for purpose, names in raw.items():
        if purpose not in TEMPLATE_PURPOSES:
            raise ConfigError(
                f"{where}: unknown purpose {purpose!r} ({', '.join(TEMPLATE_PURPOSES)})"
            )
        if not isinstance(names, dict) or not all(
            isinstance(name, str) and re.fullmatch(r"[a-z0-9_]{1,512}", name)
            for name in names.values()
        ):
            raise ConfigError(
                f"{where}: {purpose} maps languages to template names (lowercase, digits, _)"
            )
        templates[purpose] = {str(language): name for language, name in names.items()}
    return templates


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
    if "reminder_offsets" in table:
        values["reminder_offsets"] = _offsets(table["reminder_offsets"], path)
    if "reminder_grace" in table:
        values["reminder_grace"] = _duration(table["reminder_grace"], "reminder_grace", path)
    if "quiet_hours" in table:
        values["quiet_hours"] = _quiet_hours(table["quiet_hours"], path)
    return values


def _offsets(raw: object, path: Path) -> tuple[timedelta, ...]:
    """["24h", "2h", "30m", "1d"]: how long before an occurrence each reminder goes."""
    if not isinstance(raw, list):
        raise ConfigError(f'config file {path}: reminder_offsets must be a list like ["24h", "2h"]')
    offsets = [_duration(item, "reminder offset", path) for item in raw]
    return tuple(sorted(set(offsets), reverse=True))


def _duration(raw: object, name: str, path: Path) -> timedelta:
    """ "30m", "2h" or "1d"."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    found = re.fullmatch(r"(\d{1,4})([mhd])", str(raw).strip())
    if found is None or int(found[1]) == 0:
        raise ConfigError(f"config file {path}: {name} {raw!r} must be a number and m, h or d")
    return timedelta(**{units[found[2]]: int(found[1])})


def _quiet_hours(raw: object, path: Path) -> tuple[time, time] | None:
    """ "21:00-08:00"; an empty string switches quiet hours off."""
    if raw == "":
        return None
    found = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", str(raw).strip())
    try:
        if found is None:
            raise ValueError
        start = time(int(found[1]), int(found[2]))
        end = time(int(found[3]), int(found[4]))
    except ValueError:
        raise ConfigError(
            f'config file {path}: quiet_hours must look like "21:00-08:00", or "" for none'
        ) from None
    return start, end


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
