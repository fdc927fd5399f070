"""What a button can say: one small class per kind of button, packed into the data a platform
gives back when it is pressed, and parsed back strictly, since that data is untrusted.

A field is an id or a count (`int`: 0 to the databases' largest integer), a word (`str`:
lower-case letters, digits, `_ . -`), a moment (`datetime`: a UTC minute), or one of a few words
(`Literal`). Trailing fields may be optional (`| None = None`). Anything else a client sends
parses to None, and the services treat it as a button that is no longer active.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin, get_type_hints

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER: a larger id names no row, and SQLite refuses it
MAX_BYTES = 64  # Telegram's limit for a button's data (WhatsApp allows 256, list rows 200)
_ID = re.compile(r"0|[1-9][0-9]{0,9}")
_WORD = re.compile(r"[a-z0-9_.-]{1,40}")
_MOMENT = "%Y%m%dT%H%MZ"
_MOMENT_TEXT = re.compile(r"[0-9]{8}T[0-9]{4}Z")


class ButtonData:
    """Base of every kind of button; subclasses are frozen dataclasses with a `prefix`."""

    prefix: ClassVar[str]
    _kinds: ClassVar[dict[str, type[ButtonData]]] = {}

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix in ButtonData._kinds:
            raise TypeError(f"two kinds of button share the prefix {prefix!r}")
        cls.prefix = prefix
        ButtonData._kinds[prefix] = cls

    def pack(self) -> str:
        values = [getattr(self, field.name) for field in fields(self)]  # type: ignore[arg-type]
        while values and values[-1] is None:
            values.pop()
        data = ":".join([self.prefix, *(_pack(value) for value in values)])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: str) -> Self | None:
        """This kind of button's values, or None for anything it never carries."""
        if data != cls.prefix and not data.startswith(cls.prefix + ":"):
            return None
        rest = data[len(cls.prefix) + 1 :]
        parts = rest.split(":") if rest else []
        kinds = _field_kinds(cls)
        if not len([k for k in kinds if not k.optional]) <= len(parts) <= len(kinds):
            return None
        values = []
        for kind, part in zip(kinds, parts, strict=False):
            value = kind.read(part)
            if value is None:
                return None
            values.append(value)
        return cls(*values)


def parse(data: str) -> ButtonData | None:
    """The button that data comes from, of whichever kind, or None if no button says it."""
    for prefix in sorted(ButtonData._kinds, key=len, reverse=True):
        found = ButtonData._kinds[prefix].parse(data)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class _Kind:
    base: type
    choices: tuple[str, ...] = ()
    optional: bool = False

    def read(self, part: str) -> Any:
        if self.choices:
            return part if part in self.choices else None
        if self.base is int:
            return int(part) if _ID.fullmatch(part) and int(part) <= MAX_ID else None
        if self.base is datetime:
            if not _MOMENT_TEXT.fullmatch(part):
                return None
            try:
                return datetime.strptime(part, _MOMENT).replace(tzinfo=UTC)
            except ValueError:
                return None
        return part if _WORD.fullmatch(part) else None


_FIELD_KINDS: dict[type[ButtonData], tuple[_Kind, ...]] = {}


def _field_kinds(cls: type[ButtonData]) -> tuple[_Kind, ...]:
    """What each field of a kind of button may hold (read from its annotations once)."""
    if cls not in _FIELD_KINDS:
        hints = get_type_hints(cls)
        found = fields(cls)  # type: ignore[arg-type]
        _FIELD_KINDS[cls] = tuple(_kind_of(hints[field.name]) for field in found)
    return _FIELD_KINDS[cls]


def _kind_of(hint: Any) -> _Kind:
    optional = False
    if get_origin(hint) in (Union, types.UnionType):
        members = [member for member in get_args(hint) if member is not type(None)]
        hint, optional = members[0], True
    if get_origin(hint) is Literal:
        return _Kind(str, tuple(get_args(hint)), optional)
    if hint not in (int, str, datetime):
        raise TypeError(f"a button cannot carry a {hint!r}")
    return _Kind(hint, (), optional)


def _pack(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(_MOMENT)
    text = str(value)
    if ":" in text:
        raise ValueError(f"a button's value cannot hold a colon: {text!r}")
    return text


# -- the buttons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseLanguage(ButtonData, prefix="lang"):
    code: str


@dataclass(frozen=True)
class LanguagePage(ButtonData, prefix="langs"):
    """The language picker's first page (the likeliest languages) or its other languages."""

    page: Literal["first", "others"]


@dataclass(frozen=True)
class GiveConsent(ButtonData, prefix="consent"):
    version: str  # of the privacy notice the resident read
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class StartFlow(ButtonData, prefix="flow"):
    flow: str


@dataclass(frozen=True)
class IntakePress(ButtonData, prefix="i"):
    # The intake's revision makes every button single-use: a press on an older message is stale.
    revision: int
    token: str


@dataclass(frozen=True)
class EraseData(ButtonData, prefix="erase"):
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class Agenda(ButtonData, prefix="a"):
    """The resident's activities: the list, one activity, sign up, leave, the calendar file."""

    action: Literal["list", "quit", "show", "join", "leave", "ics", "pick"]
    target: int | None = None  # an activity's id; an enrolment's for "leave"


@dataclass(frozen=True)
class Rsvp(ButtonData, prefix="rsvp"):
    enrolment_id: int
    occurrence: datetime
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class ReadWaiting(ButtonData, prefix="waiting"):
    """A template's quick reply: "read the message that waits for me" (writing opens the
    resident's window, and what waited for it follows)."""


@dataclass(frozen=True)
class ClaimCase(ButtonData, prefix="claim"):
    case_id: int


@dataclass(frozen=True)
class CloseCase(ButtonData, prefix="close"):
    case_id: int
    outcome: str


@dataclass(frozen=True)
class StopBroadcast(ButtonData, prefix="o:stop"):
    """An organiser stops a broadcast that is still sending."""

    broadcast_id: int


@dataclass(frozen=True)
class AllActivities(ButtonData, prefix="o:list"):
    """The organiser's list of activities, from an activity's page."""


@dataclass(frozen=True)
class DraftPress(ButtonData, prefix="o:d"):
    """A button of the organiser's form; the draft's revision makes it single-use."""

    revision: int
    step: str
    choice: str | None = None


@dataclass(frozen=True)
class ActivityAction(ButtonData, prefix="o:a"):
    """A button of an activity's page for organisers."""

    activity_id: int
    action: str
    occurrence: datetime | None = None
