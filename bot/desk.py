"""What every handler needs, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from db.session import Sessions


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
