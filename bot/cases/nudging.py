"""Sending the nudges that are due: quiet cases remind their volunteer, and organisers hear of
the cards nobody took, which go back to their group (the caller posts them again)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot import i18n
from bot.cases import claims, news, nudges
from bot.desk import Desk
from bot.i18n import N_
from bot.outgoing import Reply, RetiredCard
from db.models import Case, Queue, case_number

log = logging.getLogger(__name__)


async def send_due(desk: Desk, moment: datetime) -> list[RetiredCard]:
    """Take the nudges due at `moment` (each recorded as it is taken); the old cards to retire.

    Taken under the posting lock, so that no card is being posted meanwhile.
    """
    async with desk.posting, desk.sessions() as session, session.begin():
        reposts = await nudges.take_unclaimed(session, desk.settings, moment)
        reminders = await nudges.take_stalled(session, desk.settings, moment)
    retired = [card for repost in reposts if (card := await _old_card(desk, repost))]
    if reposts:
        await _tell_organisers(desk, reposts)
    for reminder in reminders:
        await _remind(desk, reminder)
    return retired


async def _old_card(desk: Desk, repost: nudges.Repost) -> RetiredCard | None:
    async with desk.sessions() as session:
        queue = await session.get(Queue, repost.queue)
    if queue is None or repost.old_card is None:
        return None
    reason = N_("Still waiting: posted again below.")
    return RetiredCard(repost.case_id, queue.chat_id, repost.old_card, reason)


async def _tell_organisers(desk: Desk, reposts: list[nudges.Repost]) -> None:
    hours = int(desk.settings.unclaimed_after.total_seconds() // 3600)
    with i18n.locale(desk.settings.default_language):
        numbers = i18n.format_list(i18n.isolate(case_number(r.case_id)) for r in reposts)
        text = i18n.ngettext(
            "No volunteer has taken these requests in {count} hour; they were posted again: "
            "{numbers}",
            "No volunteer has taken these requests in {count} hours; they were posted again: "
            "{numbers}",
            hours,
        ).format(count=hours, numbers=numbers)
    await news.tell_organisers(desk, text)


async def _remind(desk: Desk, reminder: nudges.Reminder) -> None:
    days = desk.settings.stalled_after.days
    async with desk.sessions() as session:
        case = await session.get(Case, reminder.case_id)
        language = await claims.volunteer_language(session, reminder.volunteer_id)
    if case is None:
        return
    with i18n.locale(language or desk.settings.default_language):
        text = i18n.ngettext(
            "Request {number} has had no message for {count} day. Write to the resident "
            "(reply to their messages), or /release or /close it.",
            "Request {number} has had no message for {count} days. Write to the resident "
            "(reply to their messages), or /release or /close it.",
            days,
        ).format(number=i18n.isolate(case.number), count=days)
    delivery = await desk.staff.deliver(str(reminder.volunteer_id), Reply(text))
    if not delivery.delivered:
        log.warning("could not remind the volunteer of case %s", case.id)
