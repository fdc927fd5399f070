"""The outbox's sender: a message that could not go now (the network, one person's rate
limit) is tried again soon, without waiting for other news; one person gets no more messages in
a row than their channel allows, and nobody else waits for them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.channel import Delivery, Outcome
from bot.outbox import sender
from bot.outgoing import Reply
from db.models import Outbox, OutboxStatus
from tests.conftest import Bot
from tests.factories import RecordingChannel, queued_news, resident


@dataclass
class Flaky(RecordingChannel):
    """Unavailable for the first `failures` messages, then delivers."""

    failures: int = 1

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        if self.failures > 0:
            self.failures -= 1
            return Delivery(Outcome.UNAVAILABLE)
        return await super().deliver(user_id, reply)


async def test_a_message_that_could_not_go_now_is_tried_again_soon(
    bot: Bot, sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "RETRY_SOON", 0.2)
    channel = Flaky()
    async with sessions() as session, session.begin():
        amina = await resident(session, "393331234567", channel="whatsapp")
        await queued_news(session, amina, "The food hub opens at 9 tomorrow.", datetime.now(UTC))
    async with bot.running(channels={"whatsapp": channel}):
        for _ in range(100):  # far less than the idle look's minute
            if channel.sent:
                break
            await asyncio.sleep(0.02)
    assert channel.sent == [("393331234567", "The food hub opens at 9 tomorrow.")]
    async with sessions() as session:
        row = (await session.exec(select(Outbox))).one()
    assert row.status == OutboxStatus.SENT


async def test_one_person_gets_no_more_than_their_limit_and_nobody_else_waits(
    bot: Bot, sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "RETRY_SOON", 0.1)
    channel = RecordingChannel(per_person=(2, 60.0))
    async with sessions() as session, session.begin():
        amina = await resident(session, "393331234567", channel="whatsapp")
        omar = await resident(session, "201001234567", channel="whatsapp")
        for n in range(3):
            await queued_news(session, amina, f"News {n} for Amina", datetime.now(UTC))
        await queued_news(session, omar, "News for Omar", datetime.now(UTC))
    async with bot.running(channels={"whatsapp": channel}):
        for _ in range(100):
            if len(channel.sent) == 3:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # looked at again, twice: still within her limit's minute
    assert channel.sent == [
        ("393331234567", "News 0 for Amina"),
        ("393331234567", "News 1 for Amina"),
        ("201001234567", "News for Omar"),
    ]
    async with sessions() as session:
        left = (
            await session.exec(select(Outbox).where(Outbox.status == OutboxStatus.QUEUED))
        ).all()
    assert [row.payload["text"] for row in left] == ["News 2 for Amina"]
