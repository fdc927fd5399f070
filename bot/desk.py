"""What every handler needs, built once by the composition root."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from db.models import now
from db.session import Sessions


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    # Cards are posted by one task at a time, so that no card is ever posted twice.
    posting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # What time it is for the schedule of reminders; tests move it instead of waiting.
    clock: Callable[[], datetime] = now
