"""Sending the services' replies over Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.error import BadRequest

from bot.outgoing import Reply, Response, split_text

MAX_TEXT = 4096  # Telegram's limit for one message


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def send(bot: Bot, chat_id: int, reply: Reply) -> list[int]:
    """Send a reply (in pieces if it is long); the ids of the messages it took."""
    pieces = split_text(reply.text, MAX_TEXT)
    sent = [(await bot.send_message(chat_id, piece)).message_id for piece in pieces[:-1]]
    # The buttons go with the last piece, right under the question they answer.
    last = await bot.send_message(chat_id, pieces[-1], reply_markup=markup(reply))
    sent.append(last.message_id)
    if reply.attachment:
        document = InputFile(reply.attachment.content, filename=reply.attachment.filename)
        if reply.attachment.picture:
            sent.append((await bot.send_photo(chat_id, document)).message_id)
        else:
            sent.append((await bot.send_document(chat_id, document)).message_id)
    return sent


async def send_all(bot: Bot, chat_id: int, response: Response) -> None:
    for reply in response.replies:
        await send(bot, chat_id, reply)


async def settle_press(
    query: CallbackQuery, response: Response, replies: Coroutine[Any, Any, None]
) -> None:
    """Update the pressed message and send the replies side by side, then answer the press."""
    try:
        await asyncio.gather(_update_pressed(query, response), replies)
    finally:
        # Answered last, so that whoever sees the answer sees everything else done.
        await query.answer(response.notice)


async def _update_pressed(query: CallbackQuery, response: Response) -> None:
    message = query.message
    if not isinstance(message, Message):  # too old for Telegram to show it to the bot
        return
    try:
        if response.edit is not None:
            await query.edit_message_text(response.edit.text, reply_markup=markup(response.edit))
        elif response.close_buttons and response.chosen and message.text:
            # Keep the question readable in the chat, with the answer given under it.
            text = f"{message.text}\n\n→ {response.chosen}"
            await query.edit_message_text(text[:MAX_TEXT], reply_markup=None)
        elif response.close_buttons:
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        # Already edited (the same press delivered twice) or too old to edit: nothing to fix.
        return
