"""How a broadcast goes, shown to the organiser who sent it from the chat: one message that
follows the count every few seconds, then the report when nothing is left to send.

Everything is read from the database at each look, and the message's id is kept on the
broadcast, so a restart picks up the same message."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot import i18n
from bot.broadcasts import report
from bot.broadcasts.report import Progress
from bot.buttons import StopBroadcast
from bot.desk import Desk
from bot.i18n import _
from bot.outgoing import Button, Reply
from db.models import now
from handlers.telegram.render import markup, send

log = logging.getLogger(__name__)

LOOK_EVERY_SECONDS = 3


def schedule_progress(scheduler: AsyncIOScheduler, bot: Bot, services: Desk) -> None:
    """Look now (a broadcast may have been sending while the bot was down), then regularly."""
    shown: dict[int, str] = {}  # what each progress message says, to edit only on news
    scheduler.add_job(
        show_progress,
        "interval",
        seconds=LOOK_EVERY_SECONDS,
        args=(bot, services, shown),
        next_run_time=now(),
        max_instances=1,
        coalesce=True,
    )


async def show_progress(bot: Bot, services: Desk, shown: dict[int, str]) -> None:
    async with services.sessions() as session:
        going = await report.unreported(session)
    for progress in going:
        try:
            await _show(bot, services, progress, shown)
        except Forbidden:  # the organiser blocked the bot: there is nobody to show it to
            await _reported(services, progress)
        except BadRequest:
            log.warning("broadcast %s: its progress could not be shown", progress.broadcast.id)
        except (RetryAfter, NetworkError):  # Telegram is busy or out of reach: at the next look
            return


async def _show(bot: Bot, services: Desk, progress: Progress, shown: dict[int, str]) -> None:
    """Post the progress message, or bring it up to date. At the end, a report of its own, so
    that the organiser is told; after a stop, the message becomes the report (as the Stop
    button showed it)."""
    broadcast = progress.broadcast
    assert broadcast.id is not None and broadcast.created_by is not None
    chat_id = broadcast.created_by
    found = await _report_of(services, broadcast.id) if progress.finished else None
    with i18n.locale(broadcast.language or services.settings.default_language):
        current = Reply(report.progress_text(progress), _stop_row(progress))
        final = report.describe(found, services.settings.timezone) if found else None
    if final is not None and broadcast.cancelled_at is not None:
        current, final = final, None
    if broadcast.progress_message_id is None:
        (message_id,) = await send(bot, chat_id, current)
        async with services.sessions() as session, session.begin():
            await report.shown(session, broadcast.id, message_id)
    elif shown.get(broadcast.id) != current.text:
        try:
            await bot.edit_message_text(
                current.text,
                chat_id=chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=markup(current),
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():  # as it was before a restart: fine
                raise
    shown[broadcast.id] = current.text
    if progress.finished:
        if final is not None:
            await send(bot, chat_id, final)
        await _reported(services, progress)
        shown.pop(broadcast.id, None)


def _stop_row(progress: Progress) -> tuple[tuple[Button, ...], ...]:
    if progress.finished or progress.broadcast.id is None:
        return ()
    return ((Button(_("Stop sending"), StopBroadcast(progress.broadcast.id).pack()),),)


async def _report_of(services: Desk, broadcast_id: int) -> report.Report | None:
    async with services.sessions() as session:
        return await report.report_of(session, broadcast_id)


async def _reported(services: Desk, progress: Progress) -> None:
    assert progress.broadcast.id is not None
    async with services.sessions() as session, session.begin():
        await report.reported(session, progress.broadcast.id, services.clock())
