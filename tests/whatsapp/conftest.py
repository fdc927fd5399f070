"""The help desk serving a WhatsApp number on the Graph API emulation (and Telegram's for the
volunteers), and Rosa, a resident on it who reads English."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from bot.app import build_server
from bot.config import Settings, WhatsAppSettings
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI, OutgoingMessage, WaUser
from tests import factories
from tests.clock import Clock
from tests.stories import DESK_SETTINGS, HOUSING_GROUP
from tests.transcript import Person
from tests.web.serving import free_port, uvicorn_serving

ROSA = WaUser("447700900123", "Rosa")

TEMPLATES = {  # purpose: (name, parameters, body, quick replies)
    "reminder": ("rsvp_reminder", 2, "Reminder: {{1}}, {{2}}. Are you coming?", ("Yes", "No")),
    "broadcast": ("desk_notice", 1, "Notice from the help desk: {{1}} Reply here.", ()),
    "volunteer_wrote": (
        "volunteer_wrote",
        1,
        "A volunteer wrote to you about request {{1}}.",
        ("Read the message",),
    ),
}


def whatsapp_of(graph: EmulatedGraphAPI) -> WhatsAppSettings:
    return WhatsAppSettings(
        phone_id=graph.phone_id,
        token=graph.token,
        app_secret=graph.app_secret,
        verify_token="verify-me",
        api_url=graph.base_url,
    )


@dataclass
class Desk:
    url: str
    graph: EmulatedGraphAPI

    async def reads(self, user: WaUser, *fragments: str) -> OutgoingMessage:
        """The bot's next message to `user` that has every fragment (those before it read)."""
        while True:
            message = await self.graph.next_message(user)
            if all(fragment in (message.text or "") for fragment in fragments):
                return message

    def taps(self, user: WaUser, message: OutgoingMessage, title: str) -> None:
        [button_id] = [i for i, shown in message.buttons if title in shown]
        if message.interactive == "list":
            self.graph.push_list_reply(user, message, button_id)
        else:
            self.graph.push_button_reply(user, message, button_id)


@pytest.fixture
async def desk(
    telegram: EmulatedBotAPI, graph: EmulatedGraphAPI, settings: Settings
) -> AsyncIterator[Desk]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    changed = replace(
        settings,
        webhook_secret="s3cret",
        public_url=url,
        whatsapp=whatsapp_of(graph),
        **DESK_SETTINGS,
    )
    async with uvicorn_serving(build_server(changed), port):
        graph.webhook_url = f"{url}/whatsapp"
        yield Desk(url, graph)


@dataclass
class RosasDesk:
    graph: EmulatedGraphAPI
    clock: Clock


@pytest.fixture
async def rosas_desk(
    telegram: EmulatedBotAPI, settings: Settings, sessions: Any
) -> AsyncIterator[RosasDesk]:
    """Rosa wrote two days ago; her housing request waits in its queue. Every template is
    approved in English."""
    clock = Clock("2026-12-07T10:00")
    async with EmulatedGraphAPI(clock=lambda: clock().timestamp()) as graph:
        for name, parameters, body, replies in TEMPLATES.values():
            graph.register_template(name, "en", parameters, body=body, quick_replies=replies)
        graph.add_user(ROSA)
        whatsapp = replace(
            whatsapp_of(graph),
            templates={purpose: {"en": names[0]} for purpose, names in TEMPLATES.items()},
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        graph.webhook_url = f"{url}/whatsapp"
        changed = replace(
            settings, webhook_secret="s3cret", public_url=url, whatsapp=whatsapp, **DESK_SETTINGS
        )
        async with sessions() as session, session.begin():
            rosa = await factories.resident(session, ROSA.user_id, channel="whatsapp")
            rosa.last_inbound_at = clock() - timedelta(days=2)
            await factories.housing_case(session, changed, rosa)
        async with uvicorn_serving(build_server(changed, clock), port):
            yield RosasDesk(graph, clock)


async def claims(telegram: EmulatedBotAPI, vera: Person) -> None:
    """Vera takes Rosa's request from its card."""
    card = await telegram.next_message(HOUSING_GROUP)
    await vera.taps("Claim", on=card)
    await vera.hears("You took request SP-00001")
