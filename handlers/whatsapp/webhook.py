"""WhatsApp's webhook on the help desk's own app: `GET /whatsapp` for Meta's subscription
handshake, `POST /whatsapp` for messages and the statuses of what the bot sent.

A POST is believed only when its `X-Hub-Signature-256` is the HMAC-SHA256 of its exact body
with the app secret (checked before anything else is read); its messages are then stored,
each once whatever the number of deliveries, and only then does Meta get its 200. The inbox
applies them afterwards, one resident's in order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from typing_extensions import TypeIs

from bot.channel import Outcome
from bot.config import WhatsAppSettings
from bot.desk import Desk
from bot.outbox import store as outbox
from bot.outbox.store import Reported
from bot.residents import inbound
from bot.residents.inbound import Received
from handlers.web import bodies
from handlers.whatsapp.codes import UNDELIVERABLE, WINDOW_CLOSED
from handlers.whatsapp.inbox import CHANNEL

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_routes(
    desk: Desk,
    settings: WhatsAppSettings,
    stored: Callable[[str], None],
    requeued: Callable[[], None] = lambda: None,
    answered: Callable[[str], bool] = lambda message_id: False,
) -> list[Route]:
    """The two routes; `stored(sender)` is told of each resident with a new message, and
    `requeued()` of outbox messages to send again (as templates); `answered(message_id)` says
    which messages were answers, whose statuses concern no outbox row."""

    async def handshake(request: Request) -> Response:
        query = request.query_params
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), settings.verify_token.encode()
        ):
            return PlainTextResponse(query.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def notification(request: Request) -> Response:
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            return PlainTextResponse("unsigned", status_code=401)
        body = await bodies.within(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        if not hmac.compare_digest(given.encode(), signed(body, settings.app_secret).encode()):
            return PlainTextResponse("forbidden", status_code=403)
        if not bodies.is_json(request):
            return PlainTextResponse("not JSON", status_code=415)
        try:
            data = bodies.parsed(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        messages, statuses = _read(data, settings.phone_id)
        moment, reported = desk.clock(), []
        async with desk.sessions() as session, session.begin():
            await inbound.store(session, CHANNEL, messages, moment)
            for message_id, status, errors in statuses:
                if answered(message_id):
                    continue
                outcome = await outbox.report(session, message_id, status, _problem(errors), moment)
                reported.append((message_id, outcome))
        kept = [message_id for message_id, outcome in reported if outcome is Reported.KEPT]
        again = any(outcome is Reported.AGAIN for _, outcome in reported)
        if kept:  # about a message whose row was perhaps being marked meanwhile
            async with desk.sessions() as session, session.begin():
                for message_id in kept:
                    again |= await outbox.settle(session, message_id)
        for sender in dict.fromkeys(message.sender for message in messages):
            stored(sender)
        if again:
            requeued()
        return PlainTextResponse("ok")

    return [
        Route("/whatsapp", handshake, methods=["GET"]),
        Route("/whatsapp", notification, methods=["POST"]),
    ]


def _read(data: object, phone_id: str) -> tuple[list[Received], list[tuple[str, str, list[int]]]]:
    """The messages and statuses for this number in a notification; anything else is ignored."""
    messages: list[Received] = []
    statuses: list[tuple[str, str, list[int]]] = []
    if not isinstance(data, dict):
        return messages, statuses
    for entry in _list(data.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict) or metadata.get("phone_number_id") != phone_id:
                continue
            contacts = _list(value.get("contacts"))
            for message in _list(value.get("messages")):
                if (received := _message(message, contacts)) is not None:
                    messages.append(received)
            for status in _list(value.get("statuses")):
                message_id, state = status.get("id"), status.get("status")
                if _text(message_id, 128) and state in outbox.PROGRESS:
                    codes = [e.get("code") for e in _list(status.get("errors"))]
                    statuses.append((message_id, state, [c for c in codes if type(c) is int]))
    return messages, statuses


def _message(message: dict[str, Any], contacts: list[dict[str, Any]]) -> Received | None:
    message_id, number = message.get("id"), message.get("from")
    if not _text(message_id, 128) or not _text(number, 32):
        return None
    contact = next(
        (c for c in contacts if c.get("wa_id") == number), contacts[0] if contacts else {}
    )
    # The business-scoped user id where Meta gives one (as pywa prefers it), else the number.
    user_id = contact.get("user_id")
    sender = user_id if _text(user_id, 64) else number
    return Received(message_id, sender, {"message": message, "contact": contact})


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: object, limit: int) -> TypeIs[str]:
    return isinstance(value, str) and 0 < len(value) <= limit


def _problem(errors: list[int]) -> Outcome | None:
    """Why Meta could not deliver a message, in the help desk's terms."""
    if WINDOW_CLOSED in errors:
        return Outcome.WINDOW_CLOSED
    if UNDELIVERABLE in errors:
        return Outcome.BLOCKED
    return Outcome.FAILED if errors else None
