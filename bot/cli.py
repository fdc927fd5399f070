"""The `helpdesk` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from bot import config
from bot.config import ConfigError, Settings
from db import migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="helpdesk", description="Sportello, the help desk bot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the Telegram bot with long polling")
    database = commands.add_parser("db", help="manage the database")
    database.add_argument("action", choices=["upgrade"], help="apply pending migrations")
    arguments = parser.parse_args(argv)
    _configure_logging()
    try:
        settings = config.load()
        if arguments.command == "db":
            asyncio.run(migrate.upgrade(settings.database_url))
            print("database is up to date")
            return 0
        return run(settings)
    except ConfigError as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        return 2
    except migrate.MigrationError as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        return 2


def run(settings: Settings) -> int:
    """Long polling until interrupted; the SQLite database is brought up to date first."""
    from bot.app import build_application  # the Telegram stack, only for the commands using it

    settings.require_token()
    if settings.database_url.startswith("sqlite"):
        asyncio.run(migrate.upgrade(settings.database_url))
    else:
        asyncio.run(migrate.ensure_current(settings.database_url))
    asyncio.run(_check_bot_api(settings))
    application = build_application(settings)
    _tune_garbage_collector()
    application.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
    return 0


async def _check_bot_api(settings: Settings) -> None:
    """Ask Telegram who the bot is, so a wrong token or address is one clear line at start."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from handlers.telegram_http import AiohttpRequest

    token = settings.require_token()
    bot = Bot(token, base_url=settings.api_url, request=AiohttpRequest())
    try:
        async with bot:
            pass
    except InvalidToken:
        raise ConfigError("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather") from None
    except NetworkError as error:
        reason = str(error).replace(token, "<token>")
        raise ConfigError(f"cannot reach the Bot API at {settings.api_url}: {reason}") from None


def _tune_garbage_collector() -> None:
    """Fewer, cheaper collections: every update allocates thousands of short-lived objects.

    What exists at start lives for the whole run, so it is moved out of the collector's sight;
    with the default thresholds, full collections over it showed as 100 ms stalls in the reply
    latency measured by bench/intake.py.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx (used by PTB for file downloads) logs request URLs, which contain the bot's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
