"""Telegram handlers for volunteers in their private chat: talk to the resident, follow cases."""

from __future__ import annotations

from telegram import Bot, Message, Update, User
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.buttons import CloseCase
from bot.cases import casework, claims, news
from bot.cases.casework import OUTCOMES
from bot.channel import Copy
from bot.desk import Desk
from bot.i18n import N_, _
from bot.outgoing import Reply
from db.models import Case, Queue
from handlers.telegram.context import desk, membership
from handlers.telegram.group import post_pending_cards, retire_card
from handlers.telegram.membership import Membership
from handlers.telegram.render import markup, send

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def language_of(services: Desk, user: User) -> str:
    return services.settings.language_for(user.language_code)


async def still_volunteer(
    bot: Bot, services: Desk, members: Membership, case: Case, user_id: int
) -> bool:
    """Whoever holds a case must still belong to its queue: leaving the group ends access."""
    async with services.sessions() as session:
        queue = await session.get(Queue, case.queue) if case.queue else None
    if queue is None:
        return False
    configured = services.settings.queue(queue.name)
    return await members.allows(bot, configured, queue.chat_id, user_id)


async def held_case(
    bot: Bot, services: Desk, members: Membership, case_id: int | None, user_id: int
) -> Case | None:
    """The case, if this volunteer holds it and still belongs to its queue (deny by default).

    Read outside any transaction: checking the membership may ask Telegram.
    """
    async with services.sessions() as session:
        case = await casework.held_by(session, case_id, user_id)
    if case is None or not await still_volunteer(bot, services, members, case, user_id):
        return None
    return case


def case_argument(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The case a command names first ("/note SP-00042 …"), if it names one."""
    args = context.args or []
    return casework.parse_number(args[0]) if args else None


async def relay_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A volunteer answered a case's message: it goes to the resident of that case."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.reply_to_message is not None
    services = desk(context)
    async with services.sessions() as session:
        case_id = await casework.case_of_message(
            session, message.chat.id, message.reply_to_message.message_id
        )
    if case_id is None:
        return  # an ordinary reply: the resident handlers take it
    await _to_resident(context.bot, services, membership(context), message, user, case_id)
    raise ApplicationHandlerStop


async def reply_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reply N text: a message to the resident of case N."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case_id = case_argument(context)
    if case_id is None or len(context.args or []) < 2:
        with i18n.locale(language_of(services, user)):
            await message.reply_text(_("Usage: /reply NUMBER your message"))
        return
    text = (message.text or "").split(maxsplit=2)[2]
    await _to_resident(context.bot, services, membership(context), message, user, case_id, text)


async def _to_resident(
    bot: Bot,
    services: Desk,
    members: Membership,
    message: Message,
    user: User,
    case_id: int,
    text: str | None = None,
) -> None:
    held = await held_case(bot, services, members, case_id, user.id)
    with i18n.locale(language_of(services, user)):
        if held is None:
            await message.reply_text(_("You are not following this request."))
            return
        passed = text if text is not None else Copy(message.chat.id, message.message_id)
        answer = await news.to_resident(services, user.id, case_id, passed)
    await message.reply_text(answer.text)


async def relay_to_volunteer(
    bot: Bot, services: Desk, members: Membership, message: Message, case_id: int
) -> bool:
    """The resident wrote while a volunteer follows their case: pass it on, marked."""
    async with services.sessions() as session:
        case = await session.get(Case, case_id)
    if case is None or case.claimed_by is None:
        return False
    if not await still_volunteer(bot, services, members, case, case.claimed_by):
        await _give_back(bot, services, case_id)
        return False
    copy = Copy(message.chat.id, message.message_id)
    return await news.to_volunteer(services, case, case.claimed_by, copy)


async def _give_back(bot: Bot, services: Desk, case_id: int) -> None:
    """Its volunteer left the queue: the case goes back to it, for someone else to take."""
    async with services.sessions() as session, session.begin():
        case = await session.get(Case, case_id)
        if case is not None and case.status in claims.OPEN:
            await casework.release(session, case, None)
    await post_pending_cards(bot, services)


async def _held(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Case | None, str]:
    """The case named in the command, if the sender holds it; and the sender's language."""
    services, user = desk(context), update.effective_user
    assert user is not None
    members = membership(context)
    case = await held_case(context.bot, services, members, case_argument(context), user.id)
    return case, language_of(services, user)


async def note_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/note N text: an internal note on a case, never shown to the resident."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case, language = await _held(update, context)
    parts = (message.text or "").split(maxsplit=2)
    with i18n.locale(language):
        if case is None or len(parts) < 3:
            await message.reply_text(_("Usage: /note NUMBER text, for a request you follow."))
            return
        async with services.sessions() as session, session.begin():
            stored = await session.get(Case, case.id)
            assert stored is not None
            await casework.add_note(session, stored, user.id, parts[2])
        await message.reply_text(
            _("Note added to {number}.").format(number=i18n.isolate(case.number))
        )


async def waiting_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/waiting N: the case waits for the resident's answer."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case, language = await _held(update, context)
    with i18n.locale(language):
        if case is None:
            await message.reply_text(_("You are not following this request."))
            return
        async with services.sessions() as session, session.begin():
            stored = await session.get(Case, case.id)
            assert stored is not None
            await casework.wait_for_resident(session, stored, user.id)
        await message.reply_text(
            _("{number} now waits for the resident's answer.").format(
                number=i18n.isolate(case.number)
            )
        )


async def release_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/release N: give the case back to its queue, where its card returns with Claim."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case, language = await _held(update, context)
    if case is None:
        with i18n.locale(language):
            await message.reply_text(_("You are not following this request."))
        return
    old_card = case.card_message_id
    async with services.sessions() as session, session.begin():
        stored = await session.get(Case, case.id)
        queue = await session.get(Queue, stored.queue) if stored and stored.queue else None
        assert stored is not None
        await casework.release(session, stored, user.id)
    if queue is not None and old_card is not None:
        reason = N_("Released: posted again below.")
        await retire_card(context.bot, services, case, queue.chat_id, old_card, reason)
    with i18n.locale(language):
        await message.reply_text(
            _("{number} is back in its queue.").format(number=i18n.isolate(case.number))
        )
    await post_pending_cards(context.bot, services)


async def close_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close N: ask how the case ended, then close it."""
    message = update.effective_message
    assert message is not None
    case, language = await _held(update, context)
    with i18n.locale(language):
        if case is None:
            await message.reply_text(_("You are not following this request."))
            return
        question = casework.outcome_question(case)
    await message.reply_text(question.text, reply_markup=markup(question))


async def on_outcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The volunteer chose how the case ended: close it and tell the resident."""
    query, services = update.callback_query, desk(context)
    assert query is not None
    user = query.from_user
    pressed = CloseCase.parse(query.data or "")
    language = language_of(services, user)
    members = membership(context)
    held = await held_case(
        context.bot, services, members, pressed.case_id if pressed else None, user.id
    )
    async with services.sessions() as session, session.begin():
        case = await casework.held_by(session, held.id, user.id) if held else None
        if case is not None and pressed and pressed.outcome in OUTCOMES:
            await casework.close(session, case, user.id, pressed.outcome)
        else:
            case = None
    with i18n.locale(language):
        if case is None:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        await query.answer()
        outcome = OUTCOMES[case.outcome or ""]
        await query.edit_message_text(
            _("{number} is closed: {outcome}.").format(
                number=i18n.isolate(case.number), outcome=_(outcome)
            )
        )
    await news.tell_resident(services, case, casework.closed_notice)


async def mycases_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mycases: the open requests the volunteer follows."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    async with services.sessions() as session:
        held = await casework.cases_held(session, user.id)
    with i18n.locale(language_of(services, user)):
        reply = casework.list_held(held)
    await message.reply_text(reply.text)


async def case_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/case N: details and history, for its volunteer or an organiser."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case_id = case_argument(context)
    async with services.sessions() as session:
        case = await session.get(Case, case_id) if case_id else None
        allowed = case is not None and (
            case.claimed_by == user.id or user.id in services.settings.organisers
        )
        with i18n.locale(language_of(services, user)):
            if case is None or not allowed:
                await message.reply_text(_("You are not following this request."))
                return
            events = await casework.history(session, case)
            names = await casework.volunteer_names(session, events)
            details = await claims.details(session, case)
            lines = casework.history_lines(events, names, services.settings.timezone)
            text = "\n".join([details.text, "", _("History:"), *lines])
    await send(context.bot, message.chat.id, Reply(text))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the volunteer handlers; replies to case messages are looked at before anything else."""
    application.add_handler(
        MessageHandler(PRIVATE & filters.REPLY & ~filters.COMMAND, relay_reply), group=-1
    )
    for name, callback in (
        ("reply", reply_command),
        ("note", note_command),
        ("waiting", waiting_command),
        ("release", release_command),
        ("close", close_command),
        ("mycases", mycases_command),
        ("case", case_command),
    ):
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(on_outcome, pattern=f"^{CloseCase.prefix}:"))
