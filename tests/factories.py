"""Rows the tests start from, built the way the help desk builds them, and a channel that
records what it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.opening import open_case
from bot.channel import Copy, Delivery, Outcome
from bot.config import Settings
from bot.outgoing import Reply, Template
from db.models import Case, CaseKind, Intake, Outbox, OutboxKind, Resident

HOUSING_ANSWERS: dict[str, Any] = {
    "situation": "eviction",
    "household": 3,
    "children": 1,
    "district": "m5",
    "erp": "yes",
    "urgency": "days",
    "contact_time": "evening",
    "activities": "no",
}


async def resident(
    session: AsyncSession, user_id: str, *, channel: str = "telegram", language: str = "en"
) -> Resident:
    found = Resident(channel=channel, channel_user_id=user_id, language=language)
    session.add(found)
    await session.flush()
    return found


async def housing_case(session: AsyncSession, settings: Settings, asker: Resident) -> Case:
    """A confirmed housing request of `asker`, routed to its queue as the intake's end does."""
    assert asker.id is not None
    intake = Intake(resident_id=asker.id, flow=CaseKind.HOUSING, answers=dict(HOUSING_ANSWERS))
    session.add(intake)
    await session.flush()
    return await open_case(session, settings, asker, intake)


async def queued_news(session: AsyncSession, asker: Resident, text: str, moment: datetime) -> None:
    """News for a resident waiting in the outbox, as one held back for their window leaves it."""
    assert asker.id is not None
    session.add(
        Outbox(
            key=f"news:{asker.id}:{text}",
            resident_id=asker.id,
            kind=OutboxKind.NEWS,
            payload={"text": text},
            created_at=moment,
        )
    )


@dataclass
class RecordingChannel:
    """A residents' channel that records every message and answers with `outcome`."""

    outcome: Outcome = Outcome.DELIVERED
    per_second: float = 80.0
    window: timedelta | None = None  # e.g. WhatsApp's 24 hours
    per_person: tuple[int, float] | None = None  # e.g. WhatsApp's pair rate limit
    # The purposes it has an approved template for (when it has a window).
    templates: tuple[str, ...] = ("reminder", "broadcast", "volunteer_wrote")
    sent: list[tuple[str, str]] = field(default_factory=list)  # (user id, text)

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        if self.outcome is Outcome.DELIVERED:
            self.sent.append((user_id, reply.text))
        return Delivery(self.outcome, (len(self.sent),))

    async def deliver_template(self, user_id: str, template: Template) -> Delivery:
        """Recorded as "[purpose] value | value"."""
        if template.purpose not in self.templates:
            return Delivery(Outcome.WINDOW_CLOSED)
        if self.outcome is Outcome.DELIVERED:
            self.sent.append((user_id, f"[{template.purpose}] {' | '.join(template.values)}"))
        return Delivery(self.outcome, (len(self.sent),))

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        if self.outcome is Outcome.DELIVERED:
            self.sent.append((user_id, f"{header}\n[copy of message {copy.message_id}]"))
        return Delivery(self.outcome, (len(self.sent),))

    def texts_to(self, user_id: str) -> list[str]:
        return [text for to, text in self.sent if to == user_id]
