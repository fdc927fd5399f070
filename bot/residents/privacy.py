"""Consent, and a resident's rights over their data: see all of it, erase all of it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.activities import enrolments
from bot.buttons import EraseData, GiveConsent
from bot.cases.opening import STATUS_LABELS, cases_of
from bot.clock import now
from bot.i18n import _, isolate
from bot.intake.flows import FLOWS
from bot.intake.questions import answer_lines
from bot.outgoing import Attachment, Button, Reply
from db.models import (
    Activity,
    Case,
    CaseEvent,
    Consent,
    Enrolment,
    Intake,
    Resident,
)

# Bump when the text of the privacy notice changes in substance: consents record it.
NOTICE_VERSION = "2026-11"
_SUB_BULLET = "    –"  # answers listed under the request they belong to


def notice() -> Reply:
    text = "\n\n".join(
        [
            _("Before we start, a few words about your data."),
            _(
                "To help you, the volunteers need a few answers about your situation. We use "
                "them only for your request. We never ask about your nationality, documents, "
                "religion or health. Only the volunteer who takes your request sees your answers."
            ),
            _("You can see everything we keep with /mydata and delete it with /delete."),
            _("Do you agree?"),
        ]
    )
    return Reply(
        text,
        (
            (Button(_("Yes, I agree"), GiveConsent(NOTICE_VERSION, "yes").pack()),),
            (Button(_("No, thank you"), GiveConsent(NOTICE_VERSION, "no").pack()),),
        ),
    )


async def has_consented(session: AsyncSession, resident: Resident) -> bool:
    """Whether the resident's latest answer to the current notice is yes."""
    statement = (
        select(Consent)
        .where(Consent.resident_id == resident.id, Consent.version == NOTICE_VERSION)
        .order_by(col(Consent.id).desc())
        .limit(1)
    )
    latest = (await session.exec(statement)).first()
    return bool(latest and latest.accepted)


def record_consent(session: AsyncSession, resident: Resident, accepted: bool) -> None:
    assert resident.id is not None
    session.add(Consent(resident_id=resident.id, version=NOTICE_VERSION, accepted=accepted))


async def export(session: AsyncSession, resident: Resident, zone: ZoneInfo) -> Reply:
    """Everything stored about the resident: readable text plus a JSON document."""
    consents = (await session.exec(select(Consent).where(Consent.resident_id == resident.id))).all()
    intake = await session.get(Intake, resident.id)
    cases = await cases_of(session, resident)
    places = await _places(session, resident)
    document = {
        "resident": {
            "channel": resident.channel,
            "user_id": resident.channel_user_id,
            "phone": resident.phone,
            "language": resident.language,
            "first_contact": _iso(resident.created_at),
        },
        "consents": [
            {"version": c.version, "accepted": c.accepted, "at": _iso(c.answered_at)}
            for c in consents
        ],
        "intake_in_progress": (
            {"kind": intake.flow, "answers": intake.answers} if intake else None
        ),
        "cases": [
            {
                "number": case.number,
                "kind": case.kind,
                "status": case.status,
                "opened": _iso(case.created_at),
                "answers": case.details,
            }
            for case in cases
        ],
        "activities": [
            {
                "activity": activity.title,
                "name": enrolment.name,
                "age": enrolment.age,
                "status": enrolment.status,
                "since": _iso(enrolment.created_at),
            }
            for enrolment, activity in places
        ],
        "reminders_stopped": resident.stopped,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return Reply(
        _readable(resident, consents, intake, cases, zone) + _readable_places(places),
        attachment=Attachment("my-data.json", content),
    )


def _readable(
    resident: Resident,
    consents: Sequence[Consent],
    intake: Intake | None,
    cases: list[Case],
    zone: ZoneInfo,
) -> str:
    lines = [
        _("This is everything we keep about you:"),
        "",
        _("• Account: {channel} {user_id}").format(
            channel=resident.channel.capitalize(), user_id=isolate(resident.channel_user_id)
        ),
        *(
            [_("• Phone number: {phone}").format(phone=isolate(resident.phone))]
            if resident.phone
            else []
        ),
        _("• Language: {language}").format(
            language=isolate(i18n.language_name(resident.language or "en"))
        ),
        _("• First contact: {date}").format(
            date=i18n.format_day(i18n.local_date(resident.created_at, zone))
        ),
    ]
    for consent in consents:
        # TRANSLATORS: the resident's answer to the privacy notice.
        answer = _("accepted") if consent.accepted else _("declined")
        lines.append(
            _("• Privacy notice {version}: {answer} on {date}").format(
                version=isolate(consent.version),
                answer=answer,
                date=i18n.format_day(i18n.local_date(consent.answered_at, zone)),
            )
        )
    if intake is not None:
        lines.append(_("• Unfinished request: {kind}").format(kind=_(FLOWS[intake.flow].title)))
        lines.extend(answer_lines(intake.flow, intake.answers, _SUB_BULLET))
    for case in cases:
        lines.append(
            _("• Request {number} ({kind}), {status}").format(
                number=isolate(case.number),
                kind=_(FLOWS[case.kind].title),
                status=_(STATUS_LABELS.get(case.status, case.status)),
            )
        )
        lines.extend(answer_lines(case.kind, case.details, _SUB_BULLET))
    lines += ["", _("The attached file holds the same data in a form other programs can read.")]
    return "\n".join(lines)


async def _places(session: AsyncSession, resident: Resident) -> list[tuple[Enrolment, Activity]]:
    statement = (
        select(Enrolment, Activity)
        .join(Activity, col(Activity.id) == col(Enrolment.activity_id))
        .where(Enrolment.resident_id == resident.id)
        .order_by(col(Enrolment.id))
    )
    return list((await session.exec(statement)).all())


def _readable_places(places: list[tuple[Enrolment, Activity]]) -> str:
    if not places:
        return ""
    lines = ["", _("Activities you signed up for:")]
    for enrolment, activity in places:
        age = "" if enrolment.age is None else f" ({enrolment.age})"
        lines.append(f"• {isolate(activity.title)}: {isolate(enrolment.name)}{age}")
    return "\n".join(lines)


def _iso(moment: datetime) -> str:
    return i18n.aware(moment).isoformat(timespec="seconds")


def ask_erase() -> Reply:
    return Reply(
        _(
            "Do you want us to delete everything we keep about you? Your answers, your "
            "language and your consent will be erased. This cannot be undone."
        ),
        (
            (Button(_("Yes, delete my data"), EraseData("yes").pack()),),
            (Button(_("No, keep it"), EraseData("no").pack()),),
        ),
    )


async def erase(session: AsyncSession, resident: Resident, moment: datetime | None = None) -> None:
    """Erase the resident; their cases stay for statistics without any personal field.

    `moment` comes from the conversation's clock; without it (older callers), the wall clock.
    """
    moment = moment or now()
    theirs = select(Case.id).where(col(Case.resident_id) == resident.id)
    # Volunteers' notes are about the resident: they go too; who did what, when, stays.
    await session.exec(
        update(CaseEvent).where(col(CaseEvent.case_id).in_(theirs)).values(note=None)
    )
    await session.exec(
        update(Case)
        .where(col(Case.resident_id) == resident.id)
        .values(resident_id=None, details={}, erased_at=moment)
    )
    # Their places go to whoever waits for them; the rest of their rows go with them.
    for enrolment in await enrolments.of_resident(session, resident):
        await enrolments.leave(session, enrolment, moment)
    await session.exec(delete(Intake).where(col(Intake.resident_id) == resident.id))
    await session.exec(delete(Consent).where(col(Consent.resident_id) == resident.id))
    await session.delete(resident)
