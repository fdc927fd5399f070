"""The one clock of the services: what time it is, given to them rather than read by each.

The composition root (bot.app) builds the Desk with a clock, the wall clock unless told
otherwise, and every service takes the time from it: `desk.clock()`, `convo.clock()`, or a
`moment` its caller read there. Tests pass a clock they move by hand, and everything moves
with it. Only what has to follow real time reads the wall clock itself (the scheduler's sleeps,
the memory of Telegram's re-deliveries), as do the tables' default timestamps (db.models.now).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from db.models import now

__all__ = ["Clock", "now"]

# Tells the time as an aware datetime in UTC, as `now`, the wall clock, does.
Clock = Callable[[], datetime]
