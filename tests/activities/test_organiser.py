"""Organisers create and run activities from their chat with the bot, as transcripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot import i18n
from bot.activities.text import describe_repeat, repeat_rule
from db.models import (
    Activity,
    ActivityKind,
    Draft,
    Enrolment,
    EnrolmentStatus,
    Outbox,
    Resident,
    Rsvp,
)
from db.session import Sessions
from handlers.emulation.telegram import EmulatedBotAPI
from tests.clock import Clock
from tests.conftest import Bot
from tests.transcript import Person

ORGANISER = 9001
ORGANISERS = frozenset({ORGANISER})
FIRST = datetime(2030, 11, 26, 16, 30)  # a Tuesday, local time in Rome
FIRST_SHOWN = "Tuesday, November 26, 2030, 4:30\u202fPM"
FIRST_UTC = datetime(2030, 11, 26, 15, 30, tzinfo=UTC)
STALE = "This button is no longer active."

# (name, child's age, the resident's Telegram id)
ALI, SARA, LUCA = ("Ali", 9, 5101), ("Sara", 8, 5102), ("Luca", 10, 5103)
OMAR, NINA = ("Omar", 10, 5104), ("Nina", 9, 5105)


async def homework_group(
    sessions: Sessions,
    capacity: int,
    enrolled: list[tuple[str, int, int]],
    waiting: list[tuple[str, int, int]] = [],  # noqa: B006 - never changed
    languages: dict[str, str] = {},  # noqa: B006 - never changed
) -> dict[str, int]:
    """A weekly homework group with people on it (in English unless `languages` says otherwise by
    name); their enrolment ids by name, and "activity"."""
    ids: dict[str, int] = {}
    async with sessions() as session, session.begin():
        activity = Activity(
            kind=ActivityKind.HOMEWORK,
            title="Doposcuola 8-10",
            place="Via Stuparich 18",
            starts_local=FIRST,
            repeat="weekly",
            duration_minutes=90,
            capacity=capacity,
            age_min=8,
            age_max=10,
        )
        session.add(activity)
        await session.flush()
        assert activity.id is not None
        ids["activity"] = activity.id
        people = [(person, EnrolmentStatus.ENROLLED) for person in enrolled]
        people += [(person, EnrolmentStatus.WAITING) for person in waiting]
        for n, ((name, age, user_id), status) in enumerate(people):
            language = languages.get(name, "en")
            resident = Resident(channel="telegram", channel_user_id=str(user_id), language=language)
            session.add(resident)
            await session.flush()
            assert resident.id is not None
            enrolment = Enrolment(
                activity_id=activity.id,
                resident_id=resident.id,
                name=name,
                age=age,
                status=status,
                created_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
            )
            session.add(enrolment)
            await session.flush()
            assert enrolment.id is not None
            ids[name] = enrolment.id
    return ids


async def open_page(org: Person, *fragments: str) -> None:
    org.says("/activities")
    await org.hears("Activities:")
    await org.taps("Doposcuola 8-10")
    await org.hears("Doposcuola 8-10", *fragments)


async def the_activity(sessions: Sessions) -> Activity:
    async with sessions() as session:
        return (await session.exec(select(Activity))).one()


async def outbox_rows(sessions: Sessions, kind: str) -> list[tuple[int, str]]:
    """(resident's Telegram id, status) of the outbox rows of a kind."""
    async with sessions() as session:
        statement = (
            select(Resident.channel_user_id, Outbox.status)
            .join(Resident, col(Resident.id) == col(Outbox.resident_id))
            .where(Outbox.kind == kind)
        )
        return sorted((int(user), status) for user, status in (await session.exec(statement)))


def test_monthly_on_the_same_weekday_counts_a_fifth_week_as_the_last() -> None:
    assert repeat_rule("weekday", FIRST) == "FREQ=MONTHLY;BYDAY=+4TU"
    assert repeat_rule("weekday", datetime(2030, 12, 3, 16, 30)) == "FREQ=MONTHLY;BYDAY=+1TU"
    assert repeat_rule("weekday", datetime(2030, 12, 31, 16, 30)) == "FREQ=MONTHLY;BYDAY=-1TU"
    assert repeat_rule("monthly", FIRST) == "monthly"
    with i18n.locale("en"):
        rule = "RRULE:FREQ=MONTHLY;BYDAY=1SA"  # as organisers write it in their files
        assert describe_repeat(rule, FIRST) == "Every month on the first Saturday"
        assert describe_repeat("FREQ=MONTHLY;BYDAY=-2MO", FIRST) == "FREQ=MONTHLY;BYDAY=-2MO"


async def test_an_organiser_creates_a_weekly_homework_group(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/newactivity")
        await org.hears("What kind of activity is it?")
        assert org.buttons() == [
            "Homework group",
            "Theatre lab",
            "Neighbourhood event",
            "Meeting",
            "✕ Cancel",
        ]
        await org.taps("Homework group")
        await org.hears("Type its title")
        org.says("Doposcuola 8-10 anni")
        await org.hears("Where does it take place?")
        org.says("Via Stuparich 18, Milano")
        await org.hears("Describe the activity in a few lines", "or tap Skip")
        assert org.buttons() == ["Skip", "✕ Cancel"]
        org.says("Bring your  homework and a snack.\n\n\n\nParents pick the children up at 18:00.")
        await org.hears("When is the first date?", "24/11/2026 16:30")
        org.says("26/11/2030 16:30")
        await org.hears("How often does it take place?")
        assert org.buttons() == [
            "Only once",
            "Every week",
            "Every month on the fourth Tuesday",
            "Every month on day 26",
            "✕ Cancel",
        ]
        await org.taps("Every week")
        await org.hears("How long does it last?")
        await org.taps("90 minutes")
        await org.hears("How many places", "at most 6 children")
        org.says("6")
        await org.hears("Which ages")
        org.says("8-10")
        summary = await org.hears("Please check the new activity", "Doposcuola 8-10 anni")
        for line in [
            "Bring your homework and a snack.",
            "Parents pick the children up at 18:00.",
            "Kind: Homework group",
            "Place: Via Stuparich 18, Milano",
            f"First date: {FIRST_SHOWN}",
            "Repeats: Every week",
            "Length: 90 minutes",
            "Places: 6",
            "Ages: 8–10",
        ]:
            assert line in (summary.text or "").splitlines()
        await org.taps("Create")
        await org.hears("Created: Doposcuola 8-10 anni")
        await org.hears_nothing_more()

    activity = await the_activity(sessions)
    assert (activity.kind, activity.title, activity.place) == (
        "homework",
        "Doposcuola 8-10 anni",
        "Via Stuparich 18, Milano",
    )
    assert activity.description == (
        "Bring your homework and a snack.\n\nParents pick the children up at 18:00."
    )
    assert activity.translations == {}
    assert (activity.starts_local, activity.repeat, activity.duration_minutes) == (
        FIRST,
        "weekly",
        90,
    )
    assert (activity.capacity, activity.age_min, activity.age_max, activity.status) == (
        6,
        8,
        10,
        "active",
    )
    async with sessions() as session:
        assert (await session.exec(select(Draft))).all() == []


async def test_a_meeting_is_created_without_a_description(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/newactivity")
        await org.hears("What kind")
        await org.taps("Meeting")
        await org.hears("Type its title")
        org.says("Assemblea di quartiere")
        await org.hears("Where")
        org.says("Piazza Leonardo da Vinci 1")
        await org.hears("Describe the activity")
        await org.taps("Skip")
        await org.hears("When is the first date?")
        org.says("26/11/2030 18:00")
        await org.hears("How often")
        await org.taps("Only once")
        await org.hears("How long")
        await org.taps("120 minutes")
        await org.hears("How many places")
        await org.taps("No limit")
        summary = await org.hears("Please check the new activity", "Assemblea di quartiere")
        lines = (summary.text or "").splitlines()
        assert lines[:3] == [
            "Please check the new activity:",
            "Assemblea di quartiere",
            "Kind: Meeting",
        ]
        await org.taps("Create")
        await org.hears("Created: Assemblea di quartiere")
    activity = await the_activity(sessions)
    assert (activity.kind, activity.description, activity.translations) == ("meeting", "", {})


async def test_an_identical_activity_is_not_created_twice(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    await homework_group(sessions, capacity=6, enrolled=[])
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/newactivity")
        await org.hears("What kind")
        await org.taps("Homework group")
        for question, answer in [
            ("What is the activity called?", "Doposcuola 8-10"),
            ("Where does it take place?", "Via Stuparich 18"),
        ]:
            await org.hears(question)
            org.says(answer)
        await org.hears("Describe the activity")
        await org.taps("Skip")
        await org.hears("When is the first date?")
        org.says("2030-11-26 16:30")
        await org.hears("How often")
        await org.taps("Only once")
        await org.hears("How long")
        await org.taps("60 minutes")
        await org.hears("How many places")
        await org.taps("No limit")
        await org.hears("Which ages")
        org.says("8 - 10")
        await org.hears("Please check the new activity", "Places: no limit", "Ages: 8–10")
        await org.taps("Create")
        await org.hears(
            "There is already an activity of this kind called “Doposcuola 8-10” starting then. "
            "Nothing was created."
        )
    async with sessions() as session:
        assert len((await session.exec(select(Activity))).all()) == 1
        assert (await session.exec(select(Draft))).all() == []


async def test_bad_answers_are_asked_again_and_change_nothing(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/newactivity")
        await org.hears("What kind of activity is it?")
        org.says("homework")
        await org.hears("Please tap one of the buttons.")
        await org.hears("What kind of activity is it?")
        await org.taps("Homework group")
        await org.hears("Type its title")
        org.sends_sticker()
        await org.hears("Please type it as text.")
        await org.hears("Type its title")
        org.says("x" * 5000)
        await org.hears("That is 5000 characters long: please keep it within 200.")
        await org.hears("Type its title")
        org.says("Doposcuola")
        await org.hears("Where")
        org.says("Via Stuparich 18")
        await org.hears("Describe the activity")
        org.says("x" * 1001)
        await org.hears("That is 1001 characters long: please keep it within 1000.")
        await org.hears("Describe the activity")
        org.sends_sticker()
        await org.hears("Please type it as text.")
        await org.hears("Describe the activity")
        org.says("For children from 8 to 10.")
        await org.hears("When is the first date?")
        for wrong, answer in [
            ("tomorrow at five", "I could not read that date"),
            ("31/02/2031 16:30", "I could not read that date"),
            ("01/01/2020 16:30", "That moment has already passed"),
        ]:
            org.says(wrong)
            await org.hears(answer)
            await org.hears("When is the first date?")
        org.says("2030-11-26 16:30")
        await org.hears("How often")
        await org.taps("Every week")
        await org.hears("How long")
        org.says("a while")
        await org.hears("in minutes, e.g. 90")
        await org.hears("How long")
        org.says("75")
        await org.hears("How many places")
        for wrong in ["abc", "0", "-3"]:
            org.says(wrong)
            await org.hears("Please type the number of places")
            await org.hears("How many places")
        org.says("6")
        await org.hears("Which ages")
        for wrong in ["10-8", "8-30", "eight"]:
            org.says(wrong)
            await org.hears("Please type the ages like 8-10")
            await org.hears("Which ages")

        async with sessions() as session:
            draft = (await session.exec(select(Draft))).one()
        assert draft.step == "ages"
        assert draft.data == {
            "kind": "homework",
            "title": "Doposcuola",
            "place": "Via Stuparich 18",
            "description": "For children from 8 to 10.",
            "when": "2030-11-26T16:30:00",
            "repeat": "weekly",
            "duration": 75,
            "capacity": 6,
        }

        org.says("/cancel")
        await org.hears("Cancelled: nothing was saved.")
        # With nothing in progress, what an organiser writes is a resident's message.
        org.says("hello")
        await org.hears("Which language do you want to use?")
    async with sessions() as session:
        assert (await session.exec(select(Draft))).all() == []
        assert (await session.exec(select(Activity))).all() == []


async def test_stale_and_forged_presses_and_strangers_change_nothing(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ids = await homework_group(sessions, capacity=6, enrolled=[ALI])
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/newactivity")
        question = await org.hears("What kind of activity is it?")
        keyboard = (question.reply_markup or {})["inline_keyboard"]
        homework, meeting = keyboard[0][0]["callback_data"], keyboard[3][0]["callback_data"]
        await org.taps("Neighbourhood event")
        await org.hears("Type its title")
        revision = homework.split(":")[2]
        for forged in [
            meeting,  # the old question's button, pressed again
            f"o:d:{int(revision) + 1}:kind:homework",  # the right revision, not the step's
            f"o:d:{revision}:create",
            "o:d:abc:kind:homework",
            f"o:a:{ids['activity'] + 1}:pause",
            f"o:a:{ids['activity']}:skip:20300101T0000Z",
            f"o:a:{ids['activity']}:explode",
            "o:zzz",
        ]:
            await org.presses_data(forged, on=question)
            assert org.notices[-1] == STALE, forged
        await org.hears_nothing_more()
        async with sessions() as session:
            draft = (await session.exec(select(Draft))).one()
        assert (draft.step, draft.data) == ("title", {"kind": "event"})

        stranger = Person(telegram, 7001, "en")
        stranger.says("/newactivity")
        answer = await stranger.hears("I don't know that command.")
        await stranger.hears("What this bot does")
        for forged in [f"o:a:{ids['activity']}:endyes", f"o:a:{ids['activity']}:pause"]:
            await stranger.presses_data(forged, on=answer)
            assert stranger.notices[-1] == STALE
        await stranger.hears_nothing_more()
        # The organiser's own draft buttons, pressed by someone else, do nothing either.
        await stranger.presses_data(f"o:d:{int(revision) + 1}:cancel", on=question)
        assert stranger.notices[-1] == STALE
    assert (await the_activity(sessions)).status == "active"
    async with sessions() as session:
        assert len((await session.exec(select(Draft))).all()) == 1
        assert (await session.exec(select(Outbox))).all() == []


async def test_the_list_and_an_activitys_page_show_who_comes_and_who_waits(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ids = await homework_group(sessions, 3, enrolled=[ALI, SARA, LUCA], waiting=[OMAR, NINA])
    async with sessions() as session, session.begin():
        session.add(Rsvp(enrolment_id=ids["Ali"], occurrence=FIRST_UTC, coming=True))
        session.add(Rsvp(enrolment_id=ids["Sara"], occurrence=FIRST_UTC, coming=False))
        # An answer for another date says nothing about the next one.
        later = FIRST_UTC + timedelta(days=7)
        session.add(Rsvp(enrolment_id=ids["Luca"], occurrence=later, coming=True))
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        org.says("/activities")
        await org.hears(f"• Doposcuola 8-10 · active · next: {FIRST_SHOWN}")
        await org.taps("Doposcuola 8-10")
        page = await org.hears(
            "Status: active",
            f"Next: {FIRST_SHOWN}",
            "Places taken: 3 of 3",
            "On the waiting list: 2",
            "Signed up:\n"
            "1. Ali (9 years) – ✓ coming\n"
            "2. Sara (8 years) – ✗ not coming\n"
            "3. Luca (10 years) – no answer yet",
            "Waiting:\n1. Omar (10 years)\n2. Nina (9 years)",
        )
        assert org.buttons(page) == [
            "⏸ Pause",
            "Cancel a date",
            "Change",
            "Cancel the activity",
            "« All activities",
        ]

        await org.taps("Pause", on=page)
        assert org.notices[-1] == "Paused: no reminders, and residents no longer see it."
        assert "Status: paused" in (page.text or "")
        assert (await the_activity(sessions)).status == "paused"
        await org.taps("Resume", on=page)
        assert "Status: active" in (page.text or "")
        assert (await the_activity(sessions)).status == "active"
        await org.taps("All activities", on=page)
        assert "Doposcuola 8-10 · active" in (page.text or "")
        await org.hears_nothing_more()


async def test_more_places_go_to_the_waiting_list_and_fewer_remove_no_one(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ids = await homework_group(sessions, capacity=1, enrolled=[ALI], waiting=[OMAR, NINA])
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        omar, nina = Person(telegram, OMAR[2], "en"), Person(telegram, NINA[2], "en")
        await open_page(org, "Places taken: 1 of 1", "On the waiting list: 2")
        await org.taps("Change")
        await org.hears("What do you want to change in Doposcuola 8-10?")
        await org.taps("Places")
        await org.hears("How many places")
        org.says("lots")
        await org.hears("Please type the number of places")
        await org.hears("How many places")
        org.says("2")
        await org.hears("Saved.", "1 person from the waiting list got a place and will be told.")
        await org.hears("Places taken: 2 of 2", "2. Omar (10 years)", "Waiting:\n1. Nina")
        await omar.hears("a place has become free in Doposcuola 8-10, and it is yours (Omar)")
        await nina.hears_nothing_more()

        await org.taps("Change")
        await org.hears("What do you want to change")
        await org.taps("Places")
        await org.hears("How many places")
        org.says("1")
        await org.hears("Saved.", "2 people are signed up, more than the places: nobody is removed")
        await org.hears("Places taken: 2 of 1")
    async with sessions() as session:
        statuses = dict((await session.exec(select(Enrolment.name, Enrolment.status))).all())
    assert statuses == {"Ali": "enrolled", "Omar": "enrolled", "Nina": "waiting"}
    assert (await the_activity(sessions)).capacity == 1
    assert await outbox_rows(sessions, "promoted") == [(OMAR[2], "sent")]
    assert ids["Omar"] > 0


async def test_a_new_time_or_place_is_told_to_everyone_signed_up_or_waiting(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    await homework_group(sessions, capacity=1, enrolled=[ALI], waiting=[OMAR])
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        ali, omar = Person(telegram, ALI[2], "en"), Person(telegram, OMAR[2], "en")
        await open_page(org)
        await org.taps("Change")
        await org.hears("What do you want to change")
        await org.taps("Date and time")
        await org.hears("Type the new first date and time")
        org.says("28/11/2030 17:00")
        await org.hears("Saved.", "2 people signed up will be told.")
        await org.hears("Next: Thursday, November 28, 2030, 5:00\u202fPM")
        for person in (ali, omar):
            await person.hears(
                "Doposcuola 8-10 has changed.",
                "Next: Thursday, November 28, 2030, 5:00\u202fPM",
                "Where: Via Stuparich 18",
            )
        await org.taps("Change")
        await org.hears("What do you want to change")
        await org.taps("Title")
        await org.hears("Type the new title")
        org.says("Doposcuola 8-10 del giovedì")
        await org.hears("Saved.")
        await ali.hears_nothing_more()  # a new title alone is not worth a message


ARABIC_TITLE = "مجموعة الواجبات المدرسية"
ARABIC_DESCRIPTION = "أحضروا واجباتكم المدرسية."


async def test_an_arabic_text_written_through_change_is_what_arabic_residents_read(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    await homework_group(sessions, capacity=6, enrolled=[])
    languages = ("it", "en", "ar")
    async with bot.running(
        organisers=ORGANISERS, clock=Clock("2030-11-20T10:00"), languages=languages
    ):
        org = Person(telegram, ORGANISER, "en")
        await open_page(org)
        await org.taps("Change")
        await org.hears("What do you want to change in Doposcuola 8-10?")
        assert org.buttons() == [
            "Title",
            "Description",
            "Place",
            "Date and time",
            "Places",
            "In another language",
            "✕ Cancel",
        ]
        await org.taps("Description")
        await org.hears("Type the new description.")
        assert org.buttons() == ["✕ Cancel"]  # there is none to remove yet
        org.says("x" * 1500)
        await org.hears("That is 1500 characters long: please keep it within 1000.")
        await org.hears("Type the new description.")
        org.says("Bring your homework.")
        await org.hears("Saved.")
        await org.hears("Doposcuola 8-10\nBring your homework.\nStatus: active")

        await org.taps("Change")
        await org.hears("What do you want to change")
        await org.taps("In another language")
        # The default language (Italian here) is the main text: the others are offered.
        await org.hears("In which language do you want to write Doposcuola 8-10?")
        assert org.buttons() == ["English", "العربية", "✕ Cancel"]
        await org.taps("العربية")
        await org.hears("Type the title in العربية, or tap Skip.")
        org.says("x" * 201)
        await org.hears("That is 201 characters long: please keep it within 200.")
        await org.hears("Type the title in العربية, or tap Skip.")
        org.says(ARABIC_TITLE)
        await org.hears("Type the description in العربية, or tap Skip.")
    # The title waits in the draft while the bot restarts.
    async with bot.running(organisers=ORGANISERS, clock=Clock("2030-11-20T10:00")):
        org.says(ARABIC_DESCRIPTION)
        await org.hears("Saved.")
        await org.hears("Doposcuola 8-10\nBring your homework.\nAlso written in: العربية")

        amina = Person(telegram, 5201, "ar")
        await amina.is_ready("ar")
        amina.says("/activities")
        await amina.hears(ARABIC_TITLE)
        await amina.taps(ARABIC_TITLE)
        await amina.hears(ARABIC_TITLE, ARABIC_DESCRIPTION)

    activity = await the_activity(sessions)
    assert activity.description == "Bring your homework."
    assert activity.translations == {
        "ar": {"title": ARABIC_TITLE, "description": ARABIC_DESCRIPTION}
    }
    async with sessions() as session:
        assert (await session.exec(select(Draft))).all() == []


async def test_skipping_every_text_in_a_language_removes_it_and_old_buttons_do_nothing(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    ids = await homework_group(sessions, capacity=6, enrolled=[])
    async with sessions() as session, session.begin():
        activity = await session.get(Activity, ids["activity"])
        assert activity is not None
        activity.description = "Bring your homework."
        activity.translations = {
            "ar": {"title": ARABIC_TITLE, "description": ARABIC_DESCRIPTION},
            "en": {"title": "Homework club"},
        }
    async with bot.running(organisers=ORGANISERS, languages=("it", "en", "ar")):
        org = Person(telegram, ORGANISER, "en")
        await open_page(org, "Bring your homework.", "Also written in: العربية and English")
        await org.taps("Change")
        await org.hears("What do you want to change")
        await org.taps("In another language")
        picker = await org.hears("In which language")
        arabic = (picker.reply_markup or {})["inline_keyboard"][1][0]["callback_data"]
        await org.taps("العربية")
        await org.hears("Type the title in العربية", f"Now: {ARABIC_TITLE}")
        await org.taps("Skip")
        await org.hears("Type the description in العربية", f"Now: {ARABIC_DESCRIPTION}")
        await org.taps("Skip")
        await org.hears("Saved.")
        page = await org.hears("Also written in: English")
        assert "العربية" not in (page.text or "")
        await org.presses_data(arabic, on=picker)  # the language's button, pressed again
        assert org.notices[-1] == STALE

        await org.taps("Change", on=page)
        await org.hears("What do you want to change")
        await org.taps("Description")
        await org.hears("Type the new description.")
        await org.taps("Remove the description")
        await org.hears("Saved.")
        page = await org.hears("Doposcuola 8-10\nAlso written in: English\nStatus: active")

    async with bot.running(organisers=ORGANISERS, languages=("en",), default_language="en"):
        # With one language only, there is no other to write in, even with a forged press.
        await open_page(org)
        await org.taps("Change")
        fields = await org.hears("What do you want to change")
        assert "In another language" not in org.buttons(fields)
        title = (fields.reply_markup or {})["inline_keyboard"][0][0]["callback_data"]
        await org.presses_data(title.replace("field:title", "field:language"), on=fields)
        assert org.notices[-1] == STALE

    activity = await the_activity(sessions)
    assert (activity.description, activity.translations) == ("", {"en": {"title": "Homework club"}})


async def test_a_cancelled_date_is_told_to_everyone_with_a_place(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    await homework_group(
        sessions, capacity=2, enrolled=[ALI, SARA], waiting=[OMAR], languages={"Sara": "it"}
    )
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        ali, omar = Person(telegram, ALI[2], "en"), Person(telegram, OMAR[2], "en")
        sara = Person(telegram, SARA[2], "it")
        await open_page(org, f"Next: {FIRST_SHOWN}")
        await org.taps("Cancel a date")
        dates = org.latest_with_buttons()
        assert "Which date of Doposcuola 8-10 do you want to cancel?" in (dates.text or "")
        assert org.buttons(dates) == [
            FIRST_SHOWN,
            "Tuesday, December 3, 2030, 4:30\u202fPM",
            "Tuesday, December 10, 2030, 4:30\u202fPM",
            "Tuesday, December 17, 2030, 4:30\u202fPM",
            "Tuesday, December 24, 2030, 4:30\u202fPM",
            "« Back",
        ]
        first = (dates.reply_markup or {})["inline_keyboard"][0][0]["callback_data"]
        await org.taps(FIRST_SHOWN, on=dates)
        await org.hears(f"Doposcuola 8-10 on {FIRST_SHOWN} is cancelled. 2 people will be told.")
        await ali.hears(f"Doposcuola 8-10 on {FIRST_SHOWN} is cancelled. We are sorry.")
        # Whatever the title's gender, the sentence agrees with "incontro".
        await sara.hears(
            "Doposcuola 8-10: l'incontro di martedì 26 novembre 2030, 16:30 è annullato. "
            "Ci dispiace."
        )
        await omar.hears_nothing_more()
        await org.presses_data(first, on=dates)  # the same date again
        assert org.notices[-1] == STALE
        await open_page(org, "Next: Tuesday, December 3, 2030, 4:30\u202fPM")
    assert await outbox_rows(sessions, "occurrence_cancelled") == [
        (ALI[2], "sent"),
        (SARA[2], "sent"),
    ]


async def test_cancelling_the_activity_tells_everyone_and_takes_it_off_the_list(
    telegram: EmulatedBotAPI, bot: Bot, sessions
) -> None:
    await homework_group(
        sessions, capacity=2, enrolled=[ALI, SARA], waiting=[OMAR], languages={"Sara": "it"}
    )
    async with bot.running(organisers=ORGANISERS):
        org = Person(telegram, ORGANISER, "en")
        omar, sara = Person(telegram, OMAR[2], "en"), Person(telegram, SARA[2], "it")
        await open_page(org)
        await org.taps("Cancel the activity")
        confirm = org.latest_with_buttons()
        text = "Cancel Doposcuola 8-10 for good? 3 people signed up or waiting will be told."
        assert confirm.text == text
        await org.taps("No, keep it", on=confirm)
        assert (await the_activity(sessions)).status == "active"
        await org.taps("Cancel the activity", on=confirm)
        await org.taps("Yes, cancel", on=confirm)
        await org.hears("Doposcuola 8-10 is cancelled. 3 people will be told.")
        await omar.hears("Doposcuola 8-10 has been cancelled. We are sorry.")
        await sara.hears("Doposcuola 8-10: l'attività è stata annullata. Ci dispiace.")
        org.says("/activities")
        await org.hears("There are no activities. Create one with /newactivity.")
    assert (await the_activity(sessions)).status == "cancelled"
    rows = await outbox_rows(sessions, "activity_cancelled")
    assert [user for user, _status in rows] == [ALI[2], SARA[2], OMAR[2]]


async def test_organisers_find_their_commands_in_the_menu(
    telegram: EmulatedBotAPI, bot: Bot
) -> None:
    async with bot.running(organisers=ORGANISERS, default_language="en"):
        scope = json.dumps({"chat_id": ORGANISER, "type": "chat"}, sort_keys=True)
        menu = telegram.commands[(scope, "")]
        everyone = telegram.commands[(json.dumps({"type": "default"}), "")]
    assert [command["command"] for command in menu][:2] == ["newactivity", "activities"]
    assert menu[0]["description"] == "Create an activity"
    assert "newactivity" not in [command["command"] for command in everyone]
