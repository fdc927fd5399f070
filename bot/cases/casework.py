"""A case's life after the claim: messages both ways, waiting, release, close, notes, history."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.buttons import CloseCase
from bot.cases.claims import OPEN
from bot.cases.opening import STATUS_LABELS
from bot.i18n import N_, _, isolate
from bot.intake.flows import FLOWS
from bot.outgoing import Button, Reply, news
from db.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CaseOutcome,
    CaseStatus,
    Resident,
    Volunteer,
)

OUTCOMES: dict[str, str] = {
    CaseOutcome.RESOLVED: N_("Resolved"),
    CaseOutcome.REFERRED: N_("Referred elsewhere"),
    CaseOutcome.NOT_ELIGIBLE: N_("Not eligible"),
    CaseOutcome.NO_ANSWER: N_("No answer"),
}
MAX_NOTE = 2000


def parse_number(text: str) -> int | None:
    """A case id from what a volunteer types: "SP-00042", "sp-42", "#42" or "42"."""
    found = re.fullmatch(r"(?:sp-?|#)?0*(\d{1,9})", text.strip().lower())
    return int(found[1]) if found else None


async def held_by(session: AsyncSession, case_id: int | None, volunteer_id: int) -> Case | None:
    """The case, if it is open and this volunteer holds it (deny by default)."""
    if case_id is None:
        return None
    case = await session.get(Case, case_id)
    if case is None or case.claimed_by != volunteer_id or case.status not in OPEN:
        return None
    return case


async def record(
    session: AsyncSession, case: Case, actor: int | None, action: str, note: str | None = None
) -> None:
    assert case.id is not None
    session.add(CaseEvent(case_id=case.id, actor=actor, action=action, note=note))


async def release(session: AsyncSession, case: Case, volunteer_id: int | None) -> None:
    """Back to the queue: nobody holds it, and its card comes back with Claim."""
    case.status, case.claimed_by, case.claimed_at = CaseStatus.NEW, None, None
    case.card_message_id, case.card_posted_at, case.nudged_at = None, None, None
    await record(session, case, volunteer_id, "released")


async def wait_for_resident(session: AsyncSession, case: Case, volunteer_id: int) -> None:
    case.status = CaseStatus.WAITING
    await record(session, case, volunteer_id, "waiting")


async def close(
    session: AsyncSession, case: Case, volunteer_id: int, outcome: str, moment: datetime
) -> None:
    case.status, case.outcome, case.closed_at = CaseStatus.CLOSED, CaseOutcome(outcome), moment
    await record(session, case, volunteer_id, f"closed:{outcome}")


async def add_note(session: AsyncSession, case: Case, volunteer_id: int, text: str) -> None:
    await record(session, case, volunteer_id, "note", text[:MAX_NOTE])


async def message_passed(
    session: AsyncSession, case: Case, actor: int | None, from_resident: bool, moment: datetime
) -> None:
    """A message went through: the case is alive again, and back with its volunteer."""
    case.last_message_at, case.nudged_at = moment, None
    if from_resident and case.status == CaseStatus.WAITING:
        case.status = CaseStatus.CLAIMED
    await record(session, case, actor, "from_resident" if from_resident else "to_resident")


async def open_case_of(session: AsyncSession, resident: Resident) -> Case | None:
    """The resident's case that a volunteer is following, whose messages go to that volunteer."""
    statement = (
        select(Case)
        .where(Case.resident_id == resident.id, col(Case.status).in_(OPEN))
        .order_by(col(Case.claimed_at).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def remember_message(
    session: AsyncSession, chat_id: int, message_ids: list[int], case_id: int
) -> None:
    for message_id in message_ids:
        session.add(CaseMessage(chat_id=chat_id, message_id=message_id, case_id=case_id))


async def case_of_message(session: AsyncSession, chat_id: int, message_id: int) -> int | None:
    found = await session.get(CaseMessage, (chat_id, message_id))
    return found.case_id if found else None


async def cases_held(session: AsyncSession, volunteer_id: int) -> list[Case]:
    statement = (
        select(Case)
        .where(col(Case.claimed_by) == volunteer_id, col(Case.status).in_(OPEN))
        .order_by(col(Case.id))
    )
    return list((await session.exec(statement)).all())


async def history(session: AsyncSession, case: Case) -> list[CaseEvent]:
    statement = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    return list((await session.exec(statement)).all())


# -- what people read -------------------------------------------------------------------------


def header_for_volunteer(case: Case) -> str:
    return _("{number} · the resident writes:").format(number=isolate(case.number))


def header_for_resident(case: Case) -> str:
    return _("Message from your volunteer (request {number}):").format(number=isolate(case.number))


def closed_notice(case: Case) -> Reply:
    """To the resident, in their language."""
    text = _("Your request {number} is now closed. If you need help again, send /start.")
    return news(text.format(number=isolate(case.number)), i18n.current_language())


def outcome_question(case: Case) -> Reply:
    assert case.id is not None
    return Reply(
        _("How did request {number} end?").format(number=isolate(case.number)),
        tuple(
            (Button(_(label), CloseCase(case.id or 0, key).pack()),)
            for key, label in OUTCOMES.items()
        ),
    )


def list_held(cases: list[Case]) -> Reply:
    if not cases:
        return Reply(_("You are not following any request."))
    lines = [
        i18n.ngettext(
            "You follow {count} open request:", "You follow {count} open requests:", len(cases)
        ).format(count=len(cases))
    ]
    lines += [
        f"• {isolate(case.number)} · {_(FLOWS[case.kind].title)} · {_(_STATES[case.status])}"
        for case in cases
    ]
    return Reply("\n".join(lines))


# As a volunteer reads them: the same as the resident's, but for who is waiting for whom.
_STATES = {**STATUS_LABELS, CaseStatus.WAITING: N_("waiting for the resident's answer")}


def history_lines(events: list[CaseEvent], names: dict[int, str], zone: ZoneInfo) -> list[str]:
    """A case's history as organisers and its volunteer read it."""
    lines = []
    for event in events:
        who = names.get(event.actor, "") if event.actor is not None else _("the bot")
        what = _describe(event)
        when = i18n.format_when(event.at, zone)
        lines.append(f"• {when} · {isolate(who)} · {what}")
    return lines


def _describe(event: CaseEvent) -> str:
    action, _sep, detail = event.action.partition(":")
    labels = {
        "routed": N_("routed to its queue"),
        "posted": N_("card posted"),
        "claimed": N_("claimed"),
        "released": N_("released to the queue"),
        "waiting": N_("waiting for the resident"),
        "note": N_("note"),
        "from_resident": N_("message from the resident"),
        "to_resident": N_("message to the resident"),
        "nudged": N_("reminder sent"),
        "closed": N_("closed"),
    }
    text = _(labels.get(action, action))
    if detail in OUTCOMES:
        text += f" ({_(OUTCOMES[detail])})"
    if event.note:
        text += f": {event.note}"
    return text


async def volunteer_names(session: AsyncSession, events: list[CaseEvent]) -> dict[int, str]:
    ids = {event.actor for event in events if event.actor is not None}
    if not ids:
        return {}
    found = await session.exec(select(Volunteer).where(col(Volunteer.user_id).in_(ids)))
    return {volunteer.user_id: volunteer.name for volunteer in found.all()}
