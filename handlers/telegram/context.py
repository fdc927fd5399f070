"""What a Telegram handler finds in the application: the services the composition root built,
typed (PTB's bot_data is a `Wiring`, not a dictionary of string keys)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot, Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.desk import Desk
from bot.outbox.reminding import Reminders
from bot.outbox.sender import OutboxSender
from bot.residents.conversation import (
    Sender,
    first_delivery,
    handled_before,
    in_turn,
    mark_handled,
)

if TYPE_CHECKING:
    from handlers.whatsapp import WhatsApp


class Wiring:
    """The application's services: the desk from the start, the background ones once started."""

    desk: Desk  # set by the composition root right after the application is built

    def __init__(self) -> None:
        self.scheduler: AsyncIOScheduler | None = None
        self.outbox: OutboxSender | None = None
        self.reminders: Reminders | None = None
        self.bulk_bot: Bot | None = None  # the bot the outbox sends with
        self.whatsapp: WhatsApp | None = None  # residents' other channel, where configured


# What the handlers take from Telegram, by polling or by webhook alike.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], Wiring]
CONTEXT_TYPES = ContextTypes(bot_data=Wiring)


def desk(context: Context) -> Desk:
    return context.bot_data.desk


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    assert user is not None
    return Sender("telegram", str(user.id), user.language_code)


Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


async def apply_once(update: Update, context: Context, work: Coroutine[Any, Any, None]) -> None:
    """For work whose services do not record the update themselves (the residents' and
    organisers' do, in the transaction of its effects): skip an update handled before, as a
    webhook may deliver one again, and record it once handled.

    On PostgreSQL, where several workers may take the person's updates, a transaction holds
    their turn (see in_turn) while the work is done: an update given to two workers at once is
    applied by the first and skipped by the second, which waits for it. With SQLite there is
    one process, and its PerChatOrder already takes each chat's updates one at a time."""
    services, key = desk(context), str(update.update_id)
    if services.engine.dialect.name != "postgresql":
        if await handled_before(services.sessions, "telegram", key):
            work.close()  # never started
            return
        await work
        await mark_handled(services.sessions, "telegram", key)
        return
    async with services.sessions() as session, session.begin():
        await in_turn(session, Sender("telegram", _person_of(update)))
        if not await first_delivery(session, "telegram", key):
            work.close()
            return
        await work  # if it fails, the record is rolled back: a delivery again applies it


def _person_of(update: Update) -> str:
    """Whose turn an update takes: its sender's, else its chat's."""
    if update.effective_user is not None:
        return str(update.effective_user.id)
    return str(update.effective_chat.id if update.effective_chat is not None else 0)


def once(callback: Callback) -> Callback:
    """A handler applied once per update (see apply_once)."""

    async def handled_once(update: Update, context: Context) -> None:
        await apply_once(update, context, callback(update, context))

    handled_once.__doc__ = callback.__doc__
    return handled_once


def wake_outbox(context: Context) -> None:
    """Messages were queued: send them now (the sender starts after the handlers can run)."""
    if context.bot_data.outbox is not None:
        context.bot_data.outbox.wake()


def wake_reminders(context: Context) -> None:
    """An activity changed: check the reminders now."""
    if context.bot_data.reminders is not None:
        context.bot_data.reminders.wake()
