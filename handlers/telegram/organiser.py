"""Telegram handlers for organisers in their private chat: activities, broadcasts, statistics
and exports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.activities import form as activity_form
from bot.activities import organising
from bot.activities.organising import Action
from bot.broadcasts import chat as broadcast_chat
from bot.desk import Desk
from bot.i18n import _
from bot.outgoing import Reply, Response
from bot.reports import exports, stats
from bot.residents import dialogue
from handlers.telegram import resident
from handlers.telegram.context import Context, Wiring, desk, sender_of, wake_outbox, wake_reminders
from handlers.telegram.render import send_all, settle_press

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE


async def run(update: Update, context: Context, action: Action) -> Response | None:
    """Apply one action, in the organiser's language; None when the update was seen before."""
    services, user = desk(context), update.effective_user
    assert user is not None
    language = services.settings.language_for(user.language_code)
    response = await organising.act(
        services, sender_of(update), str(update.update_id), language, action
    )
    # Only now that it is committed may the reminders and the outbox see the change.
    if response is not None and response.schedule_changed:
        wake_reminders(context)
    if response is not None and response.outbox_news:
        wake_outbox(context)
    return response


async def reply(update: Update, context: Context, action: Action) -> None:
    response = await run(update, context, action)
    if response is not None and update.effective_chat is not None:
        await send_all(context.bot, update.effective_chat.id, response)


async def drafting(update: Update, context: Context) -> bool:
    """Whether the organiser is in the middle of writing an activity or a broadcast."""
    assert update.effective_user is not None
    return await organising.drafting(desk(context), update.effective_user.id)


async def new_activity(update: Update, context: Context) -> None:
    """/newactivity: describe a new activity, one question at a time."""
    await reply(update, context, activity_form.start)


async def activities(update: Update, context: Context) -> None:
    """/activities: the activities, each with a button to its page."""
    await reply(update, context, organising.show_activities)


async def cancel(update: Update, context: Context) -> None:
    """/cancel: forget the activity or broadcast being written, else what a resident's /cancel
    does."""
    if await drafting(update, context):
        await reply(update, context, organising.cancel)
    else:
        await resident.command(dialogue.cancel)(update, context)


async def broadcast(update: Update, context: Context) -> None:
    """/broadcast: write a notice to residents, one question at a time."""
    await reply(update, context, broadcast_chat.start)


async def broadcasts(update: Update, context: Context) -> None:
    """/broadcasts: the latest broadcasts and how they went; one still sending can be stopped."""
    await reply(update, context, organising.show_broadcasts)


async def show_stats(update: Update, context: Context) -> None:
    """/stats: what the help desk did in the last weeks, in a chart and a few lines."""
    await _say(update, context, stats.stats_reply)


async def export(update: Update, context: Context) -> None:
    """/export: every request as a CSV file, without names."""
    await _say(update, context, exports.cases_file)


async def not_an_organiser(update: Update, context: Context) -> None:
    """An organiser's command from anyone else: said politely, and nothing happens."""

    async def refusal(services: Desk) -> Reply:
        return Reply(_("Only the help desk's organisers can use this command."))

    await _say(update, context, refusal)


async def _say(
    update: Update, context: Context, answer: Callable[[Desk], Awaitable[Reply]]
) -> None:
    """An answer that changes nothing, made and sent in the person's language."""
    services, user, chat = desk(context), update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    with i18n.locale(services.settings.language_for(user.language_code)):
        said = await answer(services)
    await send_all(context.bot, chat.id, Response().say(said))


async def on_message(update: Update, context: Context) -> None:
    """An answer for the activity or broadcast being written; with none in progress, a
    resident's message."""
    message = update.effective_message
    assert message is not None
    text = message.text
    if await drafting(update, context):
        await reply(update, context, lambda turn: organising.answer(turn, text))
    elif text is not None:
        await resident.on_text(update, context)
    else:
        await resident.command(dialogue.unsupported)(update, context)


async def on_press(update: Update, context: Context) -> None:
    """Apply an organiser's button; anyone else's press on one changes nothing."""
    query, services = update.callback_query, desk(context)
    assert query is not None
    chat = query.message.chat if query.message else None
    if chat is None or chat.type != "private" or not _organiser(services, query.from_user.id):
        with i18n.locale(services.settings.language_for(query.from_user.language_code)):
            await query.answer(_("This button is no longer active."))
        return
    data = query.data or ""
    response = await run(update, context, lambda turn: organising.press(turn, data))
    if response is None:
        await query.answer()
        return
    await settle_press(query, response, send_all(context.bot, chat.id, response))


def _organiser(services: Desk, user_id: int) -> bool:
    return user_id in services.settings.organisers


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the organiser handlers, before the resident ones: an organiser may be both."""
    wiring: Wiring = application.bot_data
    services = wiring.desk
    organisers = filters.User(user_id=services.settings.organisers)
    mine = PRIVATE & NEW_MESSAGE & organisers
    for name, callback in (
        ("newactivity", new_activity),
        ("activities", activities),
        ("cancel", cancel),
        ("export", export),
        ("broadcast", broadcast),
        ("broadcasts", broadcasts),
        ("stats", show_stats),
    ):
        application.add_handler(CommandHandler(name, callback, filters=mine))
    strangers = PRIVATE & NEW_MESSAGE & ~organisers
    for name in ("export", "broadcast", "broadcasts", "stats"):
        application.add_handler(CommandHandler(name, not_an_organiser, filters=strangers))
    application.add_handler(MessageHandler(mine & ~filters.COMMAND, on_message))
    application.add_handler(CallbackQueryHandler(on_press, pattern=r"^o:"))
