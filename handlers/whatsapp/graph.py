"""The pywa client, pointed at the Graph API's base of the settings.

pywa writes its requests to https://graph.facebook.com; tests, benchmarks and the demo put a
local stand-in there instead (WHATSAPP_API_URL), so the client's transport sends each request
to the configured base, path and query unchanged.
"""

from __future__ import annotations

import httpx
from pywa_async.client import WhatsApp

from bot.config import WhatsAppSettings

GRAPH_HOST = "graph.facebook.com"


class ToBase(httpx.AsyncBaseTransport):
    """Sends requests for the Graph API's host to another base instead."""

    def __init__(self, base: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = httpx.URL(base)
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == GRAPH_HOST:
            prefix = self.base.path.rstrip("/")
            request.url = request.url.copy_with(
                scheme=self.base.scheme,
                host=self.base.host,
                port=self.base.port,
                path=prefix + request.url.path,
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def graph_session(settings: WhatsAppSettings) -> httpx.AsyncClient:
    transport = (
        ToBase(settings.api_url)
        if settings.api_url.rstrip("/") != f"https://{GRAPH_HOST}"
        else None
    )
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(20.0, connect=5.0))


def whatsapp_client(settings: WhatsAppSettings, session: httpx.AsyncClient) -> WhatsApp:
    """The client the adapter sends with; the webhook is served by the help desk's own app."""
    return WhatsApp(
        phone_id=settings.phone_id,
        token=settings.token,
        session=session,
        server=None,
        app_secret=settings.app_secret,
    )
