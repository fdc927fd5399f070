"""Who belongs to a queue's group, asked of Telegram and remembered for a little while."""

from __future__ import annotations

import time

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

# Long enough to spare Telegram a call on every press, short enough that someone removed from
# the group loses access within minutes.
MEMBERSHIP_TTL = 120.0

_MEMBERS = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


class Membership:
    """The Roster of the queues' Telegram groups."""

    def __init__(self, bot: Bot, ttl: float = MEMBERSHIP_TTL) -> None:
        self._bot = bot
        self._ttl = ttl
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def belongs(self, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        known = self._known.get(key)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        allowed = await _is_member(self._bot, chat_id, user_id)
        self._known[key] = (allowed, time.monotonic() + self._ttl)
        return allowed


async def _is_member(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _MEMBERS
