"""Delivering the outbox through each resident's channel, at the pace it allows for bulk sending."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.activities import enrolments
from bot.channel import Channel, Outcome, reach
from bot.desk import Desk
from bot.outbox import notices
from bot.outbox import store as outbox
from bot.outgoing import Reply
from db.models import Activity, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)

# Each channel says its own pace (Channel.per_second); answers to residents are paced apart.
IN_FLIGHT = 16  # messages on their way at once: enough to keep the pace over a slow network
BATCH = 200  # queued messages read from the database at a time
_REMINDER_RESULTS = (OutboxStatus.SENT, OutboxStatus.SKIPPED)  # as /metrics counts reminders
RETRIES = 3  # tries of one message that the platform answers with "too many requests"
# Seconds between looks at the outbox when nobody said it has news: what another process
# queued (`helpdesk broadcast`, another serve worker) starts within this long. A look is one
# indexed query.
IDLE_CHECK = 1.0
# Seconds before a message left queued (the network, one person's rate limit) is tried again.
RETRY_SOON = 6.0
PERSON_MEMORY = 60.0  # seconds: longer than any platform's window for its limit per person


class Pacer:
    """Spaces events evenly: at most `per_second`, with no bursts.

    It paces real sends, so it reads real time (time.monotonic), not the services' clock.
    """

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_at = 0.0

    def hold(self, seconds: float) -> None:
        """Start nothing for this long."""
        self.next_at = max(self.next_at, time.monotonic() + seconds)

    async def wait(self) -> None:
        moment = time.monotonic()
        if self.next_at > moment:
            await asyncio.sleep(self.next_at - moment)
        self.next_at = max(self.next_at, moment) + self.interval


class OutboxSender:
    """Sends queued messages in order and marks each one, so that a restart resumes the rest.

    Each resident's message goes through the channel they write on, at that channel's pace;
    one of a channel this deployment does not run stays queued until it does.
    """

    def __init__(self, channels: Mapping[str, Channel], services: Desk) -> None:
        self.channels = channels
        self.services = services
        self.pacers = {name: Pacer(channel.per_second) for name, channel in channels.items()}
        self._news = asyncio.Event()
        self._left = False  # a message was left queued, to try again soon
        # When each person last got a message, for channels with a limit per person.
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)
        # One drain at a time: two would both read the same queued rows and send them twice.
        self._draining = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    def wake(self) -> None:
        """Something was queued: send it now rather than at the next regular look."""
        self._news.set()

    async def stop(self) -> None:
        """Finish the messages on their way (and mark them), send nothing more."""
        self._stopping = True
        self._news.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self._news.clear()
            try:
                await self.drain()
            except Exception as error:  # the database or the network failed: try again later
                log.error("the outbox could not be sent: %s", type(error).__name__)
            if self._stopping:
                return
            wait, self._left = (RETRY_SOON if self._left else IDLE_CHECK), False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), wait)

    async def drain(self) -> int:
        """Send everything queued now; how many were handed to a channel."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> int:
        last_id, handed = 0, 0
        forgotten = time.monotonic() - PERSON_MEMORY
        self._recent = {who: sent for who, sent in self._recent.items() if sent[-1] > forgotten}
        pending: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping and self.services.leads():
                async with self.services.sessions() as session:
                    batch = await outbox.take(session, BATCH, self.channels.keys(), last_id)
                    activities = await _activities(session, batch)
                if not batch:
                    break
                for item in batch:
                    if self._stopping or not self.services.leads():
                        break  # another worker sends from now on: not one message twice
                    assert item.row.id is not None
                    last_id = item.row.id
                    # Rendered before its turn in the pace, so that the first message in each
                    # language (which loads the locale's data) does not push the next ones
                    # closer together than the pace allows.
                    reply = self._render(item, activities)
                    if reply is not None and not self._room_for(item):
                        self._left = True  # one person's limit: theirs waits, nobody else's
                        continue
                    await self._in_flight.acquire()
                    if reply is not None:  # a message that will not be sent takes no turn
                        await self.pacers[item.channel].wait()
                    task = asyncio.create_task(self._deliver(item, reply))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    handed += reply is not None
        finally:
            if pending:
                await asyncio.gather(*pending)
        return handed

    def _room_for(self, item: outbox.Queued) -> bool:
        """Whether the person may get one more message now, within their channel's limit for
        one person; if so, it counts against it."""
        limit = self.channels[item.channel].per_person
        if limit is None:
            return True
        burst, seconds = limit
        moment = time.monotonic()
        recent = self._recent.setdefault((item.channel, item.user_id), deque())
        while recent and moment - recent[0] >= seconds:
            recent.popleft()
        if len(recent) >= burst:
            return False
        recent.append(moment)
        return True

    def _render(self, item: outbox.Queued, activities: _Activities) -> Reply | None:
        """What to send; None when the message no longer applies or is no longer wanted."""
        if not item.wanted:
            return None
        settings = self.services.settings
        activity, called_off = activities.of(item)
        with i18n.locale(item.language or settings.default_language):
            return notices.render(
                item.row, activity, settings.timezone, self.services.clock(), called_off
            )

    async def _deliver(self, item: outbox.Queued, reply: Reply | None) -> None:
        """Send one message and mark it. Its place among those in flight is given back only once
        it is marked: a crash never leaves more than IN_FLIGHT messages sent but not marked
        (which a restart, or another worker taking over, would send again)."""
        try:
            reference = await self._deliver_and_mark(item, reply)
        finally:
            self._in_flight.release()
        if reference is not None:  # what the platform said of it before it was marked
            async with self.services.sessions() as session, session.begin():
                if await outbox.settle(session, reference):
                    self.wake()

    async def _deliver_and_mark(self, item: outbox.Queued, reply: Reply | None) -> str | None:
        """The platform's id for what was sent, once it is marked."""
        reference = None
        status: OutboxStatus | None = OutboxStatus.SKIPPED
        if reply is not None:
            status, reference = await self._send(item, reply)
        metrics = self.services.metrics
        metrics.sends.labels(item.channel, status or "retry").inc()
        if status is None:
            self._left = True  # left queued: tried again at the next look, soon
            return None
        assert item.row.id is not None
        async with self.services.sessions() as session, session.begin():
            await outbox.mark(session, item.row.id, status, self.services.clock(), reference)
            if status == OutboxStatus.BLOCKED:
                await outbox.mark_unreachable(session, item.row.resident_id)
        if item.row.kind == OutboxKind.REMINDER and status in _REMINDER_RESULTS:
            metrics.reminders.labels(status).inc()
        return reference

    async def _send(
        self, item: outbox.Queued, reply: Reply
    ) -> tuple[OutboxStatus | None, str | None]:
        """Send one message; its new status (None to leave it queued for the next look), and
        the platform's id for what was sent."""
        channel, pacer = self.channels[item.channel], self.pacers[item.channel]
        for _attempt in range(RETRIES):
            moment = self.services.clock()
            delivery = await reach(channel, item.user_id, reply, item.last_inbound_at, moment)
            if delivery.outcome is Outcome.RATE_LIMITED:
                self.services.metrics.rate_limited.labels(item.channel).inc()
                # The platform says to slow down: everything waits, then goes on at the pace,
                # rather than all the messages held meanwhile leaving at once.
                pacer.hold(delivery.retry_after)
                await pacer.wait()
                continue
            if delivery.outcome is Outcome.BLOCKED:
                log.info("outbox message %s: the resident blocked the bot", item.row.id)
                return OutboxStatus.BLOCKED, None
            if delivery.outcome is Outcome.FAILED:
                log.warning("outbox message %s refused", item.row.id)
                return OutboxStatus.FAILED, None
            if delivery.outcome is Outcome.WINDOW_CLOSED:
                # No template may say it: it goes when the resident next writes.
                log.info("outbox message %s waits for the resident to write", item.row.id)
                return OutboxStatus.HELD, None
            if not delivery.delivered:  # the network: tried again at the next look
                log.warning("outbox message %s not sent yet: %s", item.row.id, delivery.outcome)
                return None, None
            return OutboxStatus.SENT, delivery.reference
        return None, None


@dataclass(frozen=True)
class _Activities:
    """The activities a batch of messages speaks of, and their cancelled dates."""

    by_id: dict[int, Activity]
    called_off: dict[int, set[datetime]]

    def of(self, item: outbox.Queued) -> tuple[Activity | None, set[datetime]]:
        activity_id = int(item.row.payload.get("activity", 0))
        return self.by_id.get(activity_id), self.called_off.get(activity_id, set())


async def _activities(session: AsyncSession, batch: list[outbox.Queued]) -> _Activities:
    wanted = {int(item.row.payload.get("activity", 0)) for item in batch}
    found = await session.exec(select(Activity).where(col(Activity.id).in_(wanted)))
    by_id = {activity.id: activity for activity in found.all() if activity.id is not None}
    return _Activities(by_id, await enrolments.called_off(session, wanted))
