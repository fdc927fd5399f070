"""What volunteers do in their private chat with the bot: write to a case's resident, note,
wait, release, close, and read their cases. Each service takes the acting volunteer and plain
values and returns what they read, in the current locale (chosen once per update)."""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n
from bot.buttons import CloseCase
from bot.cases import access, casework, claims, news
from bot.cases.casework import OUTCOMES
from bot.channel import Copy
from bot.desk import Desk
from bot.i18n import N_, _
from bot.outgoing import Reply, Response, RetiredCard
from db.models import Case, Queue

NOT_FOLLOWING = N_("You are not following this request.")


def _say(text: str) -> Response:
    return Response().say(Reply(text))


async def case_of_reply(desk: Desk, chat_id: int, message_id: int) -> int | None:
    """The case a volunteer's reply is about: the message they replied to was one of its own."""
    async with desk.sessions() as session:
        return await casework.case_of_message(session, chat_id, message_id)


def usage_of_reply() -> Response:
    return _say(_("Usage: /reply NUMBER your message"))


async def write_to_resident(
    desk: Desk, user_id: int, case_id: int | None, message: str | Copy
) -> Response:
    """A message to the resident of a case the volunteer holds (text, or a copy of theirs)."""
    case = await access.held_case(desk, case_id, user_id)
    if case is None or case.id is None:
        return _say(_(NOT_FOLLOWING))
    return Response().say(await news.to_resident(desk, user_id, case.id, message))


async def add_note(desk: Desk, user_id: int, case_id: int | None, text: str | None) -> Response:
    """An internal note on a case, never shown to the resident."""
    case = await access.held_case(desk, case_id, user_id)
    if case is None or not text:
        return _say(_("Usage: /note NUMBER text, for a request you follow."))
    async with desk.sessions() as session, session.begin():
        stored = await casework.held_by(session, case.id, user_id)
        if stored is None:
            return _say(_(NOT_FOLLOWING))
        await casework.add_note(session, stored, user_id, text)
    return _say(_("Note added to {number}.").format(number=i18n.isolate(case.number)))


async def wait_for_resident(desk: Desk, user_id: int, case_id: int | None) -> Response:
    case = await access.held_case(desk, case_id, user_id)
    if case is None:
        return _say(_(NOT_FOLLOWING))
    async with desk.sessions() as session, session.begin():
        stored = await casework.held_by(session, case.id, user_id)
        if stored is None:
            return _say(_(NOT_FOLLOWING))
        await casework.wait_for_resident(session, stored, user_id)
    text = _("{number} now waits for the resident's answer.")
    return _say(text.format(number=i18n.isolate(case.number)))


async def release(desk: Desk, user_id: int | None, case_id: int | None) -> Response:
    """Back to its queue, where its card returns with Claim (user_id None: the bot did it)."""
    case = await access.held_case(desk, case_id, user_id) if user_id is not None else None
    if user_id is not None and case is None:
        return _say(_(NOT_FOLLOWING))
    async with desk.sessions() as session, session.begin():
        stored = await session.get(Case, case.id if case else case_id)
        if stored is None or stored.status not in claims.OPEN:
            return _say(_(NOT_FOLLOWING))
        old_card = stored.card_message_id
        queue = await session.get(Queue, stored.queue) if stored.queue else None
        await casework.release(session, stored, user_id)
    response = _say(_("{number} is back in its queue.").format(number=i18n.isolate(stored.number)))
    response.cards_waiting = True
    if queue is not None and old_card is not None and stored.id is not None:
        reason = N_("Released: posted again below.")
        response.retired_card = RetiredCard(stored.id, queue.chat_id, old_card, reason)
    return response


async def ask_outcome(desk: Desk, user_id: int, case_id: int | None) -> Response:
    case = await access.held_case(desk, case_id, user_id)
    if case is None:
        return _say(_(NOT_FOLLOWING))
    return Response().say(casework.outcome_question(case))


async def close(desk: Desk, user_id: int, pressed: CloseCase | None) -> Response:
    """The volunteer chose how the case ended: close it, then tell the resident."""
    held = await access.held_case(desk, pressed.case_id if pressed else None, user_id)
    if held is None or pressed is None or pressed.outcome not in OUTCOMES:
        return Response(notice=_("This button is no longer active."))
    async with desk.sessions() as session, session.begin():
        case = await casework.held_by(session, held.id, user_id)
        if case is None:
            return Response(notice=_("This button is no longer active."))
        await casework.close(session, case, user_id, pressed.outcome, desk.clock())
    text = _("{number} is closed: {outcome}.").format(
        number=i18n.isolate(case.number), outcome=_(OUTCOMES[pressed.outcome])
    )
    await news.tell_resident(desk, case, casework.closed_notice)
    return Response(edit=Reply(text))


async def my_cases(desk: Desk, user_id: int) -> Response:
    async with desk.sessions() as session:
        held = await casework.cases_held(session, user_id)
    return Response().say(casework.list_held(held))


async def case_history(desk: Desk, user_id: int, case_id: int | None) -> Response:
    """A case's details and history, for its volunteer or an organiser."""
    case = await access.readable_case(desk, case_id, user_id)
    if case is None:
        return _say(_(NOT_FOLLOWING))
    async with desk.sessions() as session:
        events = await casework.history(session, case)
        names = await casework.volunteer_names(session, events)
        details = await claims.details(session, case)
    lines = casework.history_lines(events, names, desk.settings.timezone)
    return _say("\n".join([details.text, "", _("History:"), *lines]))


@dataclass(frozen=True)
class Relayed:
    """What became of a resident's message for their volunteer."""

    delivered: bool
    given_back: Response | None = None  # the volunteer had left the queue: the case went back


async def resident_wrote(desk: Desk, case_id: int, copy: Copy) -> Relayed:
    """The resident wrote while a volunteer follows their case: pass it on, marked."""
    async with desk.sessions() as session:
        case = await session.get(Case, case_id)
    if case is None or case.claimed_by is None:
        return Relayed(delivered=False)
    if not await access.still_volunteer(desk, case, case.claimed_by):
        return Relayed(delivered=False, given_back=await release(desk, None, case_id))
    return Relayed(delivered=await news.to_volunteer(desk, case, case.claimed_by, copy))
