"""Telegram handlers for the queues' groups: making a queue, posting cards, claiming."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.buttons import ClaimCase
from bot.cases import claims, news, queues
from bot.cases.claims import Claim
from bot.channel import Outcome
from bot.desk import Desk
from bot.i18n import _
from db.models import Case, CaseEvent, Queue, now
from handlers.telegram.context import desk, membership
from handlers.telegram.render import markup

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
QUEUE_NAME = re.compile(r"[a-z0-9_-]{1,32}")


async def set_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/setqueue NAME: an organiser makes this group a queue."""
    message, user = update.effective_message, update.effective_user
    services = desk(context)
    assert message is not None
    with i18n.locale(services.settings.default_language):
        # Someone posting as the group itself (an anonymous admin) cannot be checked.
        if message.sender_chat is not None or user is None:
            await message.reply_text(_("Please send this command as yourself, not as the group."))
            return
        if user.id not in services.settings.organisers:
            await message.reply_text(_("Only an organiser can make this group a queue."))
            return
        name = (context.args or [""])[0].lower()
        if not QUEUE_NAME.fullmatch(name):
            await message.reply_text(_("Usage: /setqueue NAME, e.g. /setqueue housing"))
            return
        async with services.sessions() as session, session.begin():
            await queues.set_queue(session, name, message.chat.id)
        await message.reply_text(
            _("This group is now the queue “{name}”. New requests will appear here.").format(
                name=i18n.isolate(name)
            )
        )
    await post_pending_cards(context.bot, services)


async def follow_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the queue when its group becomes a supergroup with a new id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    services = desk(context)
    async with services.sessions() as session, session.begin():
        await queues.follow_migration(session, message.chat.id, message.migrate_to_chat_id)


async def membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a group: pause or resume its queue."""
    change = update.my_chat_member
    if change is None:
        return
    services = desk(context)
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await _queue_lost(context.bot, services, change.chat.id)
        return
    async with services.sessions() as session, session.begin():
        queue = await queues.queue_of_chat(session, change.chat.id)
        if queue is not None:
            queue.reachable, queue.updated_at = True, now()
    await post_pending_cards(context.bot, services)


async def _queue_lost(bot: Bot, services: Desk, chat_id: int) -> None:
    async with services.sessions() as session, session.begin():
        queue = await queues.mark_unreachable(session, chat_id)
    if queue is None:
        return
    log.warning("queue %s: the bot can no longer post in its group", queue.name)
    with i18n.locale(services.settings.default_language):
        text = _(
            "The bot can no longer post in the group of the queue “{name}”. Its requests are "
            "waiting: add the bot to the group again, or send /setqueue {name} in another group."
        ).format(name=i18n.isolate(queue.name))
    await news.tell_organisers(services, text)


async def retire_card(
    bot: Bot, services: Desk, case: Case, chat_id: int, message_id: int, reason: str
) -> None:
    """An old card loses its button and says why (`reason`, a message id, is translated here);
    the new card, lower in the group, is the one to press."""
    with i18n.locale(services.settings.default_language):
        text = claims.card(case, now()).text + "\n\n" + _(reason)
    with contextlib.suppress(BadRequest, Forbidden):  # too old to edit: the new card says it
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)


async def post_pending_cards(bot: Bot, services: Desk) -> None:
    """Post the card of every new case that is not in its group yet; safe to call any time."""
    async with services.posting:
        async with services.sessions() as session, session.begin():
            ready = [
                (case.id, queue.chat_id)
                for case, queue in await queues.cases_to_post(session, services.settings)
                if case.id is not None
            ]
        for case_id, chat_id in ready:
            await _post_card(bot, services, case_id, chat_id)


async def _post_card(bot: Bot, services: Desk, case_id: int, chat_id: int) -> None:
    async with services.sessions() as session:
        case = await session.get(Case, case_id)
    if case is None:
        return
    with i18n.locale(services.settings.default_language):
        reply = claims.card(case, now())
    try:
        message = await bot.send_message(chat_id, reply.text, reply_markup=markup(reply))
    except ChatMigrated as moved:
        # The group became a supergroup while nobody wrote in it: follow it and post there.
        async with services.sessions() as session, session.begin():
            await queues.follow_migration(session, chat_id, moved.new_chat_id)
        message = await bot.send_message(moved.new_chat_id, reply.text, reply_markup=markup(reply))
    except (Forbidden, BadRequest):
        await _queue_lost(bot, services, chat_id)
        return
    async with services.sessions() as session, session.begin():
        stored = await session.get(Case, case_id)
        if stored is not None:
            stored.card_message_id, stored.card_posted_at = message.message_id, now()
            session.add(CaseEvent(case_id=case_id, action="posted"))


async def on_claim(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A volunteer pressed Claim on a card: the first press wins, the others are told."""
    query = update.callback_query
    assert query is not None and query.message is not None
    services, user = desk(context), query.from_user
    language = services.settings.language_for(user.language_code)
    with i18n.locale(language):
        pressed = ClaimCase.parse(query.data or "")
        async with services.sessions() as session:
            queue = await queues.queue_of_chat(session, query.message.chat.id)
            case = await session.get(Case, pressed.case_id) if pressed else None
        if queue is None or case is None or case.queue != queue.name:
            await query.answer(_("This button is no longer active."), show_alert=True)
            return
        configured = services.settings.queue(queue.name)
        allowed = await membership(context).allows(context.bot, configured, queue.chat_id, user.id)
        if not allowed:
            await query.answer(_("Only the volunteers of this queue can take requests."), True)
            return
        async with services.sessions() as session, session.begin():
            volunteer = await claims.remember_volunteer(session, user.id, user.first_name, language)
            result = await claims.claim_case(
                session, case.id or 0, volunteer, services.settings.max_open_cases
            )
        await _after_claim(update, context, queue, result)


async def _after_claim(
    update: Update, context: ContextTypes.DEFAULT_TYPE, queue: Queue, result: claims.ClaimResult
) -> None:
    query = update.callback_query
    assert query is not None
    services = desk(context)
    if result.claim is Claim.FULL:
        limit = services.settings.max_open_cases
        await query.answer(
            i18n.ngettext(
                "You already follow {count} open request: close one before taking another.",
                "You already follow {count} open requests: close one before taking another.",
                limit,
            ).format(count=limit),
            show_alert=True,
        )
        return
    if result.claim is Claim.TAKEN and result.holder is not None:
        await query.answer(
            _("Already taken by {name}.").format(name=i18n.isolate(result.holder)), True
        )
        return
    if result.claim is not Claim.WON or result.case is None:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    case = result.case
    with i18n.locale(services.settings.default_language):
        taken = claims.card(case, now(), holder=result.holder)
    try:
        await query.edit_message_text(taken.text, reply_markup=None)
    except BadRequest:
        log.info("case %s: the card could not be updated", case.id)
    await query.answer(_("It is yours. The details are in your private chat with the bot."))
    await send_details(context.bot, services, case, query.from_user.id, queue.chat_id)
    await news.tell_resident(services, case, claims.resident_notice)


async def send_details(
    bot: Bot, services: Desk, case: Case, volunteer_id: int, group_id: int | None
) -> bool:
    """The case's details to its claimer privately; or a link to open that chat first."""
    delivery = await news.give_details(services, case, volunteer_id)
    if delivery.outcome is Outcome.BLOCKED and group_id is not None:
        await _offer_private_chat(bot, services, case, group_id)
    return delivery.delivered


async def _offer_private_chat(bot: Bot, services: Desk, case: Case, group_id: int) -> None:
    me = await bot.get_me()
    link = f"https://t.me/{me.username}?start=case_{case.id}"
    with i18n.locale(services.settings.default_language):
        text = _("To read the details of {number}, open your private chat with the bot.").format(
            number=i18n.isolate(case.number)
        )
        button = InlineKeyboardButton(_("Open the details"), url=link)
    await bot.send_message(group_id, text, reply_markup=InlineKeyboardMarkup([[button]]))


async def open_details(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start case_N from the link in the group: the claimer reads the case's details."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    case_id = int((context.args or ["case_0"])[0].removeprefix("case_"))
    async with services.sessions() as session:
        case = await session.get(Case, case_id)
    if case is None or case.claimed_by != user.id:
        with i18n.locale(services.settings.language_for(user.language_code)):
            await message.reply_text(_("This link is for the volunteer who took the request."))
        return
    await send_details(context.bot, services, case, user.id, None)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the group handlers, and the private link that volunteers open from a group."""
    application.add_handler(
        CommandHandler(
            "start",
            open_details,
            filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start case_\d{1,9}$"),
        )
    )
    application.add_handler(CommandHandler("setqueue", set_queue, filters=GROUPS))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration))
    application.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CallbackQueryHandler(on_claim, pattern=f"^{ClaimCase.prefix}:"))
