"""What organisers type about an activity, checked: each reader returns what to keep, or says no."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import _

MAX_LINE = 200  # the title and place columns' size
MAX_DESCRIPTION = 1000  # a few lines: the page must still fit in one message
_AGES = re.compile(r"(\d{1,2})\s*[-–]\s*(\d{1,2})")


class Invalid(ValueError):
    """An answer that cannot be used; the message says why, in the organiser's language."""


def line(text: str) -> str:
    """One line of text, its spaces tidied: a title, a place."""
    tidy = " ".join(text.split())
    if not tidy:
        raise Invalid(_("Please type it as text."))
    return _within(tidy, MAX_LINE)


def description(text: str) -> str:
    """A few lines: each one's spaces tidied, with at most one empty line between paragraphs."""
    tidy = "\n".join(" ".join(row.split()) for row in text.splitlines())
    tidy = re.sub(r"\n{3,}", "\n\n", tidy).strip()
    if not tidy:
        raise Invalid(_("Please type it as text."))
    return _within(tidy, MAX_DESCRIPTION)


def _within(text: str, limit: int) -> str:
    if len(text) > limit:
        message = _("That is {length} characters long: please keep it within {limit}.")
        raise Invalid(message.format(length=len(text), limit=limit))
    return text


def start(text: str, zone: ZoneInfo, moment: datetime) -> datetime:
    """A local date and time, "24/11/2026 16:30" or "2026-11-24 16:30", still to come."""
    for layout in ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"):
        try:
            first = datetime.strptime(" ".join(text.split()), layout)
        except ValueError:
            continue
        if first.replace(tzinfo=zone) <= moment:
            raise Invalid(_("That moment has already passed: please type a date to come."))
        return first
    raise Invalid(_("I could not read that date. Please type it like 24/11/2026 16:30."))


def number(text: str, most: int, error: str) -> int:
    found = re.fullmatch(r"\d{1,4}", text.strip())  # any script's digits; never a huge number
    if found is None or not 1 <= int(found[0]) <= most:
        raise Invalid(error)
    return int(found[0])


def ages(text: str) -> list[int]:
    found = _AGES.fullmatch(text.strip())
    if found is None or not int(found[1]) <= int(found[2]) <= 17:
        raise Invalid(_("Please type the ages like 8-10: youngest first, from 0 to 17."))
    return [int(found[1]), int(found[2])]
