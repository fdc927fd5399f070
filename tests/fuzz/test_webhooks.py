"""Generated bodies against `helpdesk serve`'s two webhooks: whatever arrives (not JSON, JSON of
any shape, the right shape with odd fields, too large, of another content type, with a
signature for another body or without the secret), the answer is a clean refusal or a 200,
never a server error; nothing is stored from a refused body; and a resident is still served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot.app import build_server
from bot.config import Settings
from db.models import Inbound, InboundStatus, Resident, SeenUpdate
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import PHONE_ID, EmulatedGraphAPI, WaUser
from handlers.web.bodies import MAX_BODY
from handlers.whatsapp.webhook import SIGNATURE_HEADER, signed
from tests.stories import DESK_SETTINGS
from tests.transcript import Person
from tests.web.serving import free_port, uvicorn_serving
from tests.web.test_serve import count
from tests.whatsapp.conftest import whatsapp_of

SECRET = "s3cret-Webhook_token"
NUMBER = PHONE_ID  # the emulated business number, which the served desk answers for
SENDERS = ("393331234567", "201001234567", "923001234567")
REFUSALS = {400, 401, 403, 413, 415}
BODIES = settings(
    max_examples=int(os.environ.get("FUZZ_BODIES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def json_of(infinities: bool) -> st.SearchStrategy[Any]:
    """Any JSON value; with `infinities`, also the Infinity Python writes, which is not JSON
    and which the webhooks must refuse."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=infinities)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
        max_leaves=20,
    )


json_values, proper_json = json_of(infinities=True), json_of(infinities=False)


def telegram_shaped() -> st.SearchStrategy[Any]:
    """An update's outline with anything in its fields."""
    fields = st.sampled_from(("message", "edited_message", "callback_query", "my_chat_member"))
    return st.fixed_dictionaries(
        {"update_id": st.integers(min_value=-(2**70), max_value=2**70)},
        optional={"x": st.just(0)},
    ).flatmap(
        lambda outline: st.dictionaries(fields, json_values, min_size=1, max_size=2).map(
            lambda content: {**outline, **content}
        )
    )


def whatsapp_shaped(phone_id: str) -> st.SearchStrategy[Any]:
    """A notification's outline for this number with anything in its messages and statuses."""
    value = st.fixed_dictionaries(
        {"metadata": st.one_of(st.just({"phone_number_id": phone_id}), json_values)},
        optional={
            "messages": st.lists(st.dictionaries(st.sampled_from(
                ("id", "from", "type", "text", "timestamp", "interactive", "image", "context")
            ), json_values), max_size=3),
            "statuses": st.lists(json_values, max_size=3),
            "contacts": json_values,
        },
    )  # fmt: skip
    change = st.fixed_dictionaries({"field": st.just("messages"), "value": value})
    entry = st.fixed_dictionaries({"changes": st.lists(change, min_size=1, max_size=2)})
    return st.fixed_dictionaries({"entry": st.lists(entry, min_size=1, max_size=2)})


def encoded(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return values.map(lambda value: json.dumps(value).encode())


@dataclass
class Served:
    url: str
    graph: EmulatedGraphAPI
    secret: str


@pytest.fixture
async def served(telegram: EmulatedBotAPI, settings: Settings) -> AsyncIterator[Served]:
    async with EmulatedGraphAPI() as graph:
        for number in SENDERS:
            graph.add_user(WaUser(number, "Zia"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        graph.webhook_url = f"{url}/whatsapp"
        changed = replace(
            settings,
            webhook_secret=SECRET,
            public_url=url,
            whatsapp=whatsapp_of(graph),
            **DESK_SETTINGS,
        )
        async with uvicorn_serving(build_server(changed), port):
            yield Served(url, graph, graph.app_secret)


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data=body, headers=headers) as response,
    ):
        return response.status


garbage = st.one_of(st.binary(max_size=2000), encoded(json_values))
kinds = st.sampled_from(("application/json", "application/json; charset=utf-8", "text/plain"))


@BODIES
@given(body=st.one_of(encoded(telegram_shaped()), garbage), kind=kinds, secret=st.booleans())
async def test_the_telegram_webhook_refuses_cleanly_what_is_not_an_update(
    body: bytes, kind: str, secret: bool, served: Served
) -> None:
    headers = {"Content-Type": kind}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = SECRET
    assert await post(f"{served.url}/telegram", body, headers) in {200} | REFUSALS


@BODIES
@given(
    body=st.one_of(encoded(whatsapp_shaped(NUMBER)), garbage),
    kind=kinds,
    signature=st.sampled_from(("right", "other body", "none")),
)
async def test_the_whatsapp_webhook_refuses_cleanly_what_is_not_a_notification(
    body: bytes, kind: str, signature: str, served: Served, sessions: Any
) -> None:
    before = await count(sessions, Inbound)
    signed_as = {"right": body, "other body": body + b" ", "none": None}[signature]
    headers = {"Content-Type": kind}
    if signed_as is not None:
        headers[SIGNATURE_HEADER] = signed(signed_as, served.secret)
    status = await post(f"{served.url}/whatsapp", body, headers)
    assert status in {200} | REFUSALS
    if status != 200:
        assert await count(sessions, Inbound) == before


async def test_too_large_is_413_and_a_resident_is_served_afterwards(
    served: Served, telegram: EmulatedBotAPI, sessions: Any
) -> None:
    huge = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
    telegram_headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
    }
    assert await post(f"{served.url}/telegram", huge, telegram_headers) == 413
    whatsapp_headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signed(huge, served.secret),
    }
    assert await post(f"{served.url}/whatsapp", huge, whatsapp_headers) == 413
    assert await count(sessions, Resident) == await count(sessions, SeenUpdate) == 0
    ada = Person(telegram, 7001, "en")
    ada.says("/start")
    await ada.hears("Which language")


def whatsapp_messages() -> st.SearchStrategy[Any]:
    """Messages as Meta outlines them (a new id, a sender) with anything in their content."""
    content = st.fixed_dictionaries(
        {
            "from": st.sampled_from(SENDERS),
            "type": st.sampled_from(("text", "interactive", "button", "image", "audio",
                                     "location", "sticker", "unknown", "reaction")),
        },
        optional={key: proper_json for key in ("text", "interactive", "button", "image",
                                                "location", "context", "timestamp")},
    )  # fmt: skip
    return st.lists(content, min_size=1, max_size=5)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages=whatsapp_messages())
async def test_odd_whatsapp_messages_are_answered_or_set_aside_without_an_error(
    messages: list[dict[str, Any]],
    served: Served,
    sessions: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    for message in messages:
        message["id"] = f"wamid.{uuid.uuid4().hex}"
    value = {"metadata": {"phone_number_id": NUMBER}, "messages": messages}
    body = json.dumps({"entry": [{"changes": [{"field": "messages", "value": value}]}]}).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signed(body, served.secret)}
    assert await post(f"{served.url}/whatsapp", body, headers) == 200
    for _ in range(100):  # the inbox applies them after the 200
        if await count_pending(sessions) == 0:
            break
        await asyncio.sleep(0.05)
    assert await count_pending(sessions) == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def count_pending(sessions: Any) -> int:
    async with sessions() as session:
        statement = select(func.count()).select_from(Inbound)
        found = await session.exec(statement.where(Inbound.status != InboundStatus.ANSWERED))
        return int(found.one())
