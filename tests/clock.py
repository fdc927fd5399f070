"""A clock the tests move by hand, so that reminders fall due without waiting for them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram.ext import Application

ROME = ZoneInfo("Europe/Rome")


class Clock:
    def __init__(self, local: str) -> None:
        self.moment = at(local)

    def __call__(self) -> datetime:
        return self.moment.astimezone(UTC)  # as db.models.now: the instant, in UTC

    def set(self, local: str, application: Application | None = None) -> None:  # type: ignore[type-arg]
        """Move to a local time in Rome; with the running application, check the reminders."""
        self.moment = at(local)
        if application is not None:
            application.bot_data.reminders.wake()


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ROME)
