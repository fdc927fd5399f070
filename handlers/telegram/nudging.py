"""Checking for nudges on a schedule that APScheduler keeps while the bot runs, and moving
the cards of requests nobody took down their group."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot

from bot.cases import nudging
from bot.desk import Desk
from db.models import now
from handlers.telegram.group import post_pending_cards, retire_card

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
    retired = await nudging.send_due(services, services.clock())
    for card in retired:
        await retire_card(bot, services, card)
    if retired:
        await post_pending_cards(bot, services)
