"""Cases: a confirmed intake becomes a case the volunteers can take up."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases import queues
from bot.config import Settings
from bot.i18n import N_
from db.models import Case, CaseStatus, Intake, Resident

# TRANSLATORS: the state of a resident's request, shown after its number and kind.
STATUS_LABELS = {
    CaseStatus.NEW: N_("waiting for a volunteer"),
    CaseStatus.CLAIMED: N_("a volunteer is handling it"),
    CaseStatus.WAITING: N_("waiting for your answer"),
    CaseStatus.CLOSED: N_("closed"),
}


async def open_case(
    session: AsyncSession, settings: Settings, resident: Resident, intake: Intake
) -> Case:
    """Turn a confirmed intake into a new case for a queue, in the caller's transaction."""
    answers = intake.answers
    case = Case(
        resident_id=resident.id,
        kind=intake.flow,
        language=resident.language or "",
        channel=resident.channel,
        district=answers.get("district"),
        urgency=answers.get("urgency"),
        household_size=answers.get("household"),
        details=dict(answers),
    )
    session.add(case)
    await session.delete(intake)
    await session.flush()
    await queues.route(session, settings, case)
    return case


async def cases_of(session: AsyncSession, resident: Resident) -> list[Case]:
    statement = select(Case).where(Case.resident_id == resident.id).order_by(col(Case.id))
    return list((await session.exec(statement)).all())
