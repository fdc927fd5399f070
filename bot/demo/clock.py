"""The demo's clock: the wall clock moved forward on request, so that reminders, nudges and the
escalation of untaken requests can be seen without waiting for them."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import now


class DemoClock:
    """Tells the wall-clock time plus however far the demo was moved; it never goes back."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return now() + self.ahead

    def advance(self, by: timedelta) -> datetime:
        """Move forward by `by` (a negative step is ignored); the new time."""
        self.ahead += max(by, timedelta(0))
        return self()

    def advance_to(self, moment: datetime) -> datetime:
        """Move forward to `moment`, if it is ahead; the new time."""
        return self.advance(moment - self())
