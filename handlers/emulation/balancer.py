"""The reverse proxy in front of several `helpdesk serve` workers, as a city deployment has one
(nginx, Caddy): each request goes to the next worker in turn, and to the one after when a worker
does not answer (it died), so that Telegram and Meta see one address whatever happens behind it.
For tests and benches, on 127.0.0.1 like the emulated platforms."""

from __future__ import annotations

from collections import Counter

import aiohttp
from aiohttp import web

from handlers.emulation.local import LocalServer

# What a proxy does not pass on: they describe one connection, not the request.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class Balancer(LocalServer[None]):
    def __init__(self, upstreams: list[str] | None = None) -> None:
        super().__init__()
        self.upstreams = list(upstreams or [])  # base URLs, e.g. http://127.0.0.1:8081
        self.served: Counter[str] = Counter()  # requests each upstream answered
        self._turn = 0
        self._client: aiohttp.ClientSession | None = None

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        return app

    def _started(self) -> None:
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=0),
        )

    async def stop(self) -> None:
        await super().stop()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[self._turn % len(self.upstreams)]
            self._turn += 1
            try:
                async with self._client.request(
                    request.method,
                    upstream + request.path_qs,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    self.served[upstream] += 1
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=content, headers=kept)
            except aiohttp.ClientConnectionError:
                continue  # that worker is down (or went down mid-request): the next one
        return web.Response(status=502, text="no worker answered")

    def dump(self, last: int = 20) -> str:
        return f"balancer over {self.upstreams}: {dict(self.served)}"
