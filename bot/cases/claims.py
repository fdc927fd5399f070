"""Taking up a case: the card volunteers see, the claim itself, and who is told what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.buttons import ClaimCase
from bot.i18n import _, isolate, ngettext
from bot.intake.flows import FLOWS, URGENCY
from bot.intake.questions import answer_lines, display_answer, option_label
from bot.outgoing import Button, Reply, news
from db.models import Case, CaseEvent, CaseStatus, Resident, Volunteer

OPEN = (CaseStatus.CLAIMED, CaseStatus.WAITING)  # states in which a case is someone's to follow


class Claim(Enum):
    WON = auto()
    TAKEN = auto()  # someone else was faster
    FULL = auto()  # the volunteer already holds as many open cases as allowed
    GONE = auto()  # no such case, or it is closed


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    case: Case | None = None
    holder: str | None = None  # who has it, when it was taken


def card(case: Case, moment: datetime, holder: str | None = None) -> Reply:
    """The case as its queue's group sees it: nothing that could identify the resident."""
    assert case.id is not None
    district = FLOWS[case.kind].step("district")
    urgency = next((o for o in URGENCY if o.key == case.urgency), None)
    waited = int((moment - i18n.aware(case.created_at)).total_seconds() // 3600)
    lines = [
        _("New request {number} · {kind}").format(
            number=isolate(case.number), kind=_(FLOWS[case.kind].title)
        ),
        _("District: {district}").format(
            district=display_answer(district, case.district) if district and case.district else "–"
        ),
        _("Language: {language}").format(language=isolate(i18n.language_name(case.language))),
        _("Urgency: {urgency}").format(urgency=option_label(urgency) if urgency else "–"),
        ngettext(
            "Household: {count} person", "Household: {count} people", case.household_size or 0
        ).format(count=case.household_size or 0),
        ngettext("Waiting for {count} hour", "Waiting for {count} hours", waited).format(
            count=waited
        ),
    ]
    if holder is not None:
        lines += ["", _("Taken by {name}.").format(name=isolate(holder))]
        return Reply("\n".join(lines))
    return Reply("\n".join(lines), ((Button(_("Claim"), ClaimCase(case.id or 0).pack()),),))


async def open_cases_of(session: AsyncSession, volunteer_id: int) -> int:
    statement = select(func.count()).where(
        col(Case.claimed_by) == volunteer_id, col(Case.status).in_(OPEN)
    )
    return int((await session.exec(statement)).one())


async def claim_case(
    session: AsyncSession, case_id: int, volunteer: Volunteer, cap: int, moment: datetime
) -> ClaimResult:
    """Take the case if nobody has: one conditional update, so the first press wins."""
    if await open_cases_of(session, volunteer.user_id) >= cap:
        return ClaimResult(Claim.FULL)
    taken = await session.exec(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.status) == CaseStatus.NEW)
        .values(status=CaseStatus.CLAIMED, claimed_by=volunteer.user_id, claimed_at=moment)
    )
    case = await session.get(Case, case_id, populate_existing=True)
    if taken.rowcount == 1 and case is not None:
        session.add(CaseEvent(case_id=case_id, actor=volunteer.user_id, action="claimed"))
        return ClaimResult(Claim.WON, case, volunteer.name)
    if case is None or case.status == CaseStatus.CLOSED or case.claimed_by is None:
        return ClaimResult(Claim.GONE, case)
    holder = await session.get(Volunteer, case.claimed_by)
    return ClaimResult(Claim.TAKEN, case, holder.name if holder else None)


async def remember_volunteer(
    session: AsyncSession, user_id: int, name: str, language: str | None
) -> Volunteer:
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is None:
        volunteer = Volunteer(user_id=user_id, name=name[:64], language=language)
        session.add(volunteer)
    else:
        volunteer.name, volunteer.language = name[:64], language
    await session.flush()
    return volunteer


async def volunteer_language(session: AsyncSession, user_id: int) -> str | None:
    volunteer = await session.get(Volunteer, user_id)
    return volunteer.language if volunteer else None


async def mark_reachable(session: AsyncSession, user_id: int) -> None:
    """The volunteer has a private chat with the bot: it can write to them from now on."""
    volunteer = await session.get(Volunteer, user_id)
    if volunteer is not None:
        volunteer.private_chat = True


async def details(session: AsyncSession, case: Case) -> Reply:
    """Everything the claimer needs, in their private chat with the bot."""
    flow = FLOWS[case.kind]
    lines = [
        _("You took request {number} · {kind}.").format(
            number=isolate(case.number), kind=_(flow.title)
        ),
        "",
        *answer_lines(case.kind, case.details),
        "",
        _("The resident writes in {language}.").format(
            language=isolate(i18n.language_name(case.language))
        ),
    ]
    resident = await session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None:
        lines.append(_("The resident has deleted their data: they can no longer be reached."))
    lines += [
        "",
        _(
            "Reply to this message, or to the resident's messages, to write to them. Also: "
            "/note {id} text (for the team only), /waiting {id}, /release {id}, /close {id}, "
            "/mycases."
        ).format(id=case.id),
    ]
    return Reply("\n".join(lines))


def resident_notice(case: Case) -> Reply:
    """Told to the resident, in their language, when a volunteer takes their request."""
    text = _(
        "Good news: a volunteer has taken up your request {number}. They will write to you here."
    )
    return news(text.format(number=isolate(case.number)), i18n.current_language())
