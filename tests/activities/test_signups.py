"""Residents and activities, as transcripts: signing up, the waiting list, leaving, reminders
in each resident's language, answers to them, /stop, blocked residents and restarts."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from telegram.ext import Application

from bot import i18n
from bot.activities import enrolments
from db.models import Activity, ActivityKind, Enrolment, Outbox, Resident, Rsvp
from db.session import Sessions
from handlers.emulation.telegram import EmulatedBotAPI
from tests.clock import ROME, Clock, at
from tests.conftest import Bot
from tests.transcript import Person, said

TITLE = "Doposcuola 8-10 anni"


async def add_activities(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Activity(
                    kind=ActivityKind.HOMEWORK,
                    title=TITLE,
                    place="Via Stuparich 18",
                    starts_local=datetime(2027, 1, 5, 16, 30),  # Tuesdays
                    repeat="weekly",
                    duration_minutes=90,
                    capacity=6,
                    age_min=8,
                    age_max=10,
                ),
                Activity(
                    kind=ActivityKind.HOMEWORK,
                    title="Doposcuola medie",
                    starts_local=datetime(2027, 1, 7, 15, 0),
                    repeat="weekly",
                    capacity=6,
                    age_min=11,
                    age_max=13,
                ),
                Activity(
                    kind=ActivityKind.THEATRE,
                    title="Laboratorio teatrale",
                    starts_local=datetime(2027, 1, 8, 18, 0),
                    repeat="weekly",
                ),
            ]
        )


async def sign_up_child(person: Person, language: str, child: str, age: int) -> str:
    """/activities, the homework group, the child's name and age; what the bot says at the end."""
    person.says("/activities")
    await person.hears(said(language, "What is on in the coming weeks:"), TITLE)
    await person.taps(TITLE)
    await person.hears(TITLE)
    await person.taps(said(language, "Sign up"))
    await person.hears(said(language, "What is your child's first name?"))
    person.says(child)
    await person.hears(said(language, "How old is the child? Write the age in years, e.g. 9."))
    person.says(str(age))
    await person.hears(TITLE)
    await person.taps(TITLE)
    message = await person.hears(child, TITLE)
    return message.text or ""


ORGANISER = 9001


async def organiser_creates_the_group(org: Person) -> None:
    org.says("/newactivity")
    await org.hears("What kind of activity is it?")
    await org.taps("Homework group")
    await org.hears("Type its title")
    org.says(TITLE)
    await org.hears("Where does it take place?")
    org.says("Via Stuparich 18, Milano")
    await org.hears("Describe the activity")
    await org.taps("Skip")
    await org.hears("When is the first date?")
    org.says("05/01/2027 16:30")
    await org.hears("How often does it take place?")
    await org.taps("Every week")
    await org.hears("How long does it last?")
    await org.taps("90 minutes")
    await org.hears("How many places")
    org.says("6")
    await org.hears("Which ages")
    org.says("8-10")
    await org.hears("Please check the new activity", TITLE)
    await org.taps("Create")
    await org.hears(f"Created: {TITLE}")


async def test_seven_parents_for_six_places_one_leaves_and_the_seventh_is_told(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    clock = Clock("2027-01-04T10:00")  # a Monday
    org = Person(telegram, ORGANISER, "en")
    parents = [
        (Person(telegram, 2001 + n, language), language, child)
        for n, (language, child) in enumerate(
            [
                ("it", "Giulia"),
                ("it", "Marco"),
                ("ar", "Amina"),
                ("ar", "Youssef"),
                ("en", "Grace"),
                ("it", "Luca"),
                ("en", "Daniel"),
            ]
        )
    ]
    running = bot.running(clock=clock, organisers=frozenset({ORGANISER}))
    async with running as application:
        await organiser_creates_the_group(org)
        for parent, language, child in parents[:6]:
            await parent.is_ready(language)
            done = await sign_up_child(parent, language, child, 9)
            template = said(
                language,
                "Done: {name} has a place in {title}. We will remind you before each meeting.",
            )
            assert template.split("{name}")[0] in done and child in done
        seventh, language, child = parents[6]
        await seventh.is_ready(language)
        waiting = await sign_up_child(seventh, language, child, 9)
        assert "is full" in waiting and "number 1 on the waiting list" in waiting

        # Marco's parent gives up the place: Daniel, first on the waiting list, gets it.
        marco = parents[1][0]
        marco.says("/activities")
        await marco.hears(TITLE)
        await marco.taps(TITLE)
        await marco.hears("Marco")
        await marco.taps("Marco")
        await marco.hears("Marco", TITLE)
        await seventh.hears("Good news", "Daniel", TITLE)

        # A day before Tuesday 16:30, everyone with a place is reminded in their language.
        clock.set("2027-01-04T16:30", application)
        for parent, language, child in parents:
            if parent is marco:
                continue
            reminder = await parent.hears(said(language, "Reminder: {title}")[:6], child)
            with i18n.locale(language):
                when = i18n.format_occurrence(at("2027-01-05T16:30"), ROME)
            assert when in (reminder.text or "")
        await marco.hears_nothing_more()
        assert "martedì 5 gennaio 2027, 16:30" in _last(telegram, 2001)
        assert "الثلاثاء، 5 يناير 2027" in _last(telegram, 2003)
        assert "Tuesday, January 5, 2027, 4:30" in _last(telegram, 2005)

        giulia, amina = parents[0][0], parents[2][0]
        await giulia.taps("Ci sarò")
        await amina.taps(said("ar", "I can't this time"))
        await giulia.hears_nothing_more()

        # The organiser sees who comes, then calls off the next Tuesday: everyone is told.
        org.says("/activities")
        await org.hears("Activities:")
        await org.taps(TITLE)
        page = await org.hears("Places taken: 6 of 6", "Giulia (9 years) – ✓ coming")
        assert "Amina (9 years) – ✗ not coming" in (page.text or "")
        assert "Grace (9 years) – no answer yet" in (page.text or "")
        await org.taps("Cancel a date", on=page)
        dates = org.latest_with_buttons()
        assert "Which date" in (dates.text or "")
        await org.taps("Tuesday, January 12, 2027", on=dates)
        await org.hears("6 people will be told")
        for parent, language, _child in parents:
            if parent is marco:
                continue
            with i18n.locale(language):
                when = i18n.format_occurrence(at("2027-01-12T16:30"), ROME)
            await parent.hears(TITLE, when)
        await marco.hears_nothing_more()

    async with sessions() as session:
        answers = {
            enrolment.name: rsvp.coming
            for rsvp, enrolment in (
                await session.exec(select(Rsvp, Enrolment).join(Enrolment))
            ).all()
        }
        places = (await session.exec(select(Enrolment))).all()
    assert answers == {"Giulia": True, "Amina": False}
    assert sorted(e.name for e in places if e.status == "enrolled") == sorted(
        ["Giulia", "Amina", "Youssef", "Grace", "Luca", "Daniel"]
    )


def _last(telegram: EmulatedBotAPI, chat_id: int) -> str:
    return telegram.chats[chat_id][-1].text or ""


async def test_the_bot_offers_the_group_that_fits_the_age(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    ada = Person(telegram, 2101, "en")
    async with bot.running(clock=Clock("2027-01-04T10:00")):
        await ada.is_ready("en")
        ada.says("/activities")
        await ada.hears("Laboratorio teatrale", "Doposcuola medie", TITLE)
        await ada.taps(TITLE)
        await ada.hears("Ages 8 to 10", "6 places left")
        await ada.taps("Sign up")
        await ada.hears("first name")
        ada.says("Sam 2")
        await ada.hears("just a first name")
        await ada.hears("first name")
        ada.says("Sam")
        await ada.hears("How old")
        ada.sends_sticker()
        await ada.hears("I can only read text and buttons")
        await ada.hears("How old")
        ada.says("twelve")
        await ada.hears("number from 0 to 17")
        ada.says("12")
        await ada.hears("These groups are for age 12", "Doposcuola medie")
        assert ada.buttons() == ["Doposcuola medie", "Cancel"]
        await ada.taps("Doposcuola medie")
        await ada.hears("Done: Sam has a place in Doposcuola medie")
        await ada.taps("Add to calendar")
        await ada.hears("Open this file to add Doposcuola medie to your calendar")
        calendar = await ada.hears_file("activity-2.ics")
        assert b"RRULE:FREQ=WEEKLY" in calendar and b"TZID=Europe/Rome" in calendar
        assert b"DTSTAMP:20270104T090000Z" in calendar  # made at the bot's clock's time

        # A forged press on someone else's place, or on nothing, changes nothing.
        await ada.presses_data("a:leave:999")
        await ada.hears("What is on")
        await ada.presses_data("rsvp:1:20270105T1530Z:maybe")
        await ada.hears("What do you need help with?")

        ada.says("/activities")
        await ada.hears("Doposcuola medie · ", "you are signed up")
        await ada.taps("Laboratorio teatrale")
        await ada.hears("Open to everyone")
        await ada.taps("Sign up")
        await ada.hears("What name should we write on the list?")
        ada.says("Ada")
        await ada.hears("Done: Ada has a place in Laboratorio teatrale")


async def test_stop_silences_reminders_until_start(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-01-04T10:00")
    ada, bea = Person(telegram, 2201, "en"), Person(telegram, 2202, "en")
    async with bot.running(clock=clock) as application:
        for person, child in ((ada, "Ann"), (bea, "Bob")):
            await person.is_ready("en")
            await sign_up_child(person, "en", child, 8)
        ada.says("/stop")
        await ada.hears("no more reminders")
        clock.set("2027-01-04T16:30", application)
        await bea.hears("Reminder", "Bob")
        await ada.hears_nothing_more()
        ada.says("/start")
        await ada.hears("Reminders and notices are on again")
        await ada.hears("What do you need help with?")
        clock.set("2027-01-05T14:30", application)
        await ada.hears("Reminder", "Ann")
        await bea.hears("Reminder", "Bob")


async def test_a_resident_who_blocked_the_bot_is_not_tried_again(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-01-04T10:00")
    ada = Person(telegram, 2301, "en")
    async with bot.running(clock=clock) as application:
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
        telegram.block(ada.user.id)
        clock.set("2027-01-04T16:30", application)
        await _settled(application, sessions)
        clock.set("2027-01-05T14:30", application)
        await _settled(application, sessions)
    async with sessions() as session:
        resident = (await session.exec(select(Resident))).one()
        rows = (await session.exec(select(Outbox))).all()
    assert not resident.reachable
    assert [row.status for row in rows] == ["blocked"]


async def _settled(application: Application, sessions: Sessions) -> None:  # type: ignore[type-arg]
    """Wait until the check has run and the outbox holds nothing queued."""
    for _attempt in range(200):
        await application.bot_data.reminders.check()
        async with sessions() as session:
            queued = (await session.exec(select(Outbox).where(Outbox.status == "queued"))).all()
        if not queued:
            return
        await application.bot_data.outbox.drain()
    raise AssertionError("the outbox never emptied")


async def test_a_reminder_during_a_stop_goes_out_once_within_the_grace_window(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-01-04T10:00")
    ada = Person(telegram, 2401, "en")
    async with bot.running(clock=clock):
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
    # Stopped over Monday 16:30; started again 40 minutes later, then once more.
    clock.set("2027-01-04T17:10")
    async with bot.running(clock=clock):
        await ada.hears("Reminder", "Ann")
    async with bot.running(clock=clock):
        await ada.hears_nothing_more()
    # Stopped over Tuesday 14:30 and started two hours later: too late, skipped.
    clock.set("2027-01-05T16:45")
    async with bot.running(clock=clock) as application:
        await _settled(application, sessions)
        await ada.hears_nothing_more()
    async with sessions() as session:
        statuses = sorted(row.status for row in (await session.exec(select(Outbox))).all())
    assert statuses == ["sent", "skipped"]


async def test_reminders_keep_local_time_across_the_change_to_summer_time(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-03-22T10:00")
    ada = Person(telegram, 2501, "en")
    async with bot.running(clock=clock) as application:
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
        # Clocks go forward on Sunday 28 March: Tuesday 30 March is still at 16:30.
        clock.set("2027-03-22T16:30", application)
        first = await ada.hears("Reminder", "Tuesday, March 23, 2027, 4:30")
        await ada.taps("I'll come", on=first)
        clock.set("2027-03-29T16:29", application)
        await ada.hears_nothing_more()
        clock.set("2027-03-29T16:30", application)
        await ada.hears("Reminder", "Tuesday, March 30, 2027, 4:30")


async def test_cancelling_a_date_tells_everyone_with_a_place(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-01-04T10:00")
    ada, ali = Person(telegram, 2601, "en"), Person(telegram, 2602, "ar")
    async with bot.running(clock=clock) as application:
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
        await ali.is_ready("ar")
        await sign_up_child(ali, "ar", "Ali", 9)
        async with sessions() as session, session.begin():
            activity = await session.get(Activity, 1)
            assert activity is not None
            occurrence = at("2027-01-12T16:30")
            told = await enrolments.cancel_occurrence(session, activity, occurrence, clock())
        assert told == 2
        async with sessions() as session:
            queued = (await session.exec(select(Outbox.created_at))).all()
        assert {i18n.aware(stamp) for stamp in queued} == {clock()}  # queued at the clock's time
        application.bot_data.outbox.wake()
        await ada.hears("Doposcuola 8-10 anni on Tuesday, January 12, 2027", "cancelled")
        await ali.hears(TITLE, "12 يناير 2027")
        # No reminder for the cancelled date.
        clock.set("2027-01-11T16:30", application)
        await ada.hears_nothing_more()


async def test_mydata_shows_the_places_and_delete_gives_them_to_whoever_waits(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    async with sessions() as session, session.begin():
        activity = await session.get(Activity, 1)
        assert activity is not None
        activity.capacity = 1
    ada, bea = Person(telegram, 2701, "en"), Person(telegram, 2702, "en")
    async with bot.running(clock=Clock("2027-01-04T10:00")):
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
        await bea.is_ready("en")
        assert "number 1 on the waiting list" in await sign_up_child(bea, "en", "Bob", 9)

        ada.says("/mydata")
        await ada.hears("Activities you signed up for:", f"{TITLE}: Ann (8)")
        document = await ada.hears_document("my-data.json")
        assert document["activities"] == [
            {
                "activity": TITLE,
                "name": "Ann",
                "age": 8,
                "status": "enrolled",
                "since": "2027-01-04T09:00:00+00:00",
            }
        ]
        ada.says("/delete")
        await ada.hears("delete everything")
        await ada.taps("Yes, delete my data")
        await ada.hears("everything we kept about you has been deleted")
        await bea.hears("Good news", "Bob")
    async with sessions() as session:
        places = (await session.exec(select(Enrolment))).all()
    assert [(e.name, e.status) for e in places] == [("Bob", "enrolled")]


async def test_a_network_fault_or_a_429_delays_a_reminder_but_never_loses_or_repeats_it(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Sessions
) -> None:
    await add_activities(sessions)
    clock = Clock("2027-01-04T10:00")
    ada = Person(telegram, 2801, "en")
    async with bot.running(clock=clock) as application:
        await ada.is_ready("en")
        await sign_up_child(ada, "en", "Ann", 8)
        telegram.fail_next("sendMessage", 502)
        clock.set("2027-01-04T16:30", application)
        await ada.hears_nothing_more()
        application.bot_data.outbox.wake()  # the next look, a minute later at most
        await ada.hears("Reminder", "Ann")
        telegram.fail_next("sendMessage", 429)
        clock.set("2027-01-05T14:30", application)
        await ada.hears("Reminder", "Ann")  # Telegram's "retry after" waited out
        await ada.hears_nothing_more()
    async with sessions() as session:
        rows = (await session.exec(select(Outbox))).all()
    assert [row.status for row in rows] == ["sent", "sent"]
