"""Telegram handlers for residents writing to the bot in a private chat."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.outgoing import Response
from bot.residents import commands, dialogue, intents
from bot.residents.conversation import conversation
from bot.residents.intents import Intent
from handlers.telegram.context import Callback, Context, desk, sender_of, wake_outbox
from handlers.telegram.group import post_pending_cards
from handlers.telegram.render import send_all, settle_press
from handlers.telegram.volunteer import relay_to_volunteer

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits of old messages are not new answers


async def handle(update: Update, context: Context, intent: Intent) -> Response | None:
    """Run one intent in its own committed transaction; None when the update was seen before."""
    services = desk(context)
    key = str(update.update_id)
    async with conversation(
        services.sessions, services.settings, sender_of(update), key, services.clock
    ) as convo:
        if convo is None:
            return None
        return await intent(convo)


def command(intent: Intent) -> Callback:
    async def callback(update: Update, context: Context) -> None:
        response = await handle(update, context, intent)
        if response is None or update.effective_chat is None:
            return
        if response.relay_for_case is not None and update.effective_message is not None:
            delivered = await relay_to_volunteer(
                context.bot, desk(context), update.effective_message, response.relay_for_case
            )
            if not delivered and response.undelivered is not None:
                response.replies = [response.undelivered]
        await send_all(context.bot, update.effective_chat.id, response)
        await after(context, response)

    callback.__doc__ = intent.__doc__
    return callback


async def on_text(update: Update, context: Context) -> None:
    """Take typed text as an answer to the current question."""
    assert update.message is not None
    text = update.message.text or ""
    await command(intents.typed(text))(update, context)


async def on_button(update: Update, context: Context) -> None:
    """Apply a pressed button, then update the message that carried it."""
    query = update.callback_query
    assert query is not None
    if query.message is None or query.message.chat.type != "private":
        await query.answer()
        return
    data = query.data or ""
    response = await handle(update, context, lambda convo: dialogue.press(convo, data))
    if response is None:
        await query.answer()
        return
    await settle_press(query, response, send_all(context.bot, query.message.chat.id, response))
    await after(context, response)


async def after(context: Context, response: Response) -> None:
    """What has to happen once the resident has their answer."""
    if response.outbox_news:
        wake_outbox(context)
    if response.cards_waiting:
        # In the background: a group's pace (20 messages a minute) must not hold up the
        # resident's next answer, nor anyone else's.
        context.application.create_task(
            post_pending_cards(context.bot, desk(context)), name="post cards"
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the resident handlers, most specific first."""
    for name, intent in intents.BY_COMMAND.items():
        application.add_handler(
            CommandHandler(name, command(intent), filters=PRIVATE & NEW_MESSAGE)
        )
    application.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, command(commands.unknown_command))
    )
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT, on_text))
    application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE, command(dialogue.unsupported)))
    application.add_handler(CallbackQueryHandler(on_button))
