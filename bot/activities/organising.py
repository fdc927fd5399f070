"""What organisers do with activities in their chat: the list, and the buttons of a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot import buttons, i18n
from bot.activities import change as activity_change
from bot.activities import enrolments
from bot.activities import form as activity_form
from bot.activities.form import Turn, stale
from bot.activities.page import activity_list, next_dates, page
from bot.broadcasts import chat as broadcast_chat
from bot.broadcasts import report as broadcast_report
from bot.buttons import ActivityAction, AllActivities, DraftPress, StopBroadcast
from bot.desk import Desk
from bot.i18n import N_, _, isolate, ngettext, pgettext
from bot.outgoing import Button, Reply, Response
from bot.residents.conversation import Sender, first_delivery, in_turn
from db.models import Activity, ActivityStatus, DraftForm

DATES_OFFERED = 5
# What organisers find in their command menu, besides what residents find there.
COMMANDS = (
    ("newactivity", N_("Create an activity")),
    ("activities", N_("Your activities: who comes, changes, cancellations")),
    ("broadcast", N_("Send a notice to residents")),
    ("broadcasts", N_("Your broadcasts: how they went, or stop one")),
    ("stats", N_("What the help desk did: a chart and a few figures")),
    ("export", N_("All requests as a spreadsheet file, without names")),
)


async def press(turn: Turn, data: str) -> Response:
    """An organiser's button; its data is untrusted, and anything stale changes nothing."""
    pressed = buttons.parse(data)
    if isinstance(pressed, AllActivities):
        return Response(edit=await activity_list(turn))
    if isinstance(pressed, StopBroadcast):
        return await _stop_broadcast(turn, pressed.broadcast_id)
    if isinstance(pressed, DraftPress):
        draft = turn.draft
        if draft is None or draft.revision != pressed.revision:
            return stale()
        if draft.form == DraftForm.BROADCAST:
            return await broadcast_chat.press(turn, draft, pressed)
        if draft.activity_id is None:
            return await activity_form.press(turn, draft, pressed)
        return await activity_change.press(turn, draft, pressed)
    if not isinstance(pressed, ActivityAction):
        return stale()
    activity = await enrolments.lock(turn.session, pressed.activity_id)
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return stale()
    return await _act(turn, activity, pressed.action, pressed.occurrence)


Action = Callable[[Turn], Awaitable[Response]]


async def act(
    desk: Desk, sender: Sender, update_key: str, language: str, action: Action
) -> Response | None:
    """Apply one organiser's action in its own committed transaction, in their language; None
    when the update was seen before. The response says whether reminders or the outbox have
    news, to be told only once it is committed."""
    async with desk.sessions() as session, session.begin():
        await in_turn(session, sender)
        if not await first_delivery(session, sender.channel, update_key):
            return None
        settings = desk.settings
        others = tuple(code for code in settings.languages if code != settings.default_language)
        user_id = int(sender.user_id)
        turn = await activity_form.begin_turn(
            session, user_id, settings.timezone, desk.clock(), others, settings.default_language
        )
        with i18n.locale(language):
            response = await action(turn)
    response.schedule_changed = turn.schedule_changed
    response.outbox_news = response.outbox_news or turn.notices_queued
    return response


async def drafting(desk: Desk, user_id: int) -> bool:
    """Whether the organiser is in the middle of writing an activity or a broadcast."""
    async with desk.sessions() as session:
        return await activity_form.drafting(session, user_id)


async def answer(turn: Turn, text: str | None) -> Response:
    """What the organiser typed (None: not text) for the draft in progress."""
    draft = turn.draft
    assert draft is not None
    if draft.form == DraftForm.BROADCAST:
        return await broadcast_chat.type_text(turn, draft, text)
    if draft.activity_id is None:
        return activity_form.type_text(turn, draft, text)
    return await activity_change.answer(turn, draft, text)


async def cancel(turn: Turn) -> Response:
    return await activity_form.abandon(turn)


# -- the list and the pages --------------------------------------------------------------------


async def show_activities(turn: Turn) -> Response:
    """/activities: every activity not cancelled, with its next date, one button each."""
    return Response().say(await activity_list(turn))


# -- broadcasts ---------------------------------------------------------------------------------


async def show_broadcasts(turn: Turn) -> Response:
    """/broadcasts: the latest ones, each with how it went, the newest last."""
    reports = await broadcast_report.latest(turn.session)
    if not reports:
        return Response().say(Reply(_("No broadcasts yet: /broadcast writes one.")))
    return Response().say(*(broadcast_report.describe(r, turn.zone) for r in reversed(reports)))


async def _stop_broadcast(turn: Turn, broadcast_id: int) -> Response:
    if await broadcast_report.stop(turn.session, broadcast_id, turn.moment) is None:
        return stale()
    report = await broadcast_report.report_of(turn.session, broadcast_id)
    assert report is not None
    return Response(edit=broadcast_report.describe(report, turn.zone), notice=_("Stopped."))


# -- what can be done to an activity -----------------------------------------------------------


async def _act(
    turn: Turn, activity: Activity, action: str, occurrence: datetime | None
) -> Response:
    """One button of an activity's page, the activity locked and still there."""
    if action == "view":
        return Response().say(await page(turn, activity))
    if action == "back":
        return Response(edit=await page(turn, activity))
    if action in ("pause", "resume"):
        return await _pause(turn, activity, paused=action == "pause")
    if action == "dates":
        return await _dates(turn, activity)
    if action == "skip" and occurrence is not None:
        return await _skip(turn, activity, occurrence)
    if action == "change":
        return activity_change.begin(turn, activity)
    if action == "end":
        return await _ask_end(turn, activity)
    if action == "endyes":
        return await _end(turn, activity)
    return stale()


async def _pause(turn: Turn, activity: Activity, paused: bool) -> Response:
    if activity.status != (ActivityStatus.ACTIVE if paused else ActivityStatus.PAUSED):
        return stale()
    activity.status = ActivityStatus.PAUSED if paused else ActivityStatus.ACTIVE
    turn.schedule_changed = True
    notice = (
        _("Paused: no reminders, and residents no longer see it.") if paused else _("Active again.")
    )
    return Response(edit=await page(turn, activity), notice=notice)


async def _dates(turn: Turn, activity: Activity) -> Response:
    coming = await next_dates(turn, activity, DATES_OFFERED)
    if not coming:
        return Response(notice=_("There are no dates ahead to cancel."))
    text = _("Which date of {title} do you want to cancel?").format(title=isolate(activity.title))
    rows = tuple(
        (
            Button(
                i18n.format_occurrence(when, turn.zone),
                ActivityAction(activity.id or 0, "skip", when).pack(),
            ),
        )
        for when in coming
    )
    back = (Button(_("« Back"), ActivityAction(activity.id or 0, "back").pack()),)
    return Response(edit=Reply(text, (*rows, back)))


async def _skip(turn: Turn, activity: Activity, occurrence: datetime) -> Response:
    coming = {when.astimezone(UTC) for when in await next_dates(turn, activity, 10**4)}
    if occurrence not in coming:
        return stale()
    told = await enrolments.cancel_occurrence(turn.session, activity, occurrence, turn.moment)
    turn.schedule_changed, turn.notices_queued = True, told > 0
    when = i18n.format_occurrence(occurrence, turn.zone)
    text = ngettext(
        "{title} on {when} is cancelled. {count} person will be told.",
        "{title} on {when} is cancelled. {count} people will be told.",
        told,
    ).format(title=isolate(activity.title), when=when, count=told)
    return Response(chosen=when, close_buttons=True).say(Reply(text))


async def _ask_end(turn: Turn, activity: Activity) -> Response:
    assert activity.id is not None
    taken = await enrolments.counts(turn.session, activity.id)
    people = taken.enrolled + taken.waiting
    text = ngettext(
        "Cancel {title} for good? {count} person signed up or waiting will be told.",
        "Cancel {title} for good? {count} people signed up or waiting will be told.",
        people,
    ).format(title=isolate(activity.title), count=people)
    buttons = (
        (Button(_("Yes, cancel"), ActivityAction(activity.id or 0, "endyes").pack()),),
        # TRANSLATORS: the answer to "Cancel this activity for good?": keep the activity.
        (
            Button(
                pgettext("activity", "No, keep it"), ActivityAction(activity.id or 0, "back").pack()
            ),
        ),
    )
    return Response(edit=Reply(text, buttons))


async def _end(turn: Turn, activity: Activity) -> Response:
    told = await enrolments.cancel_activity(turn.session, activity, turn.moment)
    if turn.draft is not None and turn.draft.activity_id == activity.id:
        await activity_form.drop(turn)
    turn.schedule_changed, turn.notices_queued = True, told > 0
    text = ngettext(
        "{title} is cancelled. {count} person will be told.",
        "{title} is cancelled. {count} people will be told.",
        told,
    ).format(title=isolate(activity.title), count=told)
    return Response(chosen=_("Yes, cancel"), close_buttons=True).say(Reply(text))
