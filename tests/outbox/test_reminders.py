"""When reminders fall due: offsets in local time, quiet hours, the grace window, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n
from bot.config import Settings
from bot.outbox import notices, reminders
from db.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Enrolment,
    Outbox,
    OutboxKind,
    Resident,
)
from db.session import Sessions

ROME = ZoneInfo("Europe/Rome")
QUIET = (time(21, 0), time(8, 0))


def rome(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


@pytest.mark.parametrize(
    ("occurrence", "offset", "expected"),
    [
        # The night the clocks go forward (29 March 2027) and back (31 October 2027):
        # a day before 16:30 is 16:30, not 15:30 or 17:30.
        ("2027-03-29T16:30", timedelta(hours=24), "2027-03-28T16:30"),
        ("2027-11-01T16:30", timedelta(hours=24), "2027-10-31T16:30"),
        ("2027-03-30T16:30", timedelta(hours=2), "2027-03-30T14:30"),
        # Inside the quiet hours: moved earlier, to when they begin.
        ("2027-01-12T09:00", timedelta(hours=2), "2027-01-11T21:00"),
        ("2027-01-12T23:30", timedelta(hours=2), "2027-01-12T21:00"),
        ("2027-01-12T10:00", timedelta(hours=24), "2027-01-11T10:00"),
        # At the very edge of the quiet hours nothing moves.
        ("2027-01-12T23:00", timedelta(hours=2), "2027-01-12T21:00"),
        ("2027-01-12T10:00", timedelta(hours=2), "2027-01-12T08:00"),
    ],
)
def test_send_time_counts_local_time_and_keeps_out_of_the_quiet_hours(
    occurrence: str, offset: timedelta, expected: str
) -> None:
    moment = reminders.send_time(rome(occurrence), offset, ROME, QUIET)
    assert moment.astimezone(ROME) == rome(expected)


def test_without_quiet_hours_a_night_reminder_stays_at_night() -> None:
    moment = reminders.send_time(rome("2027-01-12T09:00"), timedelta(hours=2), ROME, None)
    assert moment.astimezone(ROME) == rome("2027-01-12T07:00")


def test_a_quiet_window_within_one_day_moves_to_its_start() -> None:
    lunch = (time(13, 0), time(15, 0))
    moment = reminders.send_time(rome("2027-01-12T16:00"), timedelta(hours=2), ROME, lunch)
    assert moment.astimezone(ROME) == rome("2027-01-12T13:00")


async def _weekly_group(sessions: Sessions, people: int) -> int:
    async with sessions() as session, session.begin():
        activity = Activity(
            kind=ActivityKind.THEATRE,
            title="Laboratorio",
            starts_local=datetime(2027, 1, 5, 16, 30),
            repeat="weekly",
        )
        session.add(activity)
        await session.flush()
        assert activity.id is not None
        for number in range(people):
            resident = Resident(channel="telegram", channel_user_id=str(1000 + number))
            session.add(resident)
            await session.flush()
            assert resident.id is not None
            session.add(
                Enrolment(
                    activity_id=activity.id,
                    resident_id=resident.id,
                    name=f"P{number}",
                    enrolled_at=datetime(2027, 1, 1, tzinfo=UTC),
                )
            )
        return activity.id


async def _check(sessions: Sessions, moment: datetime) -> reminders.Checked:
    async with sessions() as session, session.begin():
        return await reminders.queue_due(session, Settings(), moment, timedelta(minutes=10))


async def _outbox(sessions: Sessions) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.exec(select(Outbox).order_by(Outbox.key))).all())


async def test_a_due_reminder_is_queued_once_however_often_it_is_found(
    sessions: Sessions,
) -> None:
    await _weekly_group(sessions, people=3)
    # Tuesday 12 January 2027 16:30: the 24-hour reminder is due on Monday 16:30.
    before = await _check(sessions, rome("2027-01-11T16:29"))
    assert (before.queued, before.skipped) == (0, 0)
    assert before.next_at == rome("2027-01-11T16:30")
    first = await _check(sessions, rome("2027-01-11T16:30"))
    again = await _check(sessions, rome("2027-01-11T16:45"))
    assert (first.queued, again.queued) == (3, 0)
    rows = await _outbox(sessions)
    assert [row.status for row in rows] == ["queued"] * 3
    assert {row.payload["occurrence"] for row in rows} == {"20270112T1530Z"}


async def test_a_reminder_found_after_the_grace_window_is_skipped_once(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    await _weekly_group(sessions, people=2)
    late = await _check(sessions, rome("2027-01-11T18:00"))  # 1.5 hours after its time
    again = await _check(sessions, rome("2027-01-11T18:10"))
    assert (late.queued, late.skipped, again.skipped) == (0, 2, 0)
    assert [row.status for row in await _outbox(sessions)] == ["skipped", "skipped"]
    assert "skipped 2 reminders" in caplog.text
    assert "P0" not in caplog.text


async def test_nobody_is_reminded_of_a_date_they_chose_after_the_reminder(
    sessions: Sessions,
) -> None:
    activity_id = await _weekly_group(sessions, people=1)
    async with sessions() as session, session.begin():
        enrolment = (await session.exec(select(Enrolment))).one()
        enrolment.enrolled_at = rome("2027-01-11T17:00")
        assert enrolment.activity_id == activity_id
    assert (await _check(sessions, rome("2027-01-11T17:05"))).queued == 0
    # The two-hour reminder, on Tuesday at 14:30, is theirs.
    assert (await _check(sessions, rome("2027-01-12T14:30"))).queued == 1


async def test_stopped_and_unreachable_residents_get_no_reminders(sessions: Sessions) -> None:
    await _weekly_group(sessions, people=3)
    async with sessions() as session, session.begin():
        stopped, blocked, _keen = (await session.exec(select(Resident))).all()
        stopped.stopped = True
        blocked.reachable = False
    assert (await _check(sessions, rome("2027-01-11T16:30"))).queued == 1


async def test_paused_activities_send_no_reminders(sessions: Sessions) -> None:
    await _weekly_group(sessions, people=2)
    async with sessions() as session, session.begin():
        (await session.exec(select(Activity))).one().status = ActivityStatus.PAUSED
    assert (await _check(sessions, rome("2027-01-11T16:30"))).queued == 0


def test_a_queued_reminder_of_a_date_called_off_since_is_not_sent() -> None:
    activity = Activity(
        id=1, kind=ActivityKind.THEATRE, title="Lab", starts_local=datetime(2027, 1, 5, 16, 30)
    )
    row = Outbox(
        key="reminder:1:20270105T1530Z:1440",
        resident_id=1,
        kind=OutboxKind.REMINDER,
        payload={"activity": 1, "enrolment": 1, "occurrence": "20270105T1530Z", "name": "Ann"},
    )
    moment = rome("2027-01-04T16:30")
    with i18n.locale("en"):
        reply = notices.render(row, activity, ROME, moment)
        assert reply is not None and "Reminder: Lab" in reply.text
        assert [b.label for b in reply.buttons[0]] == ["I'll come", "I can't this time"]
        called_off = {datetime(2027, 1, 5, 15, 30, tzinfo=UTC)}
        assert notices.render(row, activity, ROME, moment, called_off) is None
        assert notices.render(row, activity, ROME, rome("2027-01-05T16:30")) is None
        activity.status = ActivityStatus.PAUSED
        assert notices.render(row, activity, ROME, moment) is None
