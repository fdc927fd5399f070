"""Serving the help desk's ASGI apps on a free local port, as uvicorn serves them, and acting
through the demo page's endpoints as the page does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from starlette.applications import Starlette

from bench.cluster import free_port as free_port  # the one way to pick a port, shared
from bot.config import Settings
from bot.demo import seed
from handlers.emulation.telegram import EmulatedBotAPI, SentMessage
from handlers.emulation.whatsapp import EmulatedGraphAPI, OutgoingMessage
from handlers.web.demo import World


@asynccontextmanager
async def uvicorn_serving(app: Starlette, port: int) -> AsyncIterator[None]:
    """The app served on 127.0.0.1:`port` (its lifespan run) for the duration of the block."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the server did not start"
    try:
        yield
    finally:
        server.should_exit = True
        await task


@dataclass
class Demo:
    url: str
    world: World
    database: Path

    @property
    def telegram(self) -> EmulatedBotAPI:
        return self.world.telegram

    @property
    def graph(self) -> EmulatedGraphAPI:
        assert self.world.whatsapp is not None
        return self.world.whatsapp

    async def call(self, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        """POST to the page's endpoint `path`, as the page does; the status and the JSON."""
        async with aiohttp.ClientSession() as client:
            data = body if isinstance(body, bytes) else json.dumps(body)
            async with client.post(f"{self.url}{path}", data=data, params=query) as response:
                return response.status, await response.json()

    async def get(self, path: str, **query: Any) -> Any:
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"{self.url}{path}", params=query) as response,
        ):
            assert response.status == 200
            return await response.json()

    async def says(self, who: int, text: str, chat: int | None = None, **more: Any) -> None:
        status, answer = await self.call(
            "/demo/send", {"as": who, "chat": chat or who, "text": text, **more}
        )
        assert status == 200, answer

    async def taps(self, who: int, label: str, on: SentMessage, chat: int | None = None) -> None:
        rows = (on.reply_markup or {}).get("inline_keyboard", [])
        [data] = [b["callback_data"] for row in rows for b in row if label in b["text"]]
        body = {"as": who, "chat": chat or who, "message": on.message_id, "data": data}
        status, answer = await self.call("/demo/press", body)
        assert status == 200, answer

    async def reads_until(self, chat: int, fragment: str) -> SentMessage:
        """The bot's next message in `chat` containing `fragment`, those before it read too."""
        while fragment not in ((message := await self.telegram.next_message(chat)).text or ""):
            pass
        return message

    async def wa_says(self, chat: str, text: str) -> None:
        """A WhatsApp resident writes in their conversation ("wa:" and the number)."""
        status, answer = await self.call("/demo/send", {"as": chat, "chat": chat, "text": text})
        assert status == 200, answer

    async def wa_taps(self, chat: str, title: str, on: OutgoingMessage) -> None:
        """Tap the reply button, list row or quick reply whose title has `title`."""
        [choice] = [choice for choice, shown in on.buttons if title in shown]
        body = {"as": chat, "chat": chat, "message": on.id, "data": choice}
        status, answer = await self.call("/demo/press", body)
        assert status == 200, answer

    async def wa_reads(self, chat: str, *fragments: str) -> OutgoingMessage:
        """The bot's next message in a WhatsApp conversation that has every fragment (those
        before it read too)."""
        number = chat.removeprefix("wa:")
        while True:
            message = await self.graph.next_message(number)
            if all(fragment in (message.text or "") for fragment in fragments):
                return message

    async def reads(self, chat: int, *fragments: str) -> SentMessage:
        """The next message of the bot's in `chat`, which must contain every fragment."""
        message = await self.telegram.next_message(chat)
        for fragment in fragments:
            assert fragment in (message.text or ""), message.text
        return message


def prepared(folder: Path) -> Settings:
    """The demo's settings, as `helpdesk demo --db folder/demo.db` makes them."""
    database_url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    return replace(seed.demo_settings(Settings()), database_url=database_url)


async def next_event(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    """The next server-sent event of the demo's `/demo/events`, as JSON (heartbeats skipped)."""
    async with asyncio.timeout(5):
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("data: "):
                return dict(json.loads(line.removeprefix("data: ")))
