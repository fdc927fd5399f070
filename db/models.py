"""The data model of the help desk: residents, their consents, intakes in progress and cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


def _timestamp(**kwargs: Any) -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), **kwargs))


class Resident(SQLModel, table=True):
    """A person who writes to the bot, known only by their channel's id for them."""

    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # "telegram" or "whatsapp"
    channel_user_id: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=8)  # None until they pick one
    created_at: datetime = _timestamp(nullable=False)


class Consent(SQLModel, table=True):
    """A resident's answer to the privacy notice of a given version (refusals are kept too)."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True, ondelete="CASCADE")
    version: str = Field(max_length=16)
    accepted: bool
    answered_at: datetime = _timestamp(nullable=False)


class Intake(SQLModel, table=True):
    """The intake a resident is answering: saved with every answer, so a restart loses nothing."""

    resident_id: int = Field(foreign_key="resident.id", primary_key=True, ondelete="CASCADE")
    flow: str = Field(max_length=16)  # "housing" or "food"
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    path: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    editing: str | None = Field(default=None, max_length=32)  # step changed from the summary
    draft: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confirming_cancel: bool = False
    revision: int = 0  # bumped by every change; buttons carry it so stale presses are refused
    started_at: datetime = _timestamp(nullable=False)


class Case(SQLModel, table=True):
    """A confirmed request for help. Erasing the resident keeps only the statistical columns."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(
        default=None, foreign_key="resident.id", index=True, ondelete="SET NULL"
    )
    kind: str = Field(max_length=16)  # "housing" or "food"
    status: str = Field(default="new", max_length=16)
    language: str = Field(max_length=8)
    district: str | None = Field(default=None, max_length=16)
    urgency: str | None = Field(default=None, max_length=16)
    household_size: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _timestamp(nullable=False)
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def number(self) -> str:
        """The reference a resident and the volunteers quote."""
        return f"SP-{self.id:05d}"


class SeenUpdate(SQLModel, table=True):
    """An inbound update already handled; a re-delivered one is dropped instead of applied twice."""

    channel: str = Field(primary_key=True, max_length=16)
    update_key: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = _timestamp(nullable=False, index=True)
