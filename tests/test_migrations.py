"""The migrations build exactly the tables the models describe, on every database."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401
from bench.cluster import POSTGRES_URL, admin
from db import migrate
from db.session import create_engine
from tests.conftest import POSTGRES_REACHABLE


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


@pytest.mark.skipif(not POSTGRES_REACHABLE, reason="PostgreSQL is not reachable")
async def test_two_upgrades_started_together_take_turns() -> None:
    """Two machines running `helpdesk db upgrade` at once on an empty database: one builds the
    schema, the other finds it built (without taking turns, one fails half-way)."""
    name = f"helpdesk_upgrade_{uuid.uuid4().hex[:12]}"
    await admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        async with asyncio.timeout(60):  # without taking turns, they can also wait for ever
            await asyncio.gather(migrate.upgrade(url), migrate.upgrade(url))
        await migrate.ensure_current(url)  # at the head, once
    finally:
        await admin(f'DROP DATABASE "{name}" WITH (FORCE)')
