"""Translation for the person being answered: the locale of the current update and its catalogs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"

# The communities of Milan the help desk serves, in the order the language picker offers them;
# all are enabled unless a deployment lists fewer.
KNOWN_LANGUAGES = (
    "it", "en", "ar", "zh", "es", "fil", "si", "ta", "ro", "uk", "bn", "sq", "fr", "ur",
)  # fmt: skip

# First/second strong isolate marks keep Latin values (case numbers, addresses) readable inside
# right-to-left sentences.
FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"
# A right-to-left mark sets the direction of a line that starts with a number.
RLM = "\u200f"
_COMMAND = re.compile(r"(?<![\w/])/[a-z]+")

_current: ContextVar[str] = ContextVar("locale", default="en")


@contextmanager
def locale(language: str) -> Iterator[None]:
    """Translate everything inside the block into `language`."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


@cache
def catalog(language: str) -> NullTranslations:
    """The compiled catalog of a language (cached for the life of the process)."""
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def has_catalog(language: str) -> bool:
    return (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()


def _(message: str) -> str:
    """Translate a message id into the current language."""
    return _directional(catalog(_current.get()).gettext(message))


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message whose form depends on a count, by the language's plural rules."""
    return _directional(catalog(_current.get()).ngettext(singular, plural, count))


def pgettext(context: str, message: str) -> str:
    """Translate a message id that reads differently in another place (the context says where)."""
    # Babel types it `str | object` (a missing entry returns the message id, a str).
    return _directional(str(catalog(_current.get()).pgettext(context, message)))


def _directional(text: str) -> str:
    # In right-to-left text a command such as /start would be shown as "start/".
    if not is_rtl():
        return text
    return _COMMAND.sub(lambda found: f"{LRI}{found[0]}{PDI}", text)


def N_(message: str) -> str:
    """Mark a module-level message id for extraction; translate it later with `_()`."""
    return message


def is_rtl(language: str | None = None) -> bool:
    return _right_to_left(language or _current.get())


@cache
def _right_to_left(language: str) -> bool:
    return bool(Locale.parse(language).text_direction == "rtl")


def isolate(value: object) -> str:
    """Wrap a value so that right-to-left text around it cannot reorder its characters."""
    text = str(value)
    return f"{FSI}{text}{PDI}" if is_rtl() else text


def numbered(number: int, text: str) -> str:
    """An item of a numbered list ("2. Theatre lab"), the number on the right in Arabic and Urdu."""
    return f"{RLM}{number}. {isolate(text)}" if is_rtl() else f"{number}. {text}"


def format_number(number: int) -> str:
    """A count as the current language writes it ("1.200" in Italian, "1,200" in English)."""
    return format_decimal(number, locale=_current.get())


def format_list(items: Iterable[str]) -> str:
    """Items joined as the current language joins them ("halal e vegetariano", "حلال ونباتي")."""
    return babel_format_list(list(items), locale=_current.get())


def language_name(language: str) -> str:
    """The name of a language written in that language, as its speakers would look for it."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def language_name_in(language: str, reader: str) -> str:
    """The name of a language as a reader of another one calls it ("arabo" for an Italian)."""
    return Locale.parse(language).get_display_name(reader) or language


# Codes clients send for a language that the help desk names otherwise.
_CLIENT_ALIASES = {"tl": "fil", "sqi": "sq"}


def match_language(hint: str | None, enabled: tuple[str, ...]) -> str | None:
    """The enabled language that a client's language tag (e.g. "ar-EG", "tl") points to."""
    if not hint:
        return None
    primary = hint.replace("_", "-").split("-")[0].lower()
    primary = _CLIENT_ALIASES.get(primary, primary)
    return primary if primary in enabled else None


def two_letter_code(language: str) -> str | None:
    """The ISO 639-1 code a client names a language by (Filipino: "tl"), if it has one."""
    codes = [language, *(alias for alias, ours in _CLIENT_ALIASES.items() if ours == language)]
    return next((code for code in codes if len(code) == 2), None)


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive timestamps; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of a stored timestamp in the deployment's time zone."""
    return aware(moment).astimezone(zone).date()


def format_when(moment: datetime, zone: ZoneInfo) -> str:
    """A date and time in the current locale and the deployment's time zone."""
    moment = aware(moment)
    return format_datetime(moment, "medium", tzinfo=zone, locale=_current.get())


def format_day(day: date) -> str:
    return format_date(day, "medium", locale=_current.get())


def format_occurrence(moment: datetime, zone: ZoneInfo) -> str:
    """When an activity takes place, in full: "martedì 24 novembre 2026, 16:30"."""
    local = aware(moment).astimezone(zone)
    language = _current.get()
    day = format_date(local.date(), "full", locale=language)
    hour = format_time(local, "short", tzinfo=zone, locale=language)
    # The locale's own way of joining a date and a time ("{1}, {0}"; "{1}، {0}" in Arabic).
    return str(get_datetime_format("medium", locale=language)).format(hour, day)
