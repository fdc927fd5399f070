"""The demo starts with the seed organisations' queues, people, activities and requests, and
the real bot serves them: the open request's card is in its group, volunteers find theirs.
Two of its residents write on WhatsApp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.activities.schedule import next_occurrence
from bot.config import Settings
from bot.demo import seed
from bot.outbox.reminders import next_reminder
from db.models import Activity, Case, CaseEvent, Consent, Enrolment, Queue, Resident, Volunteer
from db.session import Sessions
from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.transcript import Person

MOMENT = datetime(2030, 11, 25, 9, 0, tzinfo=UTC)


async def _seeded(settings: Settings, sessions: Sessions) -> Settings:
    """The demo's settings, its database seeded as at MOMENT."""
    demo = seed.demo_settings(settings)
    async with sessions() as session, session.begin():
        await seed.seed(session, demo, MOMENT)
    return demo


async def test_the_demo_starts_with_queues_people_activities_and_requests(
    settings: Settings, sessions
) -> None:
    demo = await _seeded(settings, sessions)
    async with sessions() as session:
        queues = sorted((q.name, q.chat_id) for q in (await session.exec(select(Queue))).all())
        volunteers = (await session.exec(select(Volunteer))).all()
        activities = (await session.exec(select(Activity).order_by(col(Activity.id)))).all()
        cases = (await session.exec(select(Case).order_by(col(Case.id)))).all()
        notes = (await session.exec(select(CaseEvent).where(CaseEvent.action == "note"))).all()
    assert queues == [("food", seed.FOOD_GROUP), ("housing", seed.HOUSING_GROUP)]
    assert sorted(v.name for v in volunteers) == ["Marco", "Sara", "Youssef"]
    homework = activities[0]
    assert (homework.title, homework.capacity, homework.age_min, homework.age_max) == (
        "Doposcuola 8-10 anni",
        6,
        8,
        10,
    )
    assert len(activities) == 5
    assert all(next_occurrence(a, demo.timezone, MOMENT) is not None for a in activities)
    assert [(c.kind, c.language, c.status) for c in cases] == [
        ("food", "ar", "new"),
        ("housing", "it", "claimed"),
        ("food", "en", "waiting"),
        ("housing", "ar", "closed"),
    ]
    assert [n.note for n in notes] == ["Udienza di sfratto il 12"]


async def test_the_whatsapp_residents_are_known_by_their_bsuid_and_number(
    settings: Settings, sessions
) -> None:
    await _seeded(settings, sessions)
    async with sessions() as session:
        residents = (
            await session.exec(select(Resident).where(Resident.channel == "whatsapp"))
        ).all()
        consents = (await session.exec(select(Consent))).all()
    assert sorted((r.channel_user_id, r.phone, r.language) for r in residents) == [
        ("EG.10000000000000101", "+201005550101", "ar"),
        ("PE.10000000000000102", "+51955501020", "it"),
    ]
    # They consented before the demo began; their 24 hours to write freely are long over.
    assert {c.resident_id for c in consents if c.accepted} >= {r.id for r in residents}
    assert all(r.last_inbound_at is None for r in residents)


async def test_the_demo_is_seeded_once_and_has_a_reminder_ahead(
    settings: Settings, sessions
) -> None:
    demo = seed.demo_settings(settings)
    async with sessions() as session, session.begin():
        assert await seed.seed_once(session, demo, MOMENT)
    async with sessions() as session, session.begin():
        assert not await seed.seed_once(session, demo, MOMENT)
        names = sorted(e.name for e in (await session.exec(select(Enrolment))).all())
        slot = await next_reminder(session, demo, MOMENT, timedelta(days=62))
        known = await seed.residents(session)
    assert names == ["Carmen", "John", "Luca", "Omar", "Yasmin"]
    assert slot is not None and slot.send_at > MOMENT
    telegram = [seed.Known("telegram", str(p.user_id), p.language) for p in seed.RESIDENTS]
    whatsapp = [
        seed.Known("whatsapp", p.bsuid, p.language, p.number) for p in seed.WHATSAPP_RESIDENTS
    ]
    assert sorted(known) == sorted(telegram + whatsapp)


async def test_the_bot_serves_the_demos_people(
    telegram: EmulatedBotAPI, bot: Bot, settings: Settings, sessions
) -> None:
    demo = await _seeded(settings, sessions)
    marco = Person(telegram, seed.VOLUNTEERS[0].user_id, "it")
    async with bot.running(
        organisers=demo.organisers, queues=demo.queues, default_language=demo.default_language
    ):
        card = await telegram.next_message(seed.FOOD_GROUP)
        assert "SP-00001" in (card.text or "") and card.reply_markup is not None
        marco.says("/mycases")
        await marco.hears("Segui 1 richiesta aperta:", "SP-00002")
        marco.says("/case 2")
        await marco.hears("Cronologia:", "Udienza di sfratto il 12")
