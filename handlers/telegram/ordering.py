"""Updates from different chats are handled side by side; those of one chat, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import Metrics


class PerChatOrder(BaseUpdateProcessor):
    """Lets one resident's slow reply not hold up everyone else, without ever letting a
    resident's second message overtake the first (their answers must apply in order)."""

    def __init__(self, metrics: Metrics | None = None, max_concurrent_updates: int = 8) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # lock, updates holding or waiting
        self._metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        try:
            await self._in_order(update, coroutine)
        finally:
            if self._metrics is not None:
                self._metrics.updates.labels(_kind_of(update), "telegram").inc()
                self._metrics.latency.labels("telegram").observe(time.perf_counter() - started)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_of(update)
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _kind_of(update: object) -> str:
    """What kind of update it is, as /metrics labels it."""
    if not isinstance(update, Update):
        return "other"
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        if getattr(update, kind) is not None:
            return kind
    return "other"


def _chat_of(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0  # anything else is rare and goes through one line
