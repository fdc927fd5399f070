"""The WhatsApp adapter: residents write to the help desk's number through the Cloud API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from starlette.routing import Route

from bot.config import WhatsAppSettings
from bot.desk import Desk
from bot.outgoing import Response
from handlers.whatsapp.channel import WhatsAppChannel
from handlers.whatsapp.graph import graph_session, whatsapp_client
from handlers.whatsapp.inbox import Inbox
from handlers.whatsapp.webhook import whatsapp_routes


@dataclass
class WhatsApp:
    """The adapter as the composition root wires it: the channel at once, then, once the desk
    exists, the inbox that applies residents' messages and the webhook's routes."""

    settings: WhatsAppSettings
    default_language: str  # the deployment's: its template goes where the resident's has none
    session: httpx.AsyncClient = field(init=False)
    channel: WhatsAppChannel = field(init=False)
    inbox: Inbox | None = None

    def __post_init__(self) -> None:
        self.session = graph_session(self.settings)
        client = whatsapp_client(self.settings, self.session)
        self.channel = WhatsAppChannel(client, self.settings, self.default_language)

    def attach(self, desk: Desk, after: Callable[[Response], None]) -> None:
        self.inbox = Inbox(desk, self.channel.client, after, self.channel.throughput)

    def routes(self) -> list[Route]:
        assert self.inbox is not None, "attach the desk first"
        inbox = self.inbox
        return whatsapp_routes(
            inbox.desk,
            self.settings,
            inbox.wake,
            lambda: inbox.after(Response(outbox_news=True)),
            inbox.answered,
        )

    async def start(self) -> None:
        if self.inbox is not None:
            await self.inbox.start()

    async def stop(self) -> None:
        if self.inbox is not None:
            await self.inbox.stop()
        await self.session.aclose()
