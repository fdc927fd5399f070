"""The composition root: builds the Telegram application with everything it needs."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import replace

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.applications import Starlette
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import i18n
from bot.activities import organising
from bot.cases import queues
from bot.channel import NOBODY, NOT_RUNNING, Channel
from bot.clock import Clock, now
from bot.config import Settings, WhatsAppSettings
from bot.demo import seed
from bot.demo import templates as demo_templates
from bot.demo.clock import DemoClock
from bot.desk import Desk
from bot.i18n import _
from bot.lease import Leadership, holder_name
from bot.metrics import Metrics
from bot.outbox.reminding import Reminders
from bot.outbox.sender import OutboxSender
from bot.outgoing import Response
from bot.residents.commands import COMMANDS
from bot.residents.conversation import forget_old_updates
from db.session import Sessions, create_engine, session_factory
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI
from handlers.telegram import errors, group, nudging, organiser, progress, resident, volunteer
from handlers.telegram.channel import TelegramChannel
from handlers.telegram.context import CONTEXT_TYPES, Wiring
from handlers.telegram.membership import Membership
from handlers.telegram.ordering import PerChatOrder
from handlers.telegram.request import AiohttpRequest
from handlers.web.demo import Persona, World, demo_routes
from handlers.web.server import service_app, web_app
from handlers.whatsapp import WhatsApp

log = logging.getLogger(__name__)

DEMO_TOKEN = "100000001:DEMO-sportello"  # the emulated Bot API's; no real bot has it
LEADER = "leader"  # the lease of the work done once for the whole deployment


def file_url(api_url: str) -> str:
    """The file download base that goes with a Bot API base ending in /bot."""
    return api_url.removesuffix("bot") + "file/bot" if api_url.endswith("/bot") else api_url


def replies_rate_limiter() -> AIORateLimiter:
    """Pacing for answers to residents, who each wait for the bot before writing again.

    Telegram's 30 messages a second is the pace for bulk sending (broadcasts, reminders), which
    goes through its own paced outbox; holding every reply to it would make a busy help desk
    answer in seconds. Replies keep the per-group limit (20 a minute), and a 429 is waited out
    and retried rather than shown to anyone.
    """
    return AIORateLimiter(overall_max_rate=0, max_retries=3)


def build_application(
    settings: Settings,
    clock: Clock = now,
    channels: Mapping[str, Channel] | None = None,
) -> Application:  # type: ignore[type-arg]
    """The PTB application, its handlers registered in order, its services in bot_data.

    `clock` is the services' one clock (see bot.clock); tests pass one they can move.
    `channels` are the residents' channels other than Telegram (WhatsApp, the demo's page).
    """
    metrics = Metrics()
    application = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.api_url)
        .base_file_url(file_url(settings.api_url))
        .request(AiohttpRequest())
        # PTB adds the long poll's own timeout to this request's read timeout.
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .rate_limiter(replies_rate_limiter())
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatOrder(metrics))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    engine = create_engine(settings.database_url)
    telegram = TelegramChannel(application.bot)
    residents_channels: dict[str, Channel] = {"telegram": telegram, **(channels or {})}
    whatsapp = (
        WhatsApp(settings.whatsapp, settings.default_language)
        if settings.whatsapp is not None
        else None
    )
    if whatsapp is not None:
        residents_channels["whatsapp"] = whatsapp.channel
    sessions = session_factory(engine)
    roster = Membership(application.bot)
    wiring: Wiring = application.bot_data
    wiring.desk = Desk(
        settings,
        engine,
        sessions,
        residents_channels,
        staff=telegram,
        roster=roster,
        metrics=metrics,
        clock=clock,
        leadership=leadership(sessions),
    )
    if whatsapp is not None:
        whatsapp.attach(
            wiring.desk, lambda response: _after_whatsapp(wiring, response, application)
        )
        wiring.whatsapp = whatsapp
    group.register(application)
    volunteer.register(application)
    organiser.register(application)
    resident.register(application)
    application.add_error_handler(errors.on_error)
    return application


def build_server(
    settings: Settings, clock: Clock = now, channels: Mapping[str, Channel] | None = None
) -> Starlette:
    """`helpdesk serve`'s ASGI app: the same application, fed by webhooks instead of polling;
    with a WhatsApp number and no Telegram bot, WhatsApp's alone (see `_whatsapp_only`)."""
    if settings.token is None and settings.whatsapp is not None:
        return _whatsapp_only(settings, settings.whatsapp, clock)
    application = build_application(settings, clock, channels)
    wiring: Wiring = application.bot_data
    more = wiring.whatsapp.routes() if wiring.whatsapp is not None else []
    return web_app(application, settings.require_webhook_secret(), settings.public_url, more=more)


def _whatsapp_only(settings: Settings, number: WhatsAppSettings, clock: Clock) -> Starlette:
    """serve with a WhatsApp number and no Telegram bot: residents write, sign up and get their
    reminders on WhatsApp; their requests wait in the queues, unseen, since volunteers and
    organisers are on Telegram (no cards, no nudges, nothing passed to a volunteer)."""
    whatsapp = WhatsApp(number, settings.default_language)
    engine = create_engine(settings.database_url)
    wiring = Wiring()
    channels: dict[str, Channel] = {"whatsapp": whatsapp.channel}
    sessions = session_factory(engine)
    wiring.desk = Desk(
        settings,
        engine,
        sessions,
        channels,
        NOT_RUNNING,
        NOBODY,
        clock=clock,
        leadership=leadership(sessions),
    )
    whatsapp.attach(wiring.desk, lambda response: _after_whatsapp(wiring, response))
    wiring.whatsapp = whatsapp

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await _start(wiring, None)
            yield
        finally:
            await _stop(wiring)
            await engine.dispose()

    return service_app(wiring.desk, whatsapp.routes(), lifespan)


def _after_whatsapp(
    wiring: Wiring,
    response: Response,
    application: Application | None = None,  # type: ignore[type-arg]
) -> None:
    """What a WhatsApp resident's message sets going beyond their answer: the card of a request
    in its queue's group (on Telegram, where it runs), the outbox's news to others."""
    if response.cards_waiting and application is not None:
        application.create_task(
            group.post_pending_cards(application.bot, wiring.desk), name="post cards"
        )
    if response.outbox_news and wiring.outbox is not None:
        wiring.outbox.wake()


def build_demo(settings: Settings, port: int, residents: Iterable[seed.Known] = ()) -> Starlette:
    """`helpdesk demo`'s ASGI app: serve's app on an emulated Bot API and an emulated Graph API
    in this process, which post their updates to serve's own webhooks, and the page at `/`.

    `settings` are the demo's (bot.demo.seed.demo_settings, its database already seeded);
    `residents`: those already in the database.
    """
    clock = DemoClock()

    def stamp() -> float:
        """The demo's time, which the emulated platforms date their messages with."""
        return clock().timestamp()

    # Update ids go on from an earlier run on the same database (see EmulatedBotAPI).
    telegram = EmulatedBotAPI(DEMO_TOKEN, first_update_id=int(time.time() * 1000), clock=stamp)
    telegram.bind()
    graph = EmulatedGraphAPI(clock=stamp)
    graph.bind()
    public_url = f"http://127.0.0.1:{port}"
    # Meta posts to the URL set in its dashboard: here, serve's own route, signed as Meta signs.
    graph.webhook_url = f"{public_url}/whatsapp"
    settings = replace(
        settings,
        token=DEMO_TOKEN,
        api_url=telegram.base_url,
        webhook_secret=secrets.token_urlsafe(32),
        public_url=public_url,
        whatsapp=_demo_number(graph, settings.languages),
    )
    application = build_application(settings, clock)
    world = World(telegram, clock, graph)
    _demo_people(world, settings, residents)
    wiring: Wiring = application.bot_data
    assert wiring.whatsapp is not None
    routes = [*wiring.whatsapp.routes(), *demo_routes(application, world)]
    secret = settings.require_webhook_secret()
    app = web_app(application, secret, public_url, more=routes, around=_emulating(telegram, graph))
    app.state.world = world  # what the demo's people see, for its tests
    return app


def _demo_number(graph: EmulatedGraphAPI, languages: Iterable[str]) -> WhatsAppSettings:
    """The help desk's WhatsApp number on the emulated Graph API, with the demo's templates
    approved there in each language the demo speaks that they are written in."""
    for template in demo_templates.TEMPLATES:
        for language in template.languages(languages):
            graph.register_template(
                template.name,
                language,
                template.parameters,
                body=template.bodies[language],
                quick_replies=template.quick_replies.get(language, ()),
            )
    return WhatsAppSettings(
        phone_id=graph.phone_id,
        token=graph.token,
        app_secret=graph.app_secret,
        verify_token=secrets.token_urlsafe(32),
        api_url=graph.base_url,
        templates=demo_templates.configured(languages),
    )


def _demo_people(world: World, settings: Settings, residents: Iterable[seed.Known]) -> None:
    """The seed's organiser, volunteers and groups, and the residents already in the database:
    on Telegram by their user id, on WhatsApp by their number and the BSUID they write with."""
    for person in (seed.ORGANISER, *seed.VOLUNTEERS):
        role = "organiser" if person is seed.ORGANISER else "volunteer"
        world.add(Persona(person.user_id, person.name, person.language, role))
    names = {str(person.user_id): person.name for person in seed.RESIDENTS}
    names |= {person.bsuid: person.name for person in seed.WHATSAPP_RESIDENTS}
    for known in residents:
        language = known.language or settings.default_language
        if known.channel == "whatsapp" and known.number is not None:
            name = names.get(known.user_id) or f"+{known.number}"
            persona = Persona(known.number, name, language, "resident", "whatsapp")
            world.add(persona, bsuid=known.user_id)
        elif known.channel == "telegram":
            name = names.get(known.user_id) or known.user_id
            world.add(Persona(int(known.user_id), name, language, "resident"))
    for chat_id, title in seed.GROUP_TITLES.items():
        world.add_group(chat_id, title)


@asynccontextmanager
async def _emulating(*emulations: AbstractAsyncContextManager[object]) -> AsyncIterator[None]:
    """The emulated platforms, started before the help desk and stopped after it."""
    async with AsyncExitStack() as stack:
        for emulation in emulations:
            await stack.enter_async_context(emulation)
        yield


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    await _start(application.bot_data, application.bot)
    await _publish_commands(application, application.bot_data.desk.settings)


async def _start(wiring: Wiring, telegram: Bot | None) -> None:
    """Start what runs in the background: WhatsApp's inbox in every worker; and, in the one
    worker that leads (see `leadership`), the outbox, reminders, nudges and cards (these two
    need Telegram: without it, requests wait in their queues)."""
    desk = wiring.desk
    await forget_old_updates(desk.sessions)
    async with desk.sessions() as session, session.begin():
        await queues.sync_from_config(session, desk.settings, desk.clock())
    if wiring.whatsapp is not None:
        await wiring.whatsapp.start()
    assert desk.leadership is not None
    desk.leadership.on_gained = lambda: _lead(wiring, telegram)
    desk.leadership.on_lost = lambda: _stop_leading(wiring)
    await desk.leadership.begin()


def leadership(sessions: Sessions) -> Leadership:
    """The lease of the work done once for the whole deployment, named for this process: the
    first worker to start takes it, another when it dies (see bot.lease). It runs on the wall
    clock, which the workers share, whatever clock the services read (the demo's moves)."""
    return Leadership(sessions, LEADER, holder_name(), now)


async def _lead(wiring: Wiring, telegram: Bot | None) -> None:
    """This worker now leads: start the outbox, reminders, nudges and cards."""
    desk = wiring.desk
    scheduler = AsyncIOScheduler(timezone=desk.settings.timezone)
    channels = dict(desk.channels)
    bulk = None
    if telegram is not None:
        await group.post_pending_cards(telegram, desk)
        group.schedule_cards(scheduler, telegram, desk)
        nudging.schedule_nudges(scheduler, telegram, desk)
        progress.schedule_progress(scheduler, telegram, desk)
        bulk = await bulk_bot(desk.settings)
        # The outbox sends in bulk with its own bot (see bulk_bot); other channels pace
        # themselves.
        channels["telegram"] = TelegramChannel(bulk)
    sender = OutboxSender(channels, desk)
    reminders = Reminders(scheduler, desk, sender)
    scheduler.start()
    sender.start()
    reminders.start()
    wiring.scheduler, wiring.outbox, wiring.reminders, wiring.bulk_bot = (
        scheduler,
        sender,
        reminders,
        bulk,
    )


async def bulk_bot(settings: Settings) -> Bot:
    """The bot the outbox sends with: paced by the outbox itself, which also honours Telegram's
    "retry after" by holding its pace. Behind the application's rate limiter, a 429 would hold
    every message already started and then let them all go at once, over the limit again."""
    bulk = Bot(
        settings.require_token(),
        base_url=settings.api_url,
        base_file_url=file_url(settings.api_url),
        request=AiohttpRequest(),
    )
    await bulk.initialize()
    return bulk


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    await _stop(application.bot_data)


async def _stop(wiring: Wiring) -> None:
    """Stop leading (another worker takes over at once) and the inbox."""
    if wiring.desk.leadership is not None:
        await wiring.desk.leadership.stop()
    await _stop_leading(wiring)  # when start-up failed before leading was set up
    if wiring.whatsapp is not None:
        await wiring.whatsapp.stop()


async def _stop_leading(wiring: Wiring) -> None:
    """Stop the clocks, and let the messages on their way arrive and be marked as sent."""
    scheduler, sender, bulk = wiring.scheduler, wiring.outbox, wiring.bulk_bot
    wiring.scheduler, wiring.outbox, wiring.reminders, wiring.bulk_bot = None, None, None, None
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    if sender is not None:
        await sender.stop()
    if bulk is not None:
        await bulk.shutdown()


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    await _post_stop(application)  # when start-up failed half-way, stop was never reached
    wiring: Wiring = application.bot_data
    await wiring.desk.engine.dispose()


async def _publish_commands(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """The command menu in each enabled language, and in the default one for everyone else."""
    for language in (None, *settings.languages):
        client_code = i18n.two_letter_code(language) if language else None
        if language is not None and client_code is None:
            continue  # Telegram names languages by two letters (Filipino: "tl"); else the default
        with i18n.locale(language or settings.default_language):
            commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=client_code)
    # Organisers get their own commands in their chat's menu (in the deployment's language).
    with i18n.locale(settings.default_language):
        theirs = [BotCommand(name, _(text)) for name, text in organising.COMMANDS]
        theirs += [BotCommand(name, _(text)) for name, text in COMMANDS if name != "activities"]
    for user_id in settings.organisers:
        try:
            await application.bot.set_my_commands(theirs, scope=BotCommandScopeChat(user_id))
        except TelegramError:  # they have not started the bot yet: the plain menu will do
            log.info("no command menu for an organiser who has not started the bot")
