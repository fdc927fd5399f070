"""The `helpdesk` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path

from bot import config, i18n
from bot.activities import schedule as activities
from bot.activities.schedule import ActivityError
from bot.broadcasts import notice as broadcasts
from bot.broadcasts.notice import NoticeError
from bot.config import ConfigError, Settings
from bot.demo import seed
from bot.reports import exports, stats
from db import migrate
from db.models import Activity
from db.session import create_engine, session_factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="helpdesk", description="Sportello, the help desk bot")
    commands = parser.add_subparsers(dest="command", required=True)
    trying = commands.add_parser(
        "demo", help="try the whole help desk in a browser, with no accounts and no network"
    )
    trying.add_argument("--host", default="127.0.0.1", help="address to listen on")
    trying.add_argument("--port", type=int, default=8080, help="port to listen on")
    trying.add_argument(
        "--db", type=Path, help="keep the demo's SQLite database in this file (default: a new one)"
    )
    commands.add_parser("run", help="run the Telegram bot with long polling")
    serving = commands.add_parser("serve", help="serve the webhooks, /healthz and /metrics")
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serving.add_argument("--port", type=int, default=8080, help="port to listen on")
    database = commands.add_parser("db", help="manage the database")
    database.add_argument("action", choices=["upgrade"], help="apply pending migrations")
    activities = commands.add_parser("activities", help="the space's activities")
    activity_commands = activities.add_subparsers(dest="action", required=True)
    importing = activity_commands.add_parser(
        "import", help="add activities from a TOML or CSV file"
    )
    importing.add_argument("file", type=Path)
    activity_commands.add_parser("list", help="list the activities and when they next take place")
    counting = commands.add_parser("stats", help="the help desk's figures, and a chart as PNG")
    counting.add_argument("--since", type=_date, help="from this day on (YYYY-MM-DD)")
    counting.add_argument("--png", type=Path, required=True, help="where to write the chart")
    broadcasting = commands.add_parser(
        "broadcast", help="queue a notice to residents, described in a TOML file"
    )
    broadcasting.add_argument("file", type=Path)
    broadcasting.add_argument("--yes", action="store_true", help="queue it without asking")
    exporting = commands.add_parser("export", help="export requests or activities as CSV")
    exporting.add_argument("what", choices=["cases", "activities"])
    exporting.add_argument("--csv", type=Path, required=True, help="the file to write")
    exporting.add_argument("--since", type=_date, help="from this day on (YYYY-MM-DD)")
    exporting.add_argument(
        "--with-names",
        action="store_true",
        help="activities: one row per person and date, with the names they signed up with",
    )
    arguments = parser.parse_args(argv)
    _configure_logging()
    try:
        settings = config.load()
        if arguments.command == "db":
            asyncio.run(migrate.upgrade(settings.database_url))
            print("database is up to date")
            return 0
        if arguments.command == "activities":
            return asyncio.run(activity_command(settings, arguments))
        if arguments.command == "stats":
            return asyncio.run(stats_command(settings, arguments))
        if arguments.command == "broadcast":
            return asyncio.run(broadcast_command(settings, arguments))
        if arguments.command == "export":
            return asyncio.run(export_command(settings, arguments))
        if arguments.command == "serve":
            return serve(settings, arguments.host, arguments.port)
        if arguments.command == "demo":
            return demo(settings, arguments.host, arguments.port, arguments.db)
        return run(settings)
    except ConfigError as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        return 2
    except (migrate.MigrationError, ActivityError, NoticeError) as error:
        print(f"helpdesk: {error}", file=sys.stderr)
        return 2


async def activity_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """`helpdesk activities import FILE` and `helpdesk activities list`."""
    await _up_to_date(settings)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            if arguments.action == "import":
                raws = activities.read_file(arguments.file)
                result = await activities.import_activities(session, raws)
                for activity in result.created:
                    print(f"created: {_describe(activity, settings)}")
                print(f"{len(result.created)} created, {len(result.unchanged)} already there")
            else:
                for activity in await activities.all_activities(session):
                    print(_describe(activity, settings))
    finally:
        await engine.dispose()
    return 0


async def stats_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """`helpdesk stats [--since DATE] --png FILE`: the summary printed, the chart written, in
    the default language."""
    await _up_to_date(settings)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            found = await stats.figures(
                session, settings.timezone, datetime.now(UTC), arguments.since
            )
    finally:
        await engine.dispose()
    with i18n.locale(settings.default_language):
        arguments.png.write_bytes(stats.chart(found))
        print(stats.summary(found))
    print(f"chart: {arguments.png}")
    return 0


async def broadcast_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """`helpdesk broadcast FILE [--yes]`: the audience and what each language group reads, a
    question (unless --yes), then the broadcast queued for the running bot to send."""
    notice = broadcasts.read_file(arguments.file, settings.languages, settings.default_language)
    await _up_to_date(settings)
    default = settings.default_language
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            seen = await broadcasts.preview(session, notice.segment, default)
            channels = ", ".join(f"{name} {count}" for name, count in seen.by_channel.items())
            print(f"reaches {seen.total} residents ({channels or 'nobody'})")
            for language, count in seen.by_language.items():
                print(f"\n--- {count} reading {language}:\n{notice.text_for(language)}")
            if seen.total == 0:
                print("nobody is in this segment: nothing was queued")
                return 1
            question = f"\nqueue it for {seen.total}? [y/N] "
            if not arguments.yes and await asyncio.to_thread(input, question) != "y":
                print("nothing was queued")
                return 1
        async with session_factory(engine)() as session, session.begin():
            sent = await broadcasts.queue(session, notice, default, datetime.now(UTC))
    finally:
        await engine.dispose()
    print(
        f"broadcast #{sent.id}: {sent.recipients} messages queued; the running bot "
        "(helpdesk run or serve) sends them"
    )
    return 0


async def _up_to_date(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        await migrate.upgrade(settings.database_url)
    else:
        await migrate.ensure_current(settings.database_url)


async def export_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """`helpdesk export cases|activities --csv FILE [--since DATE] [--with-names]`."""
    await _up_to_date(settings)
    zone = settings.timezone
    since = datetime.combine(arguments.since, time(), zone) if arguments.since else None
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            if arguments.what == "cases":
                table = await exports.cases_csv(session, zone, since)
            else:
                moment = datetime.now(UTC)
                table = await exports.activities_csv(
                    session, zone, moment, since, with_names=arguments.with_names
                )
    finally:
        await engine.dispose()
    arguments.csv.write_text(table, encoding="utf-8")
    print(f"{arguments.csv}: {table.count(chr(10)) - 1} rows")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _describe(activity: Activity, settings: Settings) -> str:
    upcoming = activities.next_occurrence(activity, settings.timezone, datetime.now(UTC))
    when = upcoming.strftime("%a %Y-%m-%d %H:%M") if upcoming else "no date ahead"
    extra = [f"repeat {activity.repeat}", f"{activity.duration_minutes} min"]
    if activity.capacity:
        extra.append(f"{activity.capacity} places")
    if activity.age_min is not None:
        extra.append(f"ages {activity.age_min}-{activity.age_max}")
    return (
        f"#{activity.id} {activity.kind}: {activity.title} · next {when} · "
        f"{activity.place or 'no place given'} · {', '.join(extra)}"
    )


def run(settings: Settings) -> int:
    """Long polling until interrupted; the SQLite database is brought up to date first."""
    from bot.app import build_application  # the Telegram stack, only for the commands using it
    from handlers.telegram.context import ALLOWED_UPDATES

    settings.require_token()
    _prepare(settings)
    if settings.whatsapp is not None:
        print(
            "helpdesk run: WhatsApp's messages arrive by webhook only: run helpdesk serve to "
            "receive them (what is already queued for WhatsApp residents is still sent)",
            file=sys.stderr,
        )
    application = build_application(settings)
    _tune_garbage_collector()
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


WHATSAPP_ONLY = (
    "helpdesk serve: TELEGRAM_BOT_TOKEN is not set, so only WhatsApp runs. Residents can write, "
    "ask for help, sign up and get their reminders there, but volunteers and organisers work "
    "on Telegram: new requests wait in their queues, unseen, until you set TELEGRAM_BOT_TOKEN "
    "and TELEGRAM_WEBHOOK_SECRET and start serve again (README: Go live on Telegram)."
)


def serve(settings: Settings, host: str, port: int) -> int:
    """The ASGI server until interrupted: Telegram's webhook, /healthz and /metrics."""
    import uvicorn

    from bot.app import build_server

    telegram = settings.whatsapp is None or settings.token is not None
    if telegram:
        settings.require_token()
        settings.require_webhook_secret()
    else:
        print(WHATSAPP_ONLY, file=sys.stderr)
    _prepare(settings)
    app = build_server(settings)
    webhooks = ["/telegram"] * telegram + ["/whatsapp"] * (settings.whatsapp is not None)
    print(
        f"helpdesk serve: listening on http://{host}:{port} "
        f"(POST {', '.join(webhooks)}, /healthz, /metrics)"
    )
    _tune_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0


def demo(settings: Settings, host: str, port: int, database: Path | None) -> int:
    """The help desk on emulated Telegram and WhatsApp, with the page at `/`, until interrupted."""
    import uvicorn

    from bot.app import build_demo

    _check_port(host, port)
    with tempfile.TemporaryDirectory(prefix="sportello-demo-") as folder:
        path = (database or Path(folder) / "demo.db").resolve()
        settings = replace(seed.demo_settings(settings), database_url=f"sqlite+aiosqlite:///{path}")
        residents = asyncio.run(_prepare_demo(settings))
        app = build_demo(settings, port, residents)
        shown = "localhost" if host in ("127.0.0.1", "localhost") else host
        kept = f"kept in {path}" if database else "deleted when the demo stops"
        print(
            f"Sportello demo: open http://{shown}:{port}/ in a browser (Ctrl+C stops it).\n"
            "Nothing reaches Telegram or WhatsApp: their APIs are emulated here. "
            f"Database: {kept}."
        )
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"helpdesk demo: listening on {host}: anyone who reaches this address can act "
                "as anyone in the demo",
                file=sys.stderr,
            )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,  # the page's live updates would hold the stop
        )
    return 0


async def _prepare_demo(settings: Settings) -> list[seed.Known]:
    """The demo's database up to date and seeded (once, if kept); the residents it holds."""
    await migrate.upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await seed.seed_once(session, settings, datetime.now(UTC))
            return await seed.residents(session)
    finally:
        await engine.dispose()


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({error.strerror}): try another --port"
            ) from None


def _prepare(settings: Settings) -> None:
    """Bring SQLite up to date (PostgreSQL must be already), and check the token with Telegram
    (where there is one: serve may run WhatsApp alone)."""
    asyncio.run(_up_to_date(settings))
    if settings.token is not None:
        asyncio.run(_check_bot_api(settings))


async def _check_bot_api(settings: Settings) -> None:
    """Ask Telegram who the bot is, so a wrong token or address is one clear line at start."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from handlers.telegram.request import AiohttpRequest

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
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "database is up to date" says it
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line for every job it runs


if __name__ == "__main__":
    sys.exit(main())
