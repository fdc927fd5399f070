"""Sending the nudges, on a schedule that APScheduler keeps while the bot runs."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot

from bot import i18n
from bot.cases import claims, news, nudges
from bot.desk import Desk
from bot.i18n import N_
from bot.outgoing import Reply
from db.models import Case, Queue, case_number, now
from handlers.telegram.group import post_pending_cards, retire_card

log = logging.getLogger(__name__)

# Due nudges are found from the database, so the interval only bounds how late one can be.
CHECK_EVERY_MINUTES = 10


def schedule_nudges(scheduler: AsyncIOScheduler, bot: Bot, services: Desk) -> None:
    """Check for due nudges now (whatever fell due while the bot was down) and then regularly.

    The jobs live in memory and are rebuilt at every start: what is due is read from the
    cases themselves, so there is nothing else to keep.
    """
    scheduler.add_job(
        send_nudges,
        "interval",
        minutes=CHECK_EVERY_MINUTES,
        args=(bot, services),
        next_run_time=now(),
        max_instances=1,
        coalesce=True,
    )


async def send_nudges(bot: Bot, services: Desk) -> None:
    moment = now()
    async with services.posting, services.sessions() as session, session.begin():
        reposts = await nudges.take_unclaimed(session, services.settings, moment)
        reminders = await nudges.take_stalled(session, services.settings, moment)
    for repost in reposts:
        await _retire_card(bot, services, repost)
    if reposts:
        await post_pending_cards(bot, services)
        await _tell_organisers(bot, services, reposts)
    for reminder in reminders:
        await _remind(bot, services, reminder)


async def _retire_card(bot: Bot, services: Desk, repost: nudges.Repost) -> None:
    async with services.sessions() as session:
        queue = await session.get(Queue, repost.queue)
        case = await session.get(Case, repost.case_id)
    if queue is None or case is None or repost.old_card is None:
        return
    reason = N_("Still waiting: posted again below.")
    await retire_card(bot, services, case, queue.chat_id, repost.old_card, reason)


async def _tell_organisers(bot: Bot, services: Desk, reposts: list[nudges.Repost]) -> None:
    hours = int(services.settings.unclaimed_after.total_seconds() // 3600)
    with i18n.locale(services.settings.default_language):
        numbers = i18n.format_list(i18n.isolate(case_number(r.case_id)) for r in reposts)
        text = i18n.ngettext(
            "No volunteer has taken these requests in {count} hour; they were posted again: "
            "{numbers}",
            "No volunteer has taken these requests in {count} hours; they were posted again: "
            "{numbers}",
            hours,
        ).format(count=hours, numbers=numbers)
    await news.tell_organisers(services, text)


async def _remind(bot: Bot, services: Desk, reminder: nudges.Reminder) -> None:
    days = services.settings.stalled_after.days
    async with services.sessions() as session:
        case = await session.get(Case, reminder.case_id)
        language = await claims.volunteer_language(session, reminder.volunteer_id)
    if case is None:
        return
    with i18n.locale(language or services.settings.default_language):
        text = i18n.ngettext(
            "Request {number} has had no message for {count} day. Write to the resident "
            "(reply to their messages), or /release or /close it.",
            "Request {number} has had no message for {count} days. Write to the resident "
            "(reply to their messages), or /release or /close it.",
            days,
        ).format(number=i18n.isolate(case.number), count=days)
    delivery = await services.staff.deliver(str(reminder.volunteer_id), Reply(text))
    if not delivery.delivered:
        log.warning("could not remind the volunteer of case %s", case.id)
