"""WhatsApp's webhook on serve's app: Meta's handshake, and nothing believed or stored without
the signature of its exact body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.app import build_server
from bot.config import Settings, WhatsAppSettings
from db.models import Inbound
from handlers.whatsapp.webhook import signed
from tests.web.serving import free_port, uvicorn_serving

NUMBER = WhatsAppSettings(
    phone_id="100000000000001",
    token="TEST-WA-TOKEN",
    app_secret="test-app-secret",
    verify_token="verify-me",
    api_url="http://127.0.0.1:9",  # nothing is sent in these tests
)


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = build_server(replace(settings, webhook_secret="s3cret", whatsapp=NUMBER))
    async with uvicorn_serving(app, port):
        yield url


def notification(phone_id: str = NUMBER.phone_id) -> bytes:
    message = {
        "from": "393331234567",
        "id": "wamid.TEST1",
        "timestamp": "1800000000",
        "type": "text",
        "text": {"body": "ciao"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390200000000", "phone_number_id": phone_id},
        "contacts": [{"profile": {"name": "Rosa"}, "wa_id": "393331234567"}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST as Meta does: JSON, unless the headers say otherwise."""
    sent = {"Content-Type": "application/json", **headers}
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{url}/whatsapp", data=body, headers=sent) as response,
    ):
        return response.status


async def stored(sessions: Any) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(Inbound))).one())


async def test_the_handshake_answers_meta_with_the_right_verify_token_only(serve: str) -> None:
    async with aiohttp.ClientSession() as client:
        query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": ""}
        async with client.get(
            f"{serve}/whatsapp", params=query | {"hub.verify_token": "verify-me"}
        ) as ok:
            assert (ok.status, await ok.text()) == (200, "1158201444")
        async with client.get(
            f"{serve}/whatsapp", params=query | {"hub.verify_token": "guess"}
        ) as no:
            assert no.status == 403


async def test_a_forged_missing_or_oversized_notification_is_refused_and_stores_nothing(
    serve: str, sessions: Any
) -> None:
    body = notification()
    forged = signed(body, "another-secret")
    assert await post(serve, body, {"X-Hub-Signature-256": forged}) == 403
    assert await post(serve, body, {}) == 401
    # Signed, but for another body: the signature covers the exact bytes.
    assert (
        await post(serve, body + b" ", {"X-Hub-Signature-256": signed(body, "test-app-secret")})
        == 403
    )
    huge = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    assert await post(serve, huge, {"X-Hub-Signature-256": signed(huge, "test-app-secret")}) == 413
    not_json = b"{not json"
    assert (
        await post(serve, not_json, {"X-Hub-Signature-256": signed(not_json, "test-app-secret")})
        == 400
    )
    signature = {"X-Hub-Signature-256": signed(body, "test-app-secret")}
    assert await post(serve, body, {**signature, "Content-Type": "text/plain"}) == 415
    # Python would read Infinity, which is not JSON (and which PostgreSQL refuses to store).
    infinite = body.replace(b'"ciao"', b"Infinity")
    assert (
        await post(serve, infinite, {"X-Hub-Signature-256": signed(infinite, "test-app-secret")})
        == 400
    )
    # Signed and well formed, but for another business number: nothing for this desk.
    other = notification(phone_id="999")
    assert (
        await post(serve, other, {"X-Hub-Signature-256": signed(other, "test-app-secret")}) == 200
    )
    assert await stored(sessions) == 0


async def test_a_signed_message_is_stored_once_however_often_it_comes(
    serve: str, sessions: Any
) -> None:
    body = notification()
    headers = {"X-Hub-Signature-256": signed(body, "test-app-secret")}
    assert await post(serve, body, headers) == 200
    assert await post(serve, body, headers) == 200
    assert await stored(sessions) == 1
