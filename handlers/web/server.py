"""`helpdesk serve`: one ASGI app with Telegram's webhook (and WhatsApp's, see
handlers.whatsapp), /healthz and /metrics.

Each webhook call is answered only once its update's effects are committed: a crash before
that leaves Telegram without its 200, and Telegram delivers the update again. One delivered
twice is applied once (each handler checks the update log), and one chat's updates stay in
order (PerChatOrder).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from bot.desk import Desk
from bot.outbox import store as outbox
from db.session import database_answers
from handlers.telegram.context import ALLOWED_UPDATES, Wiring
from handlers.web import bodies

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def web_app(
    application: Application,  # type: ignore[type-arg]
    secret: str,
    public_url: str | None = None,
    *,
    more: Sequence[BaseRoute] = (),
    around: AbstractAsyncContextManager[object] | None = None,
) -> Starlette:
    """The app that runs `application` (started and stopped with the server) behind HTTP.

    `more`: further routes (the demo's page); `around`: what must run before the application
    starts and stop after it (the demo's emulated Bot API).
    """
    wiring: Wiring = application.bot_data

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        body = await bodies.within(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        if not bodies.is_json(request):
            return PlainTextResponse("not JSON", status_code=415)
        try:
            data = bodies.parsed(body)
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("no update id")
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return PlainTextResponse("not an update", status_code=400)
        # Each handler applies an update once (the update log, see handlers.telegram.context).
        processing = application.process_update(update)
        await application.update_processor.process_update(update, processing)
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with around or nullcontext(), _running(application):
            if public_url:
                await application.bot.set_webhook(
                    f"{public_url}/telegram", secret_token=secret, allowed_updates=ALLOWED_UPDATES
                )
                log.info("Telegram's webhook is registered at %s/telegram", public_url)
            else:
                log.info("PUBLIC_URL is not set: register the webhook at Telegram yourself")
            yield

    routes = [Route("/telegram", telegram_webhook, methods=["POST"]), *more]
    return service_app(wiring.desk, routes, lifespan)


def service_app(
    desk: Desk,
    routes: Sequence[BaseRoute],
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]],
) -> Starlette:
    """The app with these routes, /healthz and /metrics, started and stopped by `lifespan`."""

    worker = desk.leadership.holder if desk.leadership is not None else None

    async def healthz(request: Request) -> Response:
        """Whether the database answers, and whether this worker leads (see bot.lease)."""
        leading = {"worker": worker, "leader": desk.leads()}
        if await database_answers(desk.engine):
            return JSONResponse({"status": "ok", "database": "ok", **leading})
        return JSONResponse({"status": "unavailable", "database": "unreachable", **leading}, 503)

    async def metrics(request: Request) -> Response:
        desk.metrics.leader.set(desk.leads())
        try:
            async with desk.sessions() as session:
                desk.metrics.outbox_depth.set(await outbox.count_queued(session))
        except Exception as error:  # the database is away: the other figures still help
            log.warning("outbox depth unknown: %s", type(error).__name__)
        return Response(desk.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    ours = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(routes=[*routes, *ours], lifespan=lifespan)


@asynccontextmanager
async def _running(application: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """What `run_polling` does around its loop, without polling: the same start and stop."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        try:
            yield
        finally:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
