"""The async database engine and sessions: SQLite through aiosqlite, PostgreSQL through asyncpg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Sessions = async_sessionmaker[AsyncSession]


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`; SQLite gets a write-ahead log and enforced foreign keys."""
    # Parameters are kept out of error messages: they carry residents' answers into logs.
    # SQLite has one writer at a time: a single connection makes transactions queue in order
    # instead of retrying against a locked file.
    sqlite = make_url(url).get_backend_name() == "sqlite"
    pool: dict[str, Any] = {"pool_size": 1, "max_overflow": 0} if sqlite else {}
    engine = create_async_engine(
        url,
        **pool,
        pool_pre_ping=not sqlite,
        hide_parameters=True,
        # Sessions always end their transaction (commit, or rollback on close); a second
        # rollback when the connection returns to the pool would only cost a round trip.
        pool_reset_on_return=None,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    else:
        event.listen(engine.sync_engine, "before_cursor_execute", _without_nul, retval=True)
    return engine


def _without_nul(
    _connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """PostgreSQL's text cannot hold a NUL character, which anyone can type (and SQLite keeps):
    it is dropped from every text written, which it never carried any meaning in."""
    return statement, _clean(parameters)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(item) for item in value)
    return value


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while an answer is being written; FULL keeps every commit on disk
    # before the bot acknowledges it.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def insert_or_ignore(session: AsyncSession, table: type[SQLModel]) -> Insert:
    """An INSERT that skips rows whose key is taken (ON CONFLICT DO NOTHING), in the session's
    dialect: how something is done exactly once however often it is attempted."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def database_answers(engine: AsyncEngine) -> bool:
    """Whether the database answers a trivial query now (for /healthz)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means: not healthy
        return False
    return True


# The first half of every advisory lock key the help desk takes, so that its locks never meet
# another application's on the same PostgreSQL ("SP").
LOCK_SPACE = 0x5350


async def one_at_a_time(on: AsyncSession | AsyncConnection, key: str) -> None:
    """Wait until no other transaction that named `key` is open, and hold `key` until this one
    ends (PostgreSQL's transaction-level advisory lock): how several workers apply one person's
    updates one after the other. The lock ends with the transaction, so it holds behind a
    transaction-pooling connection pooler too. SQLite has one writer at a time already."""
    connection = await on.connection() if isinstance(on, AsyncSession) else on
    if connection.dialect.name != "postgresql":
        return
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
        {"space": LOCK_SPACE, "key": key},
    )
