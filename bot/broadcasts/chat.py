"""A broadcast written in the organiser's chat, one step at a time, on the same draft as the
activity form (a restart in the middle loses nothing): whom it reaches and how many they are,
the notice, a version in each language its readers speak, a preview of what each language
group will read, and the confirmation that queues it for the outbox to send."""

from __future__ import annotations

from sqlmodel import col, select

from bot import i18n
from bot.activities import form as activity_form
from bot.activities.answers import Invalid
from bot.activities.form import Turn, button, cancel_row, stale
from bot.broadcasts import notice as notices
from bot.broadcasts.audience import Segment, described
from bot.broadcasts.notice import MAX_TEXT, Notice, Preview
from bot.buttons import DraftPress
from bot.i18n import N_, _, isolate, ngettext
from bot.intake.flows import DISTRICTS, FLOWS
from bot.intake.questions import option_label
from bot.outgoing import Button, Reply, Response
from db.models import Activity, ActivityStatus, Draft, DraftForm

# The first question: whom the notice is for. Each but "everyone" asks which one next.
AUDIENCES = {
    "everyone": N_("Everyone"),
    "language": N_("Those who read a language"),
    "district": N_("Those of a district"),
    "activity": N_("Those signed up to an activity, or waiting"),
    "kind": N_("Those with an open request"),
}
# The steps that are typed text: the notice in its first language, and in another one.
TYPED = ("text", "version")


async def start(turn: Turn) -> Response:
    """/broadcast: ask whom the notice is for."""
    draft = activity_form.begin(turn, "audience", form=DraftForm.BROADCAST)
    return Response().say(await _prompt(turn, draft))


# -- what each step asks -------------------------------------------------------------------------


async def _prompt(turn: Turn, draft: Draft) -> Reply:
    step = draft.step
    if step == "audience":
        rows = tuple(
            (button(_(label), draft, "audience", key),) for key, label in AUDIENCES.items()
        )
        return Reply(_("Who should receive the notice?"), (*rows, cancel_row(draft)))
    if step in ("language", "original"):
        question = (
            _("Which language do they read?")
            if step == "language"
            else _("Which language will you write it in?")
        )
        return _choices(draft, question, [(code, _language(code)) for code in _languages(turn)])
    if step == "district":
        districts = [(option.key, option_label(option)) for option in DISTRICTS]
        return _choices(draft, _("Which district? (where they asked for help)"), districts)
    if step == "activity":
        titles = [(str(activity.id), activity.title) for activity in await _activities(turn)]
        return _choices(draft, _("Which activity?"), titles)
    if step == "kind":
        kinds = [(kind, _(flow.title)) for kind, flow in FLOWS.items()]
        return _choices(draft, _("Open requests of which kind?"), kinds)
    if step == "text":
        return await _text_prompt(turn, draft)
    if step == "version":
        text = _("Type the notice in {language}.").format(language=_language(draft.data["writing"]))
        return Reply(text, ((button(_("« Back"), draft, "back"),), cancel_row(draft)))
    if step == "versions":
        return await _versions_prompt(turn, draft)
    return _confirmation(draft, await _reach(turn, draft))


def _choices(draft: Draft, question: str, choices: list[tuple[str, str]]) -> Reply:
    """One button per choice (three to a row when they are many), then Back and Cancel."""
    width = 3 if len(choices) > 6 else 1
    buttons = [button(label, draft, draft.step, key) for key, label in choices]
    rows = tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
    back = (button(_("« Back"), draft, "back"),)
    return Reply(question, (*rows, back, cancel_row(draft)))


async def _text_prompt(turn: Turn, draft: Draft) -> Reply:
    reach = await _reach(turn, draft)
    original = draft.data["original"]
    lines = [
        _reach_line(reach),
        "",
        _("Type the notice in {language}.").format(language=_language(original)),
    ]
    others = [code for code in reach.by_language if code != original]
    if others:
        lines.append(_("You can then add a version in the other languages its readers speak."))
    rows = (
        (button(_("Write it in another language"), draft, "switch"),),
        (button(_("« Change whom it reaches"), draft, "back"),),
        cancel_row(draft),
    )
    return Reply("\n".join(lines), rows)


async def _versions_prompt(turn: Turn, draft: Draft) -> Reply:
    reach, texts = await _reach(turn, draft), draft.data["texts"]
    original = draft.data["original"]
    lines = [
        _("The notice is written in: {languages}.").format(
            languages=i18n.format_list(_language(code) for code in texts)
        ),
        _("Those who read another language get the {language} text, with a line saying which "
          "language it is in, unless you add a version in theirs:").format(
            language=_language(original)
        ),
    ]  # fmt: skip
    rows: list[tuple[Button, ...]] = []
    for code, count in reach.by_language.items():
        if code == original:
            continue
        label = (
            _("✓ {language}: write it again ({count})")
            if code in texts
            else _("Write it in {language} too ({count})")
        )
        rows.append(
            (button(label.format(language=_language(code), count=count), draft, "add", code),)
        )
    rows.append((button(_("Preview"), draft, "preview"),))
    return Reply("\n".join(lines), (*rows, cancel_row(draft)))


def _confirmation(draft: Draft, reach: Preview) -> Reply:
    text = ngettext(
        "Send this notice to {count} person?", "Send this notice to {count} people?", reach.total
    ).format(count=i18n.format_number(reach.total))
    rows = (
        (button(_("Send"), draft, "send"),),
        (button(_("« Change the texts"), draft, "back"),),
        cancel_row(draft),
    )
    return Reply(text, rows)


def _previews(notice: Notice, reach: Preview) -> list[Reply]:
    """What each language group will read, exactly, under how many they are."""
    shown = []
    for code, count in reach.by_language.items():
        header = ngettext(
            "{count} person reading {language} will get:",
            "{count} people reading {language} will get:",
            count,
        ).format(count=i18n.format_number(count), language=_language(code))
        shown.append(Reply(f"{header}\n\n{notice.text_for(code)}"))
    return shown


# -- what the organiser does ---------------------------------------------------------------------


async def press(turn: Turn, draft: Draft, pressed: DraftPress) -> Response:
    """A button of the current step (the revision was checked); anything else changes nothing."""
    step, choice = pressed.step, pressed.choice or ""
    if step == "cancel":
        return await activity_form.abandon(turn)
    if step == "back":
        return await _back(turn, draft)
    if draft.step == "audience" and step == "audience" and choice in AUDIENCES:
        if choice == "everyone":
            return await _aimed(turn, draft, {}, _(AUDIENCES[choice]))
        if choice == "activity" and not await _activities(turn):
            return Response(notice=_("There are no activities yet."))
        return await _go(turn, draft, choice, _(AUDIENCES[choice]))
    if draft.step in ("language", "district", "activity", "kind") and step == draft.step:
        return await _narrowed(turn, draft, choice)
    if draft.step == "text" and step == "switch":
        return await _go(turn, draft, "original", _("Write it in another language"))
    if draft.step == "original" and step == "original" and choice in _languages(turn):
        draft.data = {**draft.data, "original": choice}
        return await _go(turn, draft, "text", _language(choice))
    if draft.step == "versions" and step == "add":
        reach = await _reach(turn, draft)
        if choice not in reach.by_language or choice == draft.data["original"]:
            return stale()
        draft.data = {**draft.data, "writing": choice}
        return await _go(turn, draft, "version", _language(choice))
    if draft.step == "versions" and step == "preview":
        return _preview(draft, await _reach(turn, draft))
    if draft.step == "preview" and step == "send":
        return await _send(turn, draft)
    return stale()


async def type_text(turn: Turn, draft: Draft, text: str | None) -> Response:
    """Typed text (None for a sticker, a photo…) as the notice, where the step asks for it."""
    if draft.step not in TYPED:
        return Response().say(
            Reply(_("Please tap one of the buttons.")), await _prompt(turn, draft)
        )
    try:
        written = _notice_text(text)
    except Invalid as error:
        return Response().say(Reply(str(error)), await _prompt(turn, draft))
    language = draft.data["original"] if draft.step == "text" else draft.data["writing"]
    draft.data = {**draft.data, "texts": {**draft.data.get("texts", {}), language: written}}
    reach = await _reach(turn, draft)
    if any(code != draft.data["original"] for code in reach.by_language):
        return await _go(turn, draft, "versions", None)
    return _preview(draft, reach)


def _notice_text(text: str | None) -> str:
    if text is None:
        raise Invalid(_("Please type the notice as text."))
    if len(text.strip()) > MAX_TEXT:
        raise Invalid(
            _("The notice is too long: please keep it under {count} characters.").format(
                count=i18n.format_number(MAX_TEXT)
            )
        )
    if not text.strip():
        raise Invalid(_("Please type the notice as text."))
    return text.strip()


async def _go(turn: Turn, draft: Draft, step: str, chosen: str | None) -> Response:
    """On to `step`: the pressed question shows the answer, and the next one is asked."""
    draft.step = step
    draft.revision += 1
    response = Response(chosen=chosen, close_buttons=chosen is not None)
    return response.say(await _prompt(turn, draft))


async def _back(turn: Turn, draft: Draft) -> Response:
    """One step back: from a narrower question to the first, from the text to whom it reaches,
    from the preview or a version to the versions (or to the text, if there is only one)."""
    step = draft.step
    if step in ("language", "district", "activity", "kind"):
        return await _go(turn, draft, "audience", _("« Back"))
    if step == "text":
        draft.data = {}
        return await _go(turn, draft, "audience", _("« Change whom it reaches"))
    if step == "original":
        return await _go(turn, draft, "text", _("« Back"))
    if step in ("version", "preview"):
        reach = await _reach(turn, draft)
        others = any(code != draft.data["original"] for code in reach.by_language)
        chosen = _("« Back") if step == "version" else _("« Change the texts")
        return await _go(turn, draft, "versions" if others else "text", chosen)
    return stale()


async def _narrowed(turn: Turn, draft: Draft, choice: str) -> Response:
    """The answer to which language, district, activity or kind of request."""
    step = draft.step
    if step == "language" and choice in _languages(turn):
        return await _aimed(turn, draft, {"language": choice}, _language(choice))
    district = next((option for option in DISTRICTS if option.key == choice), None)
    if step == "district" and district is not None:
        return await _aimed(turn, draft, {"district": choice}, option_label(district))
    if step == "kind" and choice in FLOWS:
        return await _aimed(turn, draft, {"kind": choice}, _(FLOWS[choice].title))
    activity = next((a for a in await _activities(turn) if str(a.id) == choice), None)
    if step == "activity" and activity is not None:
        return await _aimed(turn, draft, {"activity": activity.title}, activity.title)
    return stale()


async def _aimed(turn: Turn, draft: Draft, segment: dict[str, str], chosen: str) -> Response:
    """Whom it reaches is settled: how many they are, and the notice to type, or, when nobody
    is there, the first question again."""
    reach = await notices.preview(turn.session, Segment.of(segment), turn.default_language)
    if reach.total == 0:
        text = _("Nobody who can receive notices is in {audience}: please choose others.")
        draft.step = "audience"
        draft.revision += 1
        said = Reply(text.format(audience=described(Segment.of(segment))))
        return Response(chosen=chosen, close_buttons=True).say(said, await _prompt(turn, draft))
    writer = segment.get("language") or i18n.current_language()
    original = writer if writer in _languages(turn) else turn.default_language
    draft.data = {"segment": segment, "original": original, "texts": {}}
    return await _go(turn, draft, "text", chosen)


def _preview(draft: Draft, reach: Preview) -> Response:
    """What each language group will read, then the question that sends it."""
    draft.step = "preview"
    draft.revision += 1
    response = Response(chosen=_("Preview"), close_buttons=True)
    return response.say(*_previews(_notice(draft), reach), _confirmation(draft, reach))


async def _send(turn: Turn, draft: Draft) -> Response:
    """Queue it: one outbox row per reader, in this transaction."""
    notice = _notice(draft)
    await activity_form.drop(turn)
    response = Response(chosen=_("Send"), close_buttons=True)
    if (await notices.preview(turn.session, notice.segment, turn.default_language)).total == 0:
        return response.say(Reply(_("Nobody can receive it any more: nothing was sent.")))
    broadcast = await notices.queue(
        turn.session,
        notice,
        turn.default_language,
        turn.moment,
        created_by=turn.user_id,
        language=i18n.current_language(),
    )
    turn.notices_queued = True
    text = ngettext(
        "Broadcast {number} is on its way to {count} person. You will see here how it goes; "
        "/broadcasts can stop it.",
        "Broadcast {number} is on its way to {count} people. You will see here how it goes; "
        "/broadcasts can stop it.",
        broadcast.recipients,
    ).format(number=isolate(f"#{broadcast.id}"), count=i18n.format_number(broadcast.recipients))
    return response.say(Reply(text))


# -- reading the draft ---------------------------------------------------------------------------


def _notice(draft: Draft) -> Notice:
    data = draft.data
    return Notice(Segment.of(data["segment"]), dict(data["texts"]), data["original"])


async def _reach(turn: Turn, draft: Draft) -> Preview:
    segment = Segment.of(draft.data.get("segment", {}))
    return await notices.preview(turn.session, segment, turn.default_language)


def _reach_line(reach: Preview) -> str:
    text = ngettext("It reaches {count} person", "It reaches {count} people", reach.total)
    groups = ", ".join(
        f"{_language(code)} {i18n.format_number(count)}"
        for code, count in reach.by_language.items()
    )
    return f"{text.format(count=i18n.format_number(reach.total))} ({groups})."


def _languages(turn: Turn) -> tuple[str, ...]:
    return (turn.default_language, *turn.other_languages)


def _language(code: str) -> str:
    """A language's name as the organiser calls it."""
    return isolate(i18n.language_name_in(code, i18n.current_language()))


async def _activities(turn: Turn) -> list[Activity]:
    """The activities residents can still be signed up to, one per title (the audience of a
    title is everyone signed up to an activity of that title)."""
    statement = (
        select(Activity)
        .where(Activity.status != ActivityStatus.CANCELLED)
        .order_by(col(Activity.title), col(Activity.id))
    )
    by_title = {a.title: a for a in reversed((await turn.session.exec(statement)).all())}
    return sorted(by_title.values(), key=lambda activity: activity.title)
