"""The resident's side of the help desk: starting, the language, the consent, the intake, and
what their buttons and typed answers mean."""

from __future__ import annotations

from bot import buttons, i18n
from bot.activities import agenda, signup
from bot.buttons import (
    Agenda,
    ChooseLanguage,
    EraseData,
    GiveConsent,
    IntakePress,
    LanguagePage,
    ReadWaiting,
    Rsvp,
    StartFlow,
)
from bot.cases import casework
from bot.cases import opening as cases
from bot.i18n import _, isolate
from bot.intake import engine as intake
from bot.intake import questions
from bot.intake.engine import Outcome
from bot.intake.flows import FLOWS
from bot.outgoing import Reply, Response
from bot.residents import commands, privacy
from bot.residents.conversation import Conversation
from bot.residents.prompts import language_picker, menu, next_prompt, stale
from db.models import Intake


async def start(convo: Conversation) -> Response:
    """/start: the language picker for newcomers, otherwise back to where they were."""
    known = convo.resident is not None and convo.resident.language is not None
    resident = await convo.ensure_resident()
    if not known:
        with i18n.locale(convo.language):
            return Response().say(language_picker(convo))
    greeting = Reply(_("Welcome back!"))
    if resident.stopped:
        resident.stopped = False
        greeting = Reply(_("Welcome back! Reminders and notices are on again."))
    return Response().say(greeting, await next_prompt(convo))


async def choose_language(convo: Conversation) -> Response:
    await convo.ensure_resident()
    return Response().say(language_picker(convo))


async def press(convo: Conversation, data: str) -> Response:
    """A button was pressed; its data is untrusted and checked before anything changes."""
    pressed = buttons.parse(data)
    if isinstance(pressed, ChooseLanguage):
        return await _set_language(convo, pressed.code)
    if isinstance(pressed, LanguagePage):
        await convo.ensure_resident()
        return Response(edit=language_picker(convo, pressed.page))
    if convo.resident is None:
        return stale(Reply(_("Please send /start to begin.")))
    match pressed:
        case GiveConsent(version=version, answer=answer):
            return await _consent(convo, version, answer)
        case StartFlow(flow=flow):
            return await _start_flow(convo, flow)
        case IntakePress():
            return await _intake_press(convo, pressed)
        case EraseData(answer=answer):
            return await commands.erase(convo, answer)
        case Agenda():
            return await _activity_press(convo, pressed)
        case Rsvp():
            return await agenda.rsvp(convo, pressed) or stale(await next_prompt(convo))
        case ReadWaiting():
            return Response()  # the messages that waited follow, now that they have written
    return stale(await next_prompt(convo))


async def _activity_press(convo: Conversation, pressed: Agenda) -> Response:
    """A button of /activities: see the list or one activity, sign up, leave, get the file."""
    action, target = pressed.action, pressed.target
    if action == "list":
        return Response().say(await agenda.listing(convo))
    if action == "quit" and convo.resident and convo.resident.signup:
        return signup.quit_signup(convo)
    if action == "leave":
        enrolment = await agenda.own_enrolment(convo, target)
        if enrolment is not None:
            return await agenda.leave(convo, enrolment)
    activity = await agenda.running_activity(convo, target)
    if action == "pick":
        picked = await signup.pick(convo, target)
        if picked is not None:
            return picked
    elif activity is not None and action == "show":
        return Response().say(await agenda.details(convo, activity))
    elif activity is not None and action == "ics":
        return await agenda.calendar_file(convo, activity)
    elif activity is not None and action == "join":
        assert convo.resident is not None
        if not await privacy.has_consented(convo.session, convo.resident):
            return Response().say(privacy.notice())
        return await signup.begin(convo, activity)
    return stale(await agenda.listing(convo))


async def _set_language(convo: Conversation, code: str) -> Response:
    if code not in convo.settings.languages:
        return stale(await next_prompt(convo))
    resident = await convo.ensure_resident()
    resident.language = code
    with i18n.locale(code):
        response = Response(chosen=i18n.language_name(code), close_buttons=True)
        return response.say(await next_prompt(convo))


async def _consent(convo: Conversation, version: str, answer: str) -> Response:
    resident = convo.resident
    assert resident is not None
    if version != privacy.NOTICE_VERSION:
        return stale(await next_prompt(convo))
    if await privacy.has_consented(convo.session, resident):
        return stale(await next_prompt(convo))
    privacy.record_consent(convo.session, resident, accepted=answer == "yes")
    if answer == "no":
        return Response(chosen=_("No, thank you"), close_buttons=True).say(
            Reply(
                _(
                    "Understood. We have not kept anything about you except this answer. "
                    "If you change your mind, send /start."
                )
            )
        )
    return Response(chosen=_("Yes, I agree"), close_buttons=True).say(menu())


async def _start_flow(convo: Conversation, key: str) -> Response:
    resident = convo.resident
    assert resident is not None
    flow = FLOWS.get(key)
    ready = await privacy.has_consented(convo.session, resident)
    if flow is None or not ready or convo.intake is not None:
        return stale(await next_prompt(convo))
    assert resident.id is not None
    current = Intake(resident_id=resident.id, flow=flow.key)
    convo.session.add(current)
    convo.intake = current
    return Response(chosen=_(flow.title), close_buttons=True).say(questions.render(current))


async def _intake_press(convo: Conversation, pressed: IntakePress) -> Response:
    assert convo.resident is not None
    current = convo.intake
    if current is None:
        return stale(await next_prompt(convo))
    result = intake.press(current, pressed.revision, pressed.token)
    return await _after(convo, current, result)


async def answer_text(convo: Conversation, text: str) -> Response:
    """Typed text: an answer to the current question, or a nudge towards what comes next."""
    resident = convo.resident
    current = convo.intake
    if current is None and resident is not None and resident.signup is not None:
        return await signup.answer_text(convo, text)
    if current is None:
        relayed = await _relay(convo)
        if relayed is not None:
            return relayed
        if resident is not None and resident.language is not None:
            flow = _typed_flow(text)
            if flow is not None:  # _start_flow checks the consent
                return await _start_flow(convo, flow)
            return Response().say(await next_prompt(convo))
        await convo.ensure_resident()
        return Response().say(language_picker(convo))
    return await _after(convo, current, intake.type_text(current, text))


async def _relay(convo: Conversation) -> Response | None:
    """While a volunteer follows their case, what the resident writes goes to that volunteer."""
    if convo.resident is None:
        return None
    case = await casework.open_case_of(convo.session, convo.resident)
    if case is None:
        return None
    await casework.message_passed(
        convo.session, case, None, from_resident=True, moment=convo.clock()
    )
    sent = _("✓ Sent to the volunteer following your request {number}.").format(
        number=isolate(case.number)
    )
    failed = _("We could not pass your message on right now. Please try again in a while.")
    return Response(relay_for_case=case.id, undelivered=Reply(failed)).say(Reply(sent))


def _typed_flow(text: str) -> str | None:
    """The flow whose number in the menu was typed, as someone who does not tap would."""
    keys = list(FLOWS)
    text = text.strip()
    return keys[int(text) - 1] if text.isdigit() and 1 <= int(text) <= len(keys) else None


async def unsupported(convo: Conversation) -> Response:
    """A sticker, photo or voice note where text or a button was expected."""
    if convo.intake is None:
        relayed = await _relay(convo)
        if relayed is not None:
            return relayed
    reply = Reply(_("Sorry, I can only read text and buttons here."))
    return Response().say(reply, await next_prompt(convo))


async def _after(convo: Conversation, current: Intake, result: intake.Result) -> Response:
    resident = convo.resident
    assert resident is not None
    response = Response(chosen=result.chosen)
    if result.outcome is Outcome.STALE:
        return stale(await next_prompt(convo))
    if result.outcome is Outcome.INVALID:
        assert result.error is not None and result.reply is not None
        return response.say(Reply(result.error), result.reply)
    response.close_buttons = True
    if result.outcome is Outcome.CONFIRMED:
        case = await cases.open_case(convo.session, convo.settings, resident, current)
        convo.intake = None
        response.cards_waiting = True
        return response.say(_confirmation(case.number))
    if result.outcome in (Outcome.DISCARDED, Outcome.LEFT):
        await convo.session.delete(current)
        convo.intake = None
    if result.outcome is Outcome.DISCARDED:
        return response.say(Reply(_("Cancelled. Nothing was sent.")), menu())
    if result.outcome is Outcome.LEFT:
        return response.say(menu())
    assert result.reply is not None
    if result.toggled:
        return Response(edit=result.reply)
    return response.say(result.reply)


def _confirmation(number: str) -> Reply:
    return Reply(
        "\n\n".join(
            [
                _("Thank you. Your request has been sent."),
                _("Your request number is {number}.").format(number=isolate(number)),
                _(
                    "A volunteer will take it up and write to you here. You can check it at "
                    "any time with /status."
                ),
            ]
        )
    )


async def cancel(convo: Conversation) -> Response:
    current = convo.intake
    if current is None and convo.resident is not None and convo.resident.signup is not None:
        return signup.quit_signup(convo)
    if current is None:
        return Response().say(Reply(_("There is nothing to cancel.")))
    return await _after(convo, current, intake.press(current, current.revision, "cancel"))
