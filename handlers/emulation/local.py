"""What the in-process emulations of chat platforms' APIs share: an aiohttp server on a port of
127.0.0.1 taken before the loop runs, a broadcast condition that waiters (long polls, delivery
loops, tests) wake on, and the watchers told each change a person would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, Self, TypeVar

from aiohttp import web

C = TypeVar("C")  # what a watcher is told
T = TypeVar("T")


class LocalServer(ABC, Generic[C]):
    """An emulated API served in-process. Subclasses build the app (`_app`) and may start work
    once it serves (`_started`); a webhook delivery task goes in `_delivery`, which `stop` ends.
    """

    url_path = ""  # what `base_url` adds after the port

    def __init__(self) -> None:
        self.port = 0
        self._socket: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._watchers: list[Callable[[C], None]] = []

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.url_path}"

    def bind(self, host: str = "127.0.0.1") -> int:
        """Take a free port now, before the loop runs, so that the client can be built knowing
        `base_url`; `start` then serves on it."""
        if self._socket is None:
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._socket.bind((host, 0))
            self.port = self._socket.getsockname()[1]
        return self.port

    @abstractmethod
    def _app(self) -> web.Application:
        """The application answering the API's requests."""

    def _started(self) -> None:
        """Called once the server answers."""

    async def start(self) -> None:
        # handler_cancellation: a long poll whose client went away must not linger.
        self._runner = web.AppRunner(
            self._app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self.bind()
        sock, self._socket = self._socket, None
        assert sock is not None
        self._changed = asyncio.Event()  # bind to the running loop's lifetime
        self._closing = False
        await web.SockSite(self._runner, sock).start()
        self._started()

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # waiters (long polls, delivery loops) return at once, not at their timeout
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- watchers and waiting --------------------------------------------------------------

    @abstractmethod
    def dump(self, last: int = 20) -> str:
        """The recent requests, for a failed wait's message."""

    def watch(self, watcher: Callable[[C], None]) -> Callable[[], None]:
        """Call `watcher` with every change a person would see; returns how to stop."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def _tell(self, change: C) -> None:
        for watcher in list(self._watchers):
            watcher(change)

    def _notify(self) -> None:
        # Wake every waiter, then hand out a fresh event: a cheap broadcast condition.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, check: Callable[[], T | None], within: float) -> T | None:
        """`check()` once it is not None, re-checked at each `_notify`; None after `within`s."""
        deadline = time.monotonic() + within
        while (result := check()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return result

    async def _expect(self, check: Callable[[], T | None], within: float, failure: str) -> T:
        """`_wait` for a test: nothing within `within`s fails it, saying `failure` and `dump`."""
        found = await self._wait(check, within)
        if found is None:
            raise AssertionError(f"{failure} within {within}s\n{self.dump()}")
        return found
