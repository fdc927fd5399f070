"""Generated updates against the running help desk (the real PTB application, polling the Bot API
emulation, on SQLite and PostgreSQL): whatever arrives, nothing reaches the error handler, every
person in a private chat gets an answer, no text anyone wrote reaches the log, input the bot
refuses changes nothing in the database, and a resident is still served afterwards.

A short run by default; FUZZ_BATCHES=200 (50 updates each) for 10,000, or `python -m bench.fuzz`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from sqlmodel import SQLModel
from sqlmodel import select as sqlmodel_select

from bot.config import Settings
from db.models import Activity, ActivityKind
from handlers.emulation.telegram import EmulatedBotAPI
from tests import factories
from tests.conftest import Bot
from tests.fuzz import strategies
from tests.fuzz.strategies import (
    HOUSING_GROUP,
    RESIDENTS,
    VOLUNTEERS,
    Poke,
    batches,
    push,
    refused_batches,
)
from tests.stories import DESK_SETTINGS
from tests.transcript import Person

BATCHES = int(os.environ.get("FUZZ_BATCHES", "30"))
BATCH = 10
QUIET = settings(
    max_examples=BATCHES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one running bot for every batch, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
async def desk(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions: Any
) -> AsyncIterator[None]:
    """The help desk with its two queues, a volunteer in each, and a request waiting."""
    for volunteer in VOLUNTEERS:
        telegram.set_member_status(HOUSING_GROUP, volunteer, "member")
    async with sessions() as session, session.begin():
        asker = await factories.resident(session, str(RESIDENTS[0]))
        await factories.housing_case(session, replace(settings, **DESK_SETTINGS), asker)
    async with bot.running(**DESK_SETTINGS):
        yield


async def settled(telegram: EmulatedBotAPI) -> None:
    """Until every update is confirmed and the bot has said nothing for a fifth of a second."""
    await telegram.wait_updates_consumed(timeout=60)
    seen = -1
    while seen != len(telegram.calls):
        seen = len(telegram.calls)
        await asyncio.sleep(0.2)


def answered(telegram: EmulatedBotAPI, since: int, batch: list[Poke]) -> list[Poke]:
    """The pokes from a person in a private chat that got no answer at all."""
    calls = telegram.calls[since:]
    presses = sum(1 for poke in batch if poke.kind == "press" and poke.from_a_person)
    answers = sum(1 for call in calls if call.method == "answerCallbackQuery")
    assert answers >= presses, f"{presses - answers} presses got no answer"
    spoken_to = {call.params.get("chat_id") for call in calls if call.method.startswith("send")}
    return [
        poke
        for poke in batch
        if poke.private and poke.from_a_person and not poke.edited and poke.kind != "press"
        if poke.chat not in spoken_to
    ]


def failures(records: list[logging.LogRecord]) -> list[str]:
    return [record.getMessage() for record in records if record.levelno >= logging.ERROR]


def leaked(log: str, batch: list[Poke]) -> list[str]:
    """Texts people sent that the log repeats (long enough not to match by chance)."""
    return [
        poke.payload
        for poke in batch
        if len(poke.payload.strip()) >= 16 and poke.payload.strip() in log
    ]


@QUIET
@given(batch=batches(BATCH))
async def test_nothing_anyone_sends_reaches_the_error_handler(
    batch: list[Poke], telegram: EmulatedBotAPI, desk: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    since = len(telegram.calls)
    for poke in batch:
        push(telegram, poke)
    await settled(telegram)
    assert failures(caplog.records) == []
    assert answered(telegram, since, batch) == []
    assert leaked(caplog.text, batch) == []


async def snapshot(sessions: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, but the record of updates already seen and the leases (which
    the running bot renews as time goes)."""
    found = {}
    async with sessions() as session:
        connection = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in ("seenupdate", "lease"):
                rows = (await connection.execute(select(table))).all()
                found[table.name] = sorted(map(tuple, rows), key=repr)
    return found


@QUIET
@given(batch=refused_batches(BATCH))
async def test_refused_input_changes_nothing(
    batch: list[Poke], telegram: EmulatedBotAPI, desk: None, sessions: Any
) -> None:
    before = await snapshot(sessions)
    for poke in batch:
        push(telegram, poke)
    await settled(telegram)
    assert await snapshot(sessions) == before


async def test_after_a_storm_a_resident_is_still_served(
    telegram: EmulatedBotAPI, desk: None
) -> None:
    rng = random.Random(2026)
    for poke in (strategies.poke(rng, f"{n} \u202e{'x' * n}") for n in range(300)):
        push(telegram, poke)
    await settled(telegram)
    nadia = Person(telegram, 7777, "it")
    nadia.says("/start")
    await nadia.hears("Ciao! Che lingua vuoi usare?")


async def test_a_nul_anyone_types_is_stored_on_every_database(sessions: Any) -> None:
    """PostgreSQL's text cannot hold NUL: it is dropped there (SQLite keeps it)."""
    async with sessions() as session, session.begin():
        session.add(
            Activity(
                kind=ActivityKind.EVENT,
                title="Party\x00time",
                place="Via\x00Padova",
                starts_local=datetime(2030, 11, 24, 16, 30),
            )
        )
    async with sessions() as session:
        stored = (await session.exec(sqlmodel_select(Activity))).one()
    assert stored.title.replace("\x00", "") == "Partytime"
