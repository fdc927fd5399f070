"""A bare python-telegram-bot echo bot: the baseline bench.intake measures Sportello against."""

from __future__ import annotations

import logging
import os
import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

# One button under every echo, so that the benchmark has something to press.
AGAIN = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back: one sendMessage per text, like a question answered by Sportello."""
    assert update.message is not None and update.message.text is not None
    await context.bot.send_message(update.message.chat_id, update.message.text, reply_markup=AGAIN)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press, then send a message: as Sportello does for a press (less its edit)."""
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await context.bot.send_message(
        query.message.chat.id, f"pressed {query.data}", reply_markup=AGAIN
    )


def build(token: str, api_url: str) -> Application:  # type: ignore[type-arg]
    """No rate limiter and PTB's defaults otherwise (updates handled one at a time)."""
    application = Application.builder().token(token).base_url(api_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


def main() -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        print("echo_bot: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    api_url = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org/bot")
    build(token, api_url).run_polling(allowed_updates=["message", "callback_query"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
