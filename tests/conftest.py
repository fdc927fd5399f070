"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable) and a running bot."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bench.cluster import postgres_database
from bot.app import build_application
from bot.channel import Channel
from bot.clock import Clock, now
from bot.config import Settings
from db import migrate
from db.session import create_engine, session_factory
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI
from tests.polling import running
from tests.transcript import Person

TOKEN = "123456:TEST-TOKEN"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


POSTGRES_REACHABLE = _postgres_reachable()
POSTGRES = pytest.param(
    "postgresql",
    marks=pytest.mark.skipif(not POSTGRES_REACHABLE, reason="PostgreSQL is not reachable"),
)


@pytest.fixture(params=["sqlite", POSTGRES])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each kind the machine has."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"
        await migrate.upgrade(url)
        yield url
        return
    # Each test gets a database of its own, so no test sees another's rows.
    async with postgres_database("helpdesk_test") as url:
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[object]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def telegram() -> AsyncIterator[EmulatedBotAPI]:
    server = EmulatedBotAPI(token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def graph() -> AsyncIterator[EmulatedGraphAPI]:
    async with EmulatedGraphAPI() as emulation:
        yield emulation


@pytest.fixture
def settings(telegram: EmulatedBotAPI, database_url: str) -> Settings:
    return Settings(token=TOKEN, api_url=telegram.base_url, database_url=database_url)


class Bot:
    """The real application, startable and stoppable like a deployed bot."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @asynccontextmanager
    async def running(
        self,
        *,
        clock: Clock = now,
        channels: Mapping[str, Channel] | None = None,
        **changes: Any,
    ) -> AsyncIterator[Application]:  # type: ignore[type-arg]
        """Run the bot with some settings changed; `clock` is the services' one clock, `channels`
        the residents' channels beside Telegram."""
        application = build_application(replace(self.settings, **changes), clock, channels)
        async with running(application):
            yield application


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[Bot]:
    yield Bot(settings)


@pytest.fixture
async def live_bot(bot: Bot) -> AsyncIterator[Bot]:
    async with bot.running():
        yield bot


@pytest.fixture
def people(telegram: EmulatedBotAPI) -> Iterator[type[Person]]:
    yield Person
