"""Telegram as a Channel: the services' messages sent with a PTB Bot, and how it went."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.channel import Copy, Delivery, Media, MediaKind, Outcome
from bot.outgoing import Reply, Template
from handlers.telegram.render import send

log = logging.getLogger(__name__)

# Telegram lets a bot send about 30 messages a second in all. Bulk sending keeps a little under
# it: at 28.8 a second, 30 messages take 1.007 s, so a few milliseconds of jitter on the way
# never make 31 in one second (measured with bench/reminders.py, 29 did now and then).
PER_SECOND = 28.8


class TelegramChannel:
    """Delivers to Telegram users (residents, volunteers, organisers) and to groups."""

    window: timedelta | None = None  # a bot may write to anyone who has not blocked it
    # Telegram's own per-chat limit (about one a second) is kept by waiting out its 429s.
    per_person: tuple[int, float] | None = None

    def __init__(self, bot: Bot, per_second: float = PER_SECOND) -> None:
        self.bot = bot
        self.per_second = per_second

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        return await self._attempt(lambda: send(self.bot, int(user_id), reply))

    async def deliver_template(self, user_id: str, template: Template) -> Delivery:
        """Never needed: Telegram has no window that closes."""
        return Delivery(Outcome.FAILED)

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        async def both() -> list[int]:
            sent = await self.bot.send_message(int(user_id), header)
            if copy.on_telegram:
                copied = await self.bot.copy_message(int(user_id), copy.chat_id, copy.message_id)
                return [sent.message_id, copied.message_id]
            if copy.media is not None:  # a file from another platform, uploaded here
                carried = await _send_media(self.bot, int(user_id), copy.media, copy.text)
                return [sent.message_id, carried.message_id]
            # From another platform: its words.
            words = await self.bot.send_message(int(user_id), copy.text or "…")
            return [sent.message_id, words.message_id]

        return await self._attempt(both)

    async def _attempt(self, sending: Callable[[], Awaitable[list[int]]]) -> Delivery:
        try:
            return Delivery(Outcome.DELIVERED, tuple(await sending()))
        except RetryAfter as error:
            return Delivery(Outcome.RATE_LIMITED, retry_after=_seconds(error.retry_after))
        except Forbidden:
            return Delivery(Outcome.BLOCKED)
        except (BadRequest, ChatMigrated) as error:
            log.warning("Telegram refused a message: %s", type(error).__name__)
            return Delivery(Outcome.FAILED)
        except TelegramError as error:  # the network, or Telegram itself: later may work
            log.warning("Telegram could not be reached: %s", type(error).__name__)
            return Delivery(Outcome.UNAVAILABLE)


async def _send_media(bot: Bot, chat_id: int, media: Media, caption: str | None) -> Message:
    """Send a file as its kind: a voice note (OGG/Opus) plays as one."""
    upload = InputFile(media.content, filename=media.filename or media.kind.value)
    if media.kind is MediaKind.PHOTO:
        return await bot.send_photo(chat_id, upload, caption=caption)
    if media.kind is MediaKind.VOICE:
        return await bot.send_voice(chat_id, upload, caption=caption)
    if media.kind is MediaKind.AUDIO:
        return await bot.send_audio(chat_id, upload, caption=caption)
    if media.kind is MediaKind.VIDEO:
        return await bot.send_video(chat_id, upload, caption=caption)
    return await bot.send_document(chat_id, upload, caption=caption)


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
