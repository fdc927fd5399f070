"""Telegram handlers for the queues' groups: making a queue, the bot's place in the group,
posting and retiring cards, claiming."""

from __future__ import annotations

import contextlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.buttons import ClaimCase
from bot.cases import claims, groups, news
from bot.channel import Outcome
from bot.desk import Desk
from bot.i18n import _
from bot.outgoing import RetiredCard
from db.models import Case
from handlers.telegram.context import Context, desk, once
from handlers.telegram.render import markup

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
CARDS_LOOK_EVERY_SECONDS = 2  # one query when there is nothing to post


async def set_queue(update: Update, context: Context) -> None:
    """/setqueue NAME: an organiser makes this group a queue."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    services = desk(context)
    as_person = user.id if user is not None and message.sender_chat is None else None
    name = (context.args or [""])[0].lower()
    await message.reply_text(await groups.make_queue(services, as_person, message.chat.id, name))
    await post_pending_cards(context.bot, services)


async def follow_migration(update: Update, context: Context) -> None:
    """Keep the queue when its group becomes a supergroup with a new id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await groups.follow_migration(desk(context), message.chat.id, message.migrate_to_chat_id)


async def membership_changed(update: Update, context: Context) -> None:
    """The bot was added to or removed from a group: pause or resume its queue."""
    change = update.my_chat_member
    if change is None:
        return
    services = desk(context)
    if change.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await groups.queue_lost(services, change.chat.id)
        return
    await groups.queue_back(services, change.chat.id)
    await post_pending_cards(context.bot, services)


async def retire_card(bot: Bot, services: Desk, retired: RetiredCard) -> None:
    """An old card loses its button and says why (`reason`, a message id, is translated here);
    the new card, lower in the group, is the one to press."""
    case = await groups.case_by_id(services, retired.case_id)
    if case is None:
        return
    with i18n.locale(services.settings.default_language):
        text = claims.card(case, services.clock()).text + "\n\n" + _(retired.reason)
    with contextlib.suppress(BadRequest, Forbidden):  # too old to edit: the new card says it
        await bot.edit_message_text(text, chat_id=retired.chat_id, message_id=retired.message_id)


async def post_pending_cards(bot: Bot, services: Desk) -> None:
    """Post the card of every new case that is not in its group yet; safe to call any time.

    Only the worker that leads posts cards, one card at a time, so that none is posted twice;
    in another worker this does nothing, and the leader posts it at its next look."""
    if not services.leads():
        return
    async with services.posting:
        for case_id, chat_id in await groups.cards_to_post(services):
            await _post_card(bot, services, case_id, chat_id)


def schedule_cards(scheduler: AsyncIOScheduler, bot: Bot, services: Desk) -> None:
    """Look for cards to post every few seconds: requests other workers took (or that a
    group's coming back made postable) reach their group within this long."""
    scheduler.add_job(
        post_pending_cards,
        "interval",
        seconds=CARDS_LOOK_EVERY_SECONDS,
        args=(bot, services),
        max_instances=1,
        coalesce=True,
    )


async def _post_card(bot: Bot, services: Desk, case_id: int, chat_id: int) -> None:
    case = await groups.case_by_id(services, case_id)
    if case is None:
        return
    with i18n.locale(services.settings.default_language):
        reply = claims.card(case, services.clock())
    try:
        message = await bot.send_message(chat_id, reply.text, reply_markup=markup(reply))
    except ChatMigrated as moved:
        # The group became a supergroup while nobody wrote in it: follow it and post there.
        await groups.follow_migration(services, chat_id, moved.new_chat_id)
        message = await bot.send_message(moved.new_chat_id, reply.text, reply_markup=markup(reply))
    except (Forbidden, BadRequest):
        await groups.queue_lost(services, chat_id)
        return
    await groups.card_posted(services, case_id, message.message_id)


async def on_claim(update: Update, context: Context) -> None:
    """A volunteer pressed Claim on a card: the first press wins, the others are told."""
    query = update.callback_query
    assert query is not None and query.message is not None
    services, user = desk(context), query.from_user
    language = services.settings.language_for(user.language_code)
    person = groups.Acting(user.id, user.first_name, language)
    with i18n.locale(language):
        claimed = await groups.claim(
            services, person, query.message.chat.id, ClaimCase.parse(query.data or "")
        )
    if claimed.case is None:
        await query.answer(claimed.notice, show_alert=claimed.alert)
        return
    try:
        await query.edit_message_text(groups.taken_card(services, claimed), reply_markup=None)
    except BadRequest:
        log.info("case %s: the card could not be updated", claimed.case.id)
    await query.answer(claimed.notice)
    details = await groups.after_claim(services, claimed.case, user.id)
    if details.outcome is Outcome.BLOCKED:  # she never opened a private chat with the bot
        await _offer_private_chat(context.bot, services, claimed.case, query.message.chat.id)


async def _offer_private_chat(bot: Bot, services: Desk, case: Case, group_id: int) -> None:
    me = await bot.get_me()
    link = f"https://t.me/{me.username}?start=case_{case.id}"
    with i18n.locale(services.settings.default_language):
        text = _("To read the details of {number}, open your private chat with the bot.").format(
            number=i18n.isolate(case.number)
        )
        button = InlineKeyboardButton(_("Open the details"), url=link)
    await bot.send_message(group_id, text, reply_markup=InlineKeyboardMarkup([[button]]))


async def open_details(update: Update, context: Context) -> None:
    """/start case_N from the link in the group: the claimer reads the case's details."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = desk(context)
    # The command's filter lets only "case_" and at most nine digits through.
    case_id = int((context.args or ["case_0"])[0].removeprefix("case_"))
    case = await groups.case_by_id(services, case_id)
    if case is None or case.claimed_by != user.id:
        with i18n.locale(services.settings.language_for(user.language_code)):
            await message.reply_text(_("This link is for the volunteer who took the request."))
        return
    await news.give_details(services, case, user.id)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the group handlers, and the private link that volunteers open from a group."""
    application.add_handler(
        CommandHandler(
            "start",
            once(open_details),
            filters=filters.ChatType.PRIVATE & filters.Regex(r"^/start case_\d{1,9}$"),
        )
    )
    application.add_handler(CommandHandler("setqueue", once(set_queue), filters=GROUPS))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, once(follow_migration)))
    member = ChatMemberHandler(once(membership_changed), ChatMemberHandler.MY_CHAT_MEMBER)
    application.add_handler(member)
    application.add_handler(CallbackQueryHandler(once(on_claim), pattern=f"^{ClaimCase.prefix}:"))
