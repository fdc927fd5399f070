"""The resident's side of activities: what is on, one activity, leaving, the calendar file,
answers to reminders and /stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from bot import i18n
from bot.activities import calendar, enrolments
from bot.activities.schedule import description_in, title_in
from bot.activities.text import KIND_LABELS, describe_repeat
from bot.buttons import Agenda, Rsvp
from bot.i18n import _, isolate, ngettext
from bot.outgoing import Attachment, Button, Reply, Response
from bot.residents.conversation import Conversation
from db.models import Activity, ActivityKind, ActivityStatus, Enrolment, EnrolmentStatus

AHEAD = timedelta(days=60)  # how far ahead /activities looks
MAX_LISTED = 12


async def coming_up(convo: Conversation) -> list[tuple[Activity, datetime]]:
    """The running activities and their next date, soonest first."""
    moment = convo.clock()
    statement = (
        select(Activity).where(Activity.status == ActivityStatus.ACTIVE).order_by(col(Activity.id))
    )
    cancelled = await enrolments.called_off(convo.session)  # one query, not one per activity
    found = []
    for activity in (await convo.session.exec(statement)).all():
        assert activity.id is not None
        skipped = cancelled.get(activity.id, set())
        dates = enrolments.taking_place(
            activity, skipped, convo.settings.timezone, moment, moment + AHEAD
        )
        if dates:
            found.append((activity, dates[0]))
    return sorted(found, key=lambda pair: pair[1])[:MAX_LISTED]


async def listing(convo: Conversation) -> Reply:
    found = await coming_up(convo)
    if not found:
        return Reply(_("There is nothing planned at the moment. Please look again in a few days."))
    mine = {e.activity_id for e in await _enrolments_of(convo)}
    lines = [_("What is on in the coming weeks:")]
    buttons = []
    for number, (activity, when) in enumerate(found, 1):
        title = title_in(activity, i18n.current_language())
        when_text = i18n.format_occurrence(when, convo.settings.timezone)
        line = f"{i18n.numbered(number, title)} · {when_text}"
        if activity.id in mine:
            line += " · " + _("you are signed up")
        lines.append(line)
        buttons.append((Button(i18n.numbered(number, title), Agenda("show", activity.id).pack()),))
    lines.append(_("Tap one to see it and sign up."))
    return Reply("\n".join(lines), tuple(buttons))


async def activities_command(convo: Conversation) -> Response:
    """/activities: what is coming up."""
    return Response().say(await listing(convo))


async def details(convo: Conversation, activity: Activity) -> Reply:
    assert activity.id is not None
    zone = convo.settings.timezone
    language = i18n.current_language()
    moment = convo.clock()
    dates = await enrolments.upcoming(convo.session, activity, zone, moment, moment + AHEAD)
    lines = [isolate(title_in(activity, language)), _(KIND_LABELS[activity.kind])]
    description = description_in(activity, language)
    if description:
        lines.append(description)
    if dates:
        lines.append(_("Next: {when}").format(when=i18n.format_occurrence(dates[0], zone)))
    lines.append(describe_repeat(activity.repeat, activity.starts_local))
    if activity.place:
        lines.append(_("Where: {place}").format(place=isolate(activity.place)))
    if activity.age_min is not None and activity.age_max is not None:
        lines.append(_("Ages {low} to {high}").format(low=activity.age_min, high=activity.age_max))
    lines.append(await places_line(convo, activity))
    mine = [e for e in await _enrolments_of(convo) if e.activity_id == activity.id]
    buttons: list[tuple[Button, ...]] = []
    for enrolment in mine:
        lines.append(_status_line(enrolment))
        buttons.append(
            (
                Button(
                    _("Leave ({name})").format(name=enrolment.name),
                    Agenda("leave", enrolment.id).pack(),
                ),
            )
        )
    if not mine or activity.kind == ActivityKind.HOMEWORK:  # a parent may sign up another child
        buttons.insert(0, (Button(_("Sign up"), Agenda("join", activity.id).pack()),))
    buttons.append((Button(_("Add to calendar"), Agenda("ics", activity.id).pack()),))
    buttons.append((Button(_("« All activities"), Agenda("list").pack()),))
    return Reply("\n".join(lines), tuple(buttons))


async def places_line(convo: Conversation, activity: Activity) -> str:
    assert activity.id is not None
    taken = await enrolments.counts(convo.session, activity.id)
    free = taken.free(activity)
    if free is None:
        return _("Open to everyone.")
    if free == 0 or taken.waiting:
        return ngettext(
            "Full: {count} person is on the waiting list.",
            "Full: {count} people are on the waiting list.",
            taken.waiting,
        ).format(count=taken.waiting)
    return ngettext("{count} place left.", "{count} places left.", free).format(count=free)


def _status_line(enrolment: Enrolment) -> str:
    if enrolment.status == EnrolmentStatus.ENROLLED:
        return _("✓ {name} has a place.").format(name=isolate(enrolment.name))
    return _("{name} is on the waiting list.").format(name=isolate(enrolment.name))


async def _enrolments_of(convo: Conversation) -> list[Enrolment]:
    if convo.resident is None:
        return []
    return await enrolments.of_resident(convo.session, convo.resident)


async def running_activity(convo: Conversation, activity_id: int | None) -> Activity | None:
    """The activity a button names, if it exists and takes sign-ups (button data is untrusted)."""
    if activity_id is None:
        return None
    activity = await convo.session.get(Activity, activity_id)
    return activity if activity is not None and activity.status == ActivityStatus.ACTIVE else None


async def own_enrolment(convo: Conversation, enrolment_id: int | None) -> Enrolment | None:
    """The enrolment a button names, if it is this resident's (deny by default)."""
    if enrolment_id is None or convo.resident is None:
        return None
    enrolment = await convo.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.resident_id != convo.resident.id:
        return None
    return enrolment


async def leave(convo: Conversation, enrolment: Enrolment) -> Response:
    activity = await convo.session.get(Activity, enrolment.activity_id)
    assert activity is not None
    promoted = await enrolments.leave(convo.session, enrolment, convo.clock())
    title = isolate(title_in(activity, i18n.current_language()))
    done = _("Done: {name} no longer has a place in {title}.").format(
        name=isolate(enrolment.name), title=title
    )
    chosen = _("Leave ({name})").format(name=enrolment.name)
    response = Response(chosen=chosen, close_buttons=True, outbox_news=bool(promoted))
    return response.say(Reply(done))


async def calendar_file(convo: Conversation, activity: Activity) -> Response:
    assert activity.id is not None
    cancelled = await enrolments.cancelled(convo.session, activity.id)
    language, zone = i18n.current_language(), convo.settings.timezone
    content = calendar.ics(activity, language, zone, cancelled, convo.clock())
    text = _("Open this file to add {title} to your calendar.").format(
        title=isolate(title_in(activity, language))
    )
    return Response().say(
        Reply(text, attachment=Attachment(f"activity-{activity.id}.ics", content))
    )


async def rsvp(convo: Conversation, pressed: Rsvp) -> Response | None:
    """An answer to a reminder's "I'll come" / "I can't this time"; None if it is not theirs."""
    enrolment = await own_enrolment(convo, pressed.enrolment_id)
    if enrolment is None:
        return None
    coming = pressed.answer == "yes"
    await enrolments.answer(convo.session, enrolment, pressed.occurrence, coming, convo.clock())
    chosen = _("I'll come") if coming else _("I can't this time")
    thanks = _("Thank you, see you there!") if coming else _("Thank you for telling us.")
    return Response(chosen=chosen, close_buttons=True, notice=thanks)


async def stop(convo: Conversation) -> Response:
    """/stop: no more reminders or notices until /start."""
    resident = await convo.ensure_resident()
    resident.stopped = True
    return Response().say(
        Reply(
            _(
                "You will get no more reminders or notices from us. Your places in activities "
                "stay yours. Send /start to get them again."
            )
        )
    )
