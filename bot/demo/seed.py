"""What the demo starts with, after the organisations it was made for: two queues of volunteers
("Sportello casa" and "Spesa solidale"), an organiser, their activities, and a few residents
with requests in several languages and states, so that the queues and histories are not empty.

The people are Telegram users of the demo's own emulated Bot API (ids no real user has), and
two residents who write on WhatsApp, to the demo's emulated Graph API (numbers of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import enrolments, schedule
from bot.cases import casework, claims, queues
from bot.cases.opening import open_case
from bot.cases.routing import QueueSettings
from bot.config import Settings
from bot.residents import privacy
from db.models import Activity, Case, CaseKind, Intake, Resident, Volunteer


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    language: str


HOUSING_GROUP, FOOD_GROUP = -1001000000101, -1001000000102
ORGANISER = Person(900001, "Giulia", "it")
VOLUNTEERS = (
    Person(900101, "Marco", "it"),
    Person(900102, "Sara", "en"),
    Person(900103, "Youssef", "ar"),
)
RESIDENTS = (
    Person(910001, "Amina", "ar"),
    Person(910002, "Rosa", "it"),
    Person(910003, "John", "en"),
    Person(910004, "Fatima", "ar"),
)
GROUP_TITLES = {HOUSING_GROUP: "Sportello casa", FOOD_GROUP: "Spesa solidale"}


@dataclass(frozen=True)
class WhatsAppPerson:
    """A resident on WhatsApp: the help desk knows them by the business-scoped user id (BSUID)
    WhatsApp gives it, and by their number where WhatsApp gives that too."""

    number: str  # the digits, the country's calling code first
    bsuid: str
    name: str
    language: str


WHATSAPP_RESIDENTS = (
    WhatsAppPerson("201005550101", "EG.10000000000000101", "Hoda", "ar"),  # from Egypt
    # From Peru: the number hints Spanish, which the demo does not speak; she chose Italian.
    WhatsAppPerson("51955501020", "PE.10000000000000102", "Carmen", "it"),
)


@dataclass(frozen=True, order=True)
class Known:
    """A resident already in the database, for the demo's page to show again."""

    channel: str  # "telegram" or "whatsapp"
    user_id: str  # as the channel knows them: a Telegram user id, a WhatsApp BSUID
    language: str | None
    number: str | None = None  # a WhatsApp resident's, in digits


def demo_settings(settings: Settings) -> Settings:
    """The deployment's settings with the demo's queues, organiser and Italian as the default."""
    everyone = frozenset(person.user_id for person in VOLUNTEERS)
    return replace(
        settings,
        default_language="it",
        organisers=frozenset({ORGANISER.user_id}),
        queues=(
            QueueSettings("housing", HOUSING_GROUP, everyone),
            QueueSettings("food", FOOD_GROUP, everyone),
        ),
    )


def activities(first_monday: datetime) -> list[dict[str, Any]]:
    """The spaces' activities, as an organiser's file would describe them."""

    def at(days: int, hour: int, minute: int = 0) -> str:
        moment = first_monday + timedelta(days=days)
        return moment.replace(hour=hour, minute=minute).strftime("%Y-%m-%dT%H:%M")

    return [
        {
            "kind": "homework",
            "title": "Doposcuola 8-10 anni",
            "place": "Via Stuparich 18, Milano",
            "start": at(1, 16, 30),
            "repeat": "weekly",
            "duration_minutes": 90,
            "capacity": 6,
            "ages": [8, 10],
            "description": "Compiti insieme, merenda compresa",
            "translations": {"ar": {"title": "مساعدة في الواجبات المدرسية 8-10 سنوات"}},
        },
        {
            "kind": "event",
            "title": "Laboratorio di lettura per bambini",
            "place": "Via Stuparich 18, Milano",
            "start": at(5, 10, 30),
            "repeat": "RRULE:FREQ=MONTHLY;BYDAY=1SA",
            "duration_minutes": 60,
            "capacity": 12,
        },
        {
            "kind": "theatre",
            "title": "Laboratorio di teatro",
            "place": "Via Stuparich 18, Milano",
            "start": at(3, 18, 0),
            "repeat": "weekly",
            "duration_minutes": 120,
            "capacity": 15,
        },
        {
            "kind": "event",
            "title": "Festa di quartiere in cortile",
            "place": "Via Stuparich 18, Milano",
            "start": at(6, 16, 0),
            "repeat": "RRULE:FREQ=MONTHLY;BYDAY=-1SU",
            "duration_minutes": 180,
        },
        {
            "kind": "meeting",
            "title": "Riunione della rete del Laboratorio di quartiere",
            "place": "Via Mompiani, Milano",
            "start": at(2, 18, 30),
            "repeat": "RRULE:FREQ=MONTHLY;BYDAY=2WE",
            "duration_minutes": 90,
        },
    ]


HOUSING = {
    "situation": "eviction",
    "household": 4,
    "children": 2,
    "district": "m6",
    "erp": "yes",
    "urgency": "days",
    "contact_time": "afternoon",
    "activities": "yes",
}
FOOD = {
    "household": 3,
    "children": 1,
    "ages": [7],
    "diet": ["halal"],
    "district": "m6",
    "urgency": "days",
}


async def seed_once(session: AsyncSession, settings: Settings, moment: datetime) -> bool:
    """Seed a database the demo has not seeded yet (a kept `--db` is seeded once); whether it
    seeded now."""
    if (await session.exec(select(Volunteer.user_id).limit(1))).first() is not None:
        return False
    await seed(session, settings, moment)
    return True


async def residents(session: AsyncSession) -> list[Known]:
    """The residents in the database: those seeded and those made on the page in an earlier run
    on the same `--db`. A WhatsApp resident whose number was erased cannot be written as."""
    statement = select(
        Resident.channel, Resident.channel_user_id, Resident.language, Resident.phone
    ).where(col(Resident.channel).in_(("telegram", "whatsapp")))
    known = []
    for channel, user_id, language, phone in await session.exec(statement):
        number = (phone or "").removeprefix("+") or None
        if channel == "whatsapp" and number is None:
            continue
        known.append(Known(channel, user_id, language, number))
    return known


async def seed(session: AsyncSession, settings: Settings, moment: datetime) -> None:
    """Fill an empty database with the demo's queues, people, activities and requests."""
    await queues.sync_from_config(session, settings, moment)
    volunteers = [await _volunteer(session, person) for person in VOLUNTEERS]
    first_monday = (moment - timedelta(days=moment.weekday())).replace(tzinfo=None)
    # The activities start the week after (before the first session, nobody could have signed up).
    await schedule.import_activities(session, activities(first_monday + timedelta(days=7)))
    amina, rosa, john, fatima = [await _resident(session, person) for person in RESIDENTS]
    hoda, carmen = [await _whatsapp_resident(session, person) for person in WHATSAPP_RESIDENTS]
    # Places taken, so that the first reminders have someone to go to.
    await _sign_up(session, "Doposcuola 8-10 anni", rosa, "Luca", 9, moment)
    await _sign_up(session, "Doposcuola 8-10 anni", amina, "Yasmin", 8, moment)
    await _sign_up(session, "Doposcuola 8-10 anni", hoda, "Omar", 10, moment)
    await _sign_up(session, "Festa di quartiere in cortile", john, "John", None, moment)
    await _sign_up(session, "Laboratorio di teatro", carmen, "Carmen", None, moment)
    # New, waiting for a volunteer: its card is in the group with Claim.
    await _request(session, settings, amina, CaseKind.FOOD, FOOD)
    # Taken by Marco, with a note for the team.
    taken = await _request(session, settings, rosa, CaseKind.HOUSING, HOUSING)
    await _claim(session, settings, taken, volunteers[0], moment)
    await casework.add_note(session, taken, volunteers[0].user_id, "Udienza di sfratto il 12")
    # Taken by Sara, waiting for the resident's answer.
    waiting = await _request(
        session, settings, john, CaseKind.FOOD, FOOD | {"diet": ["vegetarian"]}
    )
    await _claim(session, settings, waiting, volunteers[1], moment)
    await casework.wait_for_resident(session, waiting, volunteers[1].user_id)
    # Closed by Youssef: referred to the Municipio's social services.
    closed = await _request(
        session, settings, fatima, CaseKind.HOUSING, HOUSING | {"urgency": "weeks"}
    )
    await _claim(session, settings, closed, volunteers[2], moment)
    await casework.close(session, closed, volunteers[2].user_id, "referred", moment)


async def _sign_up(
    session: AsyncSession,
    title: str,
    resident: Resident,
    name: str,
    age: int | None,
    moment: datetime,
) -> None:
    activity = (await session.exec(select(Activity).where(Activity.title == title))).one()
    await enrolments.sign_up(session, activity, resident, name, age, moment)


async def _volunteer(session: AsyncSession, person: Person) -> Volunteer:
    return await claims.remember_volunteer(session, person.user_id, person.name, person.language)


async def _resident(session: AsyncSession, person: Person) -> Resident:
    resident = Resident(
        channel="telegram", channel_user_id=str(person.user_id), language=person.language
    )
    session.add(resident)
    await session.flush()
    privacy.record_consent(session, resident, accepted=True)
    return resident


async def _whatsapp_resident(session: AsyncSession, person: WhatsAppPerson) -> Resident:
    """A resident who wrote on WhatsApp before the demo began, longer ago than a day: until
    they write again, WhatsApp lets the help desk send them approved templates only."""
    resident = Resident(
        channel="whatsapp",
        channel_user_id=person.bsuid,
        language=person.language,
        phone=f"+{person.number}",
    )
    session.add(resident)
    await session.flush()
    privacy.record_consent(session, resident, accepted=True)
    return resident


async def _request(
    session: AsyncSession,
    settings: Settings,
    resident: Resident,
    flow: CaseKind,
    answers: dict[str, Any],
) -> Case:
    assert resident.id is not None
    intake = Intake(resident_id=resident.id, flow=flow, answers=dict(answers))
    session.add(intake)
    await session.flush()
    return await open_case(session, settings, resident, intake)


async def _claim(
    session: AsyncSession, settings: Settings, case: Case, volunteer: Volunteer, moment: datetime
) -> None:
    assert case.id is not None
    await claims.claim_case(session, case.id, volunteer, settings.max_open_cases, moment)
    await session.refresh(case)
