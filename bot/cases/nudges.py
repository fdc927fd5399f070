"""Nudges: a case nobody took is posted again, a quiet case reminds its volunteer.

What is due is read from the cases' own timestamps, and a nudge is recorded in the same
transaction that finds it due: a restart neither forgets a nudge nor sends one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.claims import OPEN
from bot.config import Settings
from db.models import Case, CaseEvent, CaseStatus


@dataclass(frozen=True)
class Repost:
    case_id: int
    queue: str
    old_card: int | None


@dataclass(frozen=True)
class Reminder:
    case_id: int
    volunteer_id: int


async def take_unclaimed(
    session: AsyncSession, settings: Settings, moment: datetime
) -> list[Repost]:
    """Cases unclaimed for too long, now marked to be posted again."""
    cutoff = moment - settings.unclaimed_after
    due = (
        await session.exec(
            select(Case).where(
                Case.status == CaseStatus.NEW,
                col(Case.card_posted_at).is_not(None),
                col(Case.card_posted_at) <= cutoff,
            )
        )
    ).all()
    reposts = []
    for case in due:
        assert case.id is not None and case.queue is not None
        reposts.append(Repost(case.id, case.queue, case.card_message_id))
        case.card_message_id, case.card_posted_at, case.nudged_at = None, None, moment
        session.add(CaseEvent(case_id=case.id, action="nudged", at=moment))
    return reposts


async def take_stalled(
    session: AsyncSession, settings: Settings, moment: datetime
) -> list[Reminder]:
    """Claimed cases with no message for too long, now marked as reminded."""
    cutoff = moment - settings.stalled_after
    quiet_since = func.coalesce(col(Case.last_message_at), col(Case.claimed_at))
    due = (
        await session.exec(
            select(Case).where(
                col(Case.status).in_(OPEN),
                quiet_since <= cutoff,
                or_(col(Case.nudged_at).is_(None), col(Case.nudged_at) <= cutoff),
            )
        )
    ).all()
    reminders = []
    for case in due:
        assert case.id is not None and case.claimed_by is not None
        reminders.append(Reminder(case.id, case.claimed_by))
        case.nudged_at = moment
        session.add(CaseEvent(case_id=case.id, action="nudged", at=moment))
    return reminders
