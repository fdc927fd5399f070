"""Waking the reminder check at the right moments, with APScheduler.

The jobs live in memory and are rebuilt at every start, rather than kept in APScheduler's
SQLAlchemy job store: what is due is computed from the activities and the outbox in the
database, which already survive a restart, and a job store would be a second copy of that
schedule that could disagree with it (an organiser changing a time, an import from the command
line in another process). So one job wakes the check at the next reminder's time, at most
`CHECK_EVERY` apart, and the check itself decides what to queue, exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import now
from bot.desk import Desk
from bot.outbox import reminders
from bot.outbox.sender import OutboxSender

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(minutes=10)  # also picks up activities imported from the command line
NEXT_CHECK, CHECK_NOW = "reminders", "reminders now"


class Reminders:
    def __init__(self, scheduler: AsyncIOScheduler, services: Desk, sender: OutboxSender) -> None:
        self.scheduler = scheduler
        self.services = services
        self.sender = sender
        self._one_at_a_time = asyncio.Lock()
        self._checked_until: datetime | None = None  # everything due before was dealt with

    def start(self) -> None:
        """Check now, for whatever fell due while the bot was stopped."""
        self.wake()

    def wake(self) -> None:
        """Check at once: an activity changed, or (in tests) the clock moved."""
        self._arm(CHECK_NOW, timedelta(0))

    def _arm(self, job_id: str, wait: timedelta) -> None:
        # The wait is measured on the services' clock, but APScheduler sleeps on the wall clock.
        self.scheduler.add_job(
            self.check,
            "date",
            run_date=now() + max(wait, timedelta(0)),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def check(self) -> None:
        async with self._one_at_a_time:
            moment = self.services.clock()
            try:
                async with self.services.sessions() as session, session.begin():
                    checked = await reminders.queue_due(
                        session, self.services.settings, moment, CHECK_EVERY, self._checked_until
                    )
            except Exception as error:  # the database is away: look again soon
                log.error("the reminders could not be checked: %s", type(error).__name__)
                self._arm(NEXT_CHECK, timedelta(minutes=1))
                return
            self._checked_until = moment
            if checked.queued:
                self.sender.wake()
            wait = CHECK_EVERY
            if checked.next_at is not None:
                wait = min(wait, checked.next_at - moment)
            self._arm(NEXT_CHECK, wait)
