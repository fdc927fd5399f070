"""What every handler needs, built once by the composition root."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel import Channel, Roster
from bot.clock import Clock, now
from bot.config import Settings
from bot.lease import Leadership
from bot.metrics import Metrics
from db.session import Sessions


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    # The channels residents write on, by the name kept in Resident.channel.
    channels: Mapping[str, Channel]
    # Where volunteers, organisers and the queues' groups are: Telegram.
    staff: Channel
    # Who belongs to each queue's group.
    roster: Roster
    # What /metrics shows.
    metrics: Metrics = field(default_factory=Metrics)
    # Cards are posted by one task at a time, so that no card is ever posted twice.
    posting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The one clock of the services (see bot.clock); tests pass one they move instead of waiting.
    clock: Clock = now
    # The lease of the work done once for the whole deployment (the outbox's sending, reminders,
    # nudges, cards), which several serve workers share; None: this process does all of it.
    leadership: Leadership | None = None

    def leads(self) -> bool:
        """Whether this process does the work done once for the whole deployment."""
        return self.leadership is None or self.leadership.sure()
