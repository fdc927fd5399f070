"""Alembic migrations run from code, so `helpdesk db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from db.session import create_engine, one_at_a_time

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`. Two upgrades started together (two machines
    starting at once) take turns: the second finds the schema up to date."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await one_at_a_time(connection, "migrations")
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


class MigrationError(Exception):
    """The database cannot be used as it is."""


async def ensure_current(database_url: str) -> None:
    """Refuse to start on a database whose schema is behind (several workers must not race)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    except OSError as error:
        raise MigrationError(f"cannot reach the database: {error.strerror or error}") from None
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if current != head:
        raise MigrationError("the database schema is not up to date: run `helpdesk db upgrade`")
