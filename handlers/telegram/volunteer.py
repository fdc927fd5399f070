"""Telegram handlers for volunteers in their private chat: talk to the resident, follow cases.

Each one reads the command, picks the volunteer's language for the whole update, calls a
service of bot/cases/volunteering.py and sends what it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Bot, Message, Update, User
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.buttons import CloseCase
from bot.cases import casework, volunteering
from bot.channel import Copy
from bot.desk import Desk
from bot.outgoing import Response
from handlers.telegram import files
from handlers.telegram.context import Callback, Context, apply_once, desk, once
from handlers.telegram.group import post_pending_cards, retire_card
from handlers.telegram.render import send_all, settle_press

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

Service = Callable[[Desk, int, int | None], Awaitable[Response]]


def language_of(services: Desk, user: User) -> str:
    return services.settings.language_for(user.language_code)


def case_argument(context: Context) -> int | None:
    """The case a command names first ("/note SP-00042 …"), if it names one."""
    args = context.args or []
    return casework.parse_number(args[0]) if args else None


def rest_of(message: Message) -> str | None:
    """What follows the command and the case's number ("/note 42 this"), if anything."""
    parts = (message.text or "").split(maxsplit=2)
    return parts[2] if len(parts) == 3 else None


async def answer(bot: Bot, services: Desk, chat_id: int, response: Response) -> None:
    """Send a service's answer, then do to the queues' groups what it says."""
    await send_all(bot, chat_id, response)
    await after(bot, services, response)


async def after(bot: Bot, services: Desk, response: Response) -> None:
    if response.retired_card is not None:
        await retire_card(bot, services, response.retired_card)
    if response.cards_waiting:
        await post_pending_cards(bot, services)


async def relay_reply(update: Update, context: Context) -> None:
    """A volunteer answered a case's message: it goes to the resident of that case."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.reply_to_message is not None
    services = desk(context)
    case_id = await volunteering.case_of_reply(
        services, message.chat.id, message.reply_to_message.message_id
    )
    if case_id is None:
        return  # an ordinary reply: the resident handlers take it
    await apply_once(update, context, _pass_on(context, message, user, case_id))
    raise ApplicationHandlerStop


async def _pass_on(context: Context, message: Message, user: User, case_id: int) -> None:
    services = desk(context)
    words = message.text or message.caption
    copy = Copy(message.chat.id, message.message_id, words, fetch=files.fetcher(message))
    with i18n.locale(language_of(services, user)):
        response = await volunteering.write_to_resident(services, user.id, case_id, copy)
    await answer(context.bot, services, message.chat.id, response)


async def reply_command(update: Update, context: Context) -> None:
    """/reply N text: a message to the resident of case N."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case_id, text = case_argument(context), rest_of(message)
    with i18n.locale(language_of(services, user)):
        if case_id is None or text is None:
            response = volunteering.usage_of_reply()
        else:
            response = await volunteering.write_to_resident(services, user.id, case_id, text)
    await answer(context.bot, services, message.chat.id, response)


async def note_command(update: Update, context: Context) -> None:
    """/note N text: an internal note on a case, never shown to the resident."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    with i18n.locale(language_of(services, user)):
        response = await volunteering.add_note(
            services, user.id, case_argument(context), rest_of(message)
        )
    await answer(context.bot, services, message.chat.id, response)


def on_case(service: Service) -> Callback:
    """A command that names a case and nothing else (/waiting N, /release N, /close N, /case N)."""

    async def callback(update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        assert message is not None and user is not None
        services = desk(context)
        with i18n.locale(language_of(services, user)):
            response = await service(services, user.id, case_argument(context))
        await answer(context.bot, services, message.chat.id, response)

    callback.__doc__ = service.__doc__
    return callback


async def mycases_command(update: Update, context: Context) -> None:
    """/mycases: the open requests the volunteer follows."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    with i18n.locale(language_of(services, user)):
        response = await volunteering.my_cases(services, user.id)
    await answer(context.bot, services, message.chat.id, response)


async def on_outcome(update: Update, context: Context) -> None:
    """The volunteer chose how the case ended: close it and tell the resident."""
    query, services = update.callback_query, desk(context)
    assert query is not None
    user = query.from_user
    with i18n.locale(language_of(services, user)):
        response = await volunteering.close(services, user.id, CloseCase.parse(query.data or ""))
    if response.edit is None:
        await query.answer(response.notice, show_alert=True)
        return
    await settle_press(query, response, send_all(context.bot, user.id, response))


async def relay_to_volunteer(bot: Bot, services: Desk, message: Message, case_id: int) -> bool:
    """The resident wrote while a volunteer follows their case: pass it on, marked."""
    relayed = await volunteering.resident_wrote(
        services, case_id, Copy(message.chat.id, message.message_id, message.text)
    )
    if relayed.given_back is not None:
        await after(bot, services, relayed.given_back)
    return relayed.delivered


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the volunteer handlers; replies to case messages are looked at before anything else."""
    application.add_handler(
        MessageHandler(PRIVATE & filters.REPLY & ~filters.COMMAND, relay_reply), group=-1
    )
    commands: dict[str, Callback] = {
        "reply": reply_command,
        "note": note_command,
        "waiting": on_case(volunteering.wait_for_resident),
        "release": on_case(volunteering.release),
        "close": on_case(volunteering.ask_outcome),
        "mycases": mycases_command,
        "case": on_case(volunteering.case_history),
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, once(callback), filters=PRIVATE))
    outcome = CallbackQueryHandler(once(on_outcome), pattern=f"^{CloseCase.prefix}:")
    application.add_handler(outcome)
