"""Changing an activity from its page: one field at a time, or its texts in another language."""

from __future__ import annotations

from datetime import datetime

from bot import i18n
from bot.activities import enrolments
from bot.activities import form as activity_form
from bot.activities.answers import Invalid
from bot.activities.form import Turn, button, cancel_row, stale
from bot.activities.page import page
from bot.activities.schedule import twin
from bot.buttons import DraftPress
from bot.i18n import N_, _, isolate, ngettext
from bot.outgoing import Reply, Response
from db.models import Activity, ActivityKind, ActivityStatus, Draft, DraftForm

FIELDS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "place": N_("Place"),
    "when": N_("Date and time"),
    "capacity": N_("Places"),
    "language": N_("In another language"),
}
COLUMNS = {
    "title": "title",
    "description": "description",
    "place": "place",
    "when": "starts_local",
    "capacity": "capacity",
}
# The steps of writing the texts in another language, and the answer each one is read as.
IN_LANGUAGE = {"title_in": "title", "description_in": "description"}


def begin(turn: Turn, activity: Activity) -> Response:
    """The page's Change button: ask what to change."""
    draft = turn.draft
    if draft is not None and draft.form == DraftForm.BROADCAST:
        text = _("You are writing a broadcast: finish it, or send /cancel, first.")
        return Response().say(Reply(text))
    if draft is not None and draft.activity_id is None:
        text = _("You are creating an activity: finish it, or send /cancel, first.")
        return Response().say(Reply(text))
    draft = activity_form.begin(turn, "change", activity.id)
    return Response(close_buttons=True).say(_field_picker(turn, draft, activity))


def _fields(turn: Turn) -> list[str]:
    """What can be changed; other languages only where the deployment enables some."""
    return [field for field in FIELDS if field != "language" or turn.other_languages]


def _field_picker(turn: Turn, draft: Draft, activity: Activity) -> Reply:
    text = _("What do you want to change in {title}?").format(title=isolate(activity.title))
    fields = tuple((button(_(FIELDS[field]), draft, "field", field),) for field in _fields(turn))
    return Reply(text, (*fields, cancel_row(draft)))


def _prompt(turn: Turn, draft: Draft, activity: Activity) -> Reply:
    """The question of the change's current step."""
    if draft.step == "change":
        return _field_picker(turn, draft, activity)
    if draft.step == "capacity":
        return activity_form.capacity_prompt(draft, activity.kind == ActivityKind.HOMEWORK)
    if draft.step == "description":
        remove = (button(_("Remove the description"), draft, "remove"),)
        rows = (remove,) if activity.description else ()
        return Reply(_("Type the new description."), (*rows, cancel_row(draft)))
    if draft.step == "language":
        return _language_picker(turn, draft, activity)
    if draft.step in IN_LANGUAGE:
        return _in_language_prompt(draft, activity)
    questions = {
        "title": _("Type the new title."),
        "place": _("Type the new place."),
        "when": _("Type the new first date and time, like 24/11/2026 16:30."),
    }
    return Reply(questions[draft.step], (cancel_row(draft),))


def _language_picker(turn: Turn, draft: Draft, activity: Activity) -> Reply:
    text = _("In which language do you want to write {title}?").format(
        title=isolate(activity.title)
    )
    languages = tuple(
        (button(i18n.language_name(code), draft, "language", code),)
        for code in turn.other_languages
    )
    return Reply(text, (*languages, cancel_row(draft)))


def _in_language_prompt(draft: Draft, activity: Activity) -> Reply:
    code = str(draft.data["language"])
    field = IN_LANGUAGE[draft.step]
    question = (
        _("Type the title in {language}, or tap Skip.")
        if field == "title"
        else _("Type the description in {language}, or tap Skip.")
    )
    lines = [question.format(language=isolate(i18n.language_name(code)))]
    written = activity.translations.get(code, {}).get(field)
    if written:  # what is there now is replaced, or dropped by Skip
        shown = isolate(written) if field == "title" else written  # a description has lines
        lines.append(_("Now: {text}").format(text=shown))
    skip = (button(_("Skip"), draft, "skip"),)
    return Reply("\n".join(lines), (skip, cancel_row(draft)))


async def _changing(turn: Turn, draft: Draft) -> Activity | None:
    """The activity the draft changes, locked; the draft is dropped if it has gone."""
    activity = await enrolments.lock(turn.session, draft.activity_id or 0)
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        await activity_form.drop(turn)
        return None
    return activity


def _next_step(
    turn: Turn, draft: Draft, activity: Activity, step: str, chosen: str | None
) -> Response:
    draft.step = step
    draft.revision += 1
    response = Response(chosen=chosen, close_buttons=chosen is not None)
    return response.say(_prompt(turn, draft, activity))


async def press(turn: Turn, draft: Draft, pressed: DraftPress) -> Response:
    """A button of the change in progress (the revision was checked)."""
    if pressed.step == "cancel":
        return await activity_form.abandon(turn)
    activity = await _changing(turn, draft)
    if activity is None:
        return stale()
    step, choice = pressed.step, pressed.choice
    if draft.step == "change" and step == "field" and choice in _fields(turn):
        return _next_step(turn, draft, activity, choice, _(FIELDS[choice]))
    if draft.step == "language" and step == "language" and choice in turn.other_languages:
        draft.data = {"language": choice}
        return _next_step(turn, draft, activity, "title_in", i18n.language_name(choice))
    if draft.step in IN_LANGUAGE and step == "skip":
        return await _in_language(turn, draft, activity, "", _("Skip"))
    if draft.step == "description" and step == "remove" and activity.description:
        return await _save(turn, activity, "description", "")
    if draft.step == "capacity" and (step, choice) == ("capacity", "none"):
        return await _save(turn, activity, "capacity", None)
    if draft.step == "capacity" and (step, choice) == (
        "capacity",
        str(activity_form.HOMEWORK_PLACES),
    ):
        return await _save(turn, activity, "capacity", activity_form.HOMEWORK_PLACES)
    return stale()


async def answer(turn: Turn, draft: Draft, text: str | None) -> Response:
    """What the organiser typed for the change in progress (None: not text)."""
    activity = await _changing(turn, draft)
    if activity is None:
        return Response().say(Reply(_("This activity is no longer there.")))
    try:
        if draft.step in IN_LANGUAGE:
            typed = activity_form.read(turn, IN_LANGUAGE[draft.step], text)
            return await _in_language(turn, draft, activity, str(typed), None)
        return await _save(turn, activity, draft.step, activity_form.read(turn, draft.step, text))
    except Invalid as error:
        return Response().say(Reply(str(error)), _prompt(turn, draft, activity))


async def _in_language(
    turn: Turn, draft: Draft, activity: Activity, text: str, chosen: str | None
) -> Response:
    """The title in the other language is kept in the draft; with the description, both are saved.

    What the organiser skips is left out, and a language left with no text is dropped, so that
    residents who read it get the main text instead.
    """
    if draft.step == "title_in":
        draft.data = {**draft.data, "title": text}  # a new dict, so that the change is saved
        return _next_step(turn, draft, activity, "description_in", chosen)
    code = str(draft.data["language"])
    texts = {"title": str(draft.data.get("title", "")), "description": text}
    kept = {field: value for field, value in texts.items() if value}
    others = {language: t for language, t in activity.translations.items() if language != code}
    # A new dict: SQLAlchemy notices a JSON column's change only when it is assigned.
    activity.translations = {**others, code: kept} if kept else others
    await activity_form.drop(turn)
    response = Response(chosen=chosen, close_buttons=True)
    return response.say(Reply(_("Saved.")), await page(turn, activity))


async def _save(turn: Turn, activity: Activity, field: str, value: object) -> Response:
    """Change one field; raise Invalid if the activity would clash with another."""
    assert activity.id is not None
    before = (activity.title, activity.starts_local)
    setattr(
        activity, COLUMNS[field], datetime.fromisoformat(str(value)) if field == "when" else value
    )
    if field in ("title", "when") and await twin(turn.session, activity) is not None:
        activity.title, activity.starts_local = before
        raise Invalid(_("Another activity of this kind has this title and first date."))
    lines = [_("Saved.")]
    if field == "capacity":
        lines += await _after_capacity(turn, activity)
    if field in ("when", "place"):
        told = await enrolments.announce_change(turn.session, activity, turn.moment)
        turn.notices_queued = bool(told)
        if told:
            lines.append(ngettext(
                "{count} person signed up will be told.",
                "{count} people signed up will be told.",
                told,
            ).format(count=told))  # fmt: skip
    await activity_form.drop(turn)
    turn.schedule_changed = True
    return Response(close_buttons=True).say(Reply("\n".join(lines)), await page(turn, activity))


async def _after_capacity(turn: Turn, activity: Activity) -> list[str]:
    """More places go to the waiting list at once; fewer take no one's place away."""
    assert activity.id is not None
    promoted = await enrolments.promote(turn.session, activity, turn.moment)
    turn.notices_queued = bool(promoted)
    lines = []
    if promoted:
        lines.append(ngettext(
            "{count} person from the waiting list got a place and will be told.",
            "{count} people from the waiting list got a place and will be told.",
            len(promoted),
        ).format(count=len(promoted)))  # fmt: skip
    enrolled = (await enrolments.counts(turn.session, activity.id)).enrolled
    if activity.capacity is not None and enrolled > activity.capacity:
        lines.append(ngettext(
            "{count} person is signed up, more than the places: nobody is removed, and new "
            "sign-ups wait for a free place.",
            "{count} people are signed up, more than the places: nobody is removed, and new "
            "sign-ups wait for a free place.",
            enrolled,
        ).format(count=enrolled))  # fmt: skip
    return lines
