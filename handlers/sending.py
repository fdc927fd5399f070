"""Delivering the outbox over Telegram at the pace Telegram allows for bulk sending."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import i18n, notices, outbox
from bot.desk import Desk
from db.models import Activity
from handlers.telegram_render import send

log = logging.getLogger(__name__)

# Telegram lets a bot send about 30 messages a second in all. Bulk sending keeps a little under
# it, so that jitter on the way never crosses it; answers to residents are paced separately.
PER_SECOND = 29.0
IN_FLIGHT = 16  # messages on their way at once: enough to keep the pace over a slow network
BATCH = 200  # queued messages read from the database at a time
IDLE_CHECK = 60.0  # seconds: how often the outbox is looked at when nobody says it has news


class Pacer:
    """Spaces events evenly: at most `per_second`, with no bursts."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_at = 0.0

    async def wait(self) -> None:
        moment = time.monotonic()
        if self.next_at > moment:
            await asyncio.sleep(self.next_at - moment)
        self.next_at = max(self.next_at, moment) + self.interval


class OutboxSender:
    """Sends queued messages in order and marks each one, so that a restart resumes the rest."""

    def __init__(self, bot: Bot, services: Desk, per_second: float = PER_SECOND) -> None:
        self.bot = bot
        self.services = services
        self.pacer = Pacer(per_second)
        self._news = asyncio.Event()
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), IDLE_CHECK)

    async def drain(self) -> int:
        """Send everything queued now; how many were handed to Telegram."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> int:
        last_id, handed = 0, 0
        pending: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                async with self.services.sessions() as session:
                    batch = await outbox.take(session, BATCH, after_id=last_id)
                    activities = await _activities(session, batch)
                if not batch:
                    break
                for item in batch:
                    if self._stopping:
                        break
                    assert item.row.id is not None
                    last_id = item.row.id
                    await self._in_flight.acquire()
                    if item.wanted:  # messages that will not be sent take no place in the pace
                        await self.pacer.wait()
                    task = asyncio.create_task(self._deliver(item, activities))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    handed += item.wanted
        finally:
            if pending:
                await asyncio.gather(*pending)
        return handed

    async def _deliver(self, item: outbox.Queued, activities: dict[int, Activity]) -> None:
        try:
            status = await self._send(item, activities)
        finally:
            self._in_flight.release()
        if status is None:
            return  # left queued: tried again at the next look
        assert item.row.id is not None
        async with self.services.sessions() as session, session.begin():
            await outbox.mark(session, item.row.id, status, self.services.clock())
            if status == "blocked":
                await outbox.mark_unreachable(session, item.chat_id)

    async def _send(self, item: outbox.Queued, activities: dict[int, Activity]) -> str | None:
        if not item.wanted:
            return "skipped"
        settings = self.services.settings
        activity = activities.get(int(item.row.payload.get("activity", 0)))
        with i18n.locale(item.language or settings.default_language):
            reply = notices.render(item.row, activity, settings.timezone, self.services.clock())
        if reply is None:
            return "skipped"
        try:
            await send(self.bot, int(item.chat_id), reply)
        except Forbidden:
            log.info("outbox message %s: the resident blocked the bot", item.row.id)
            return "blocked"
        except BadRequest as error:
            log.warning("outbox message %s refused: %s", item.row.id, type(error).__name__)
            return "failed"
        except TelegramError as error:  # network trouble, or still too many requests
            log.warning("outbox message %s not sent yet: %s", item.row.id, type(error).__name__)
            return None
        return "sent"


async def _activities(session: AsyncSession, batch: list[outbox.Queued]) -> dict[int, Activity]:
    wanted = {int(item.row.payload.get("activity", 0)) for item in batch}
    found = await session.exec(select(Activity).where(col(Activity.id).in_(wanted)))
    return {activity.id: activity for activity in found.all() if activity.id is not None}
