"""Telling people about a case over their own channels: the resident's news, messages passed
both ways between resident and volunteer, the claimer's details, the organisers' alerts."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from bot import i18n
from bot.buttons import ReadWaiting
from bot.cases import casework, claims
from bot.channel import NOT_RUNNING, Channel, Copy, Delivery, Outcome, reach, window_open
from bot.desk import Desk
from bot.i18n import _
from bot.outbox import store as outbox
from bot.outgoing import Reply, Template
from db.models import Case, OutboxKind, OutboxStatus, Resident

log = logging.getLogger(__name__)


async def tell_resident(desk: Desk, case: Case, notice: Callable[[Case], Reply]) -> Outcome | None:
    """Tell the case's resident something about it, in their language, on their channel; None
    when they have erased their data."""
    async with desk.sessions() as session:
        resident = await session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None:
        return None
    with i18n.locale(resident.language or desk.settings.default_language):
        reply = notice(case)
    channel, moment = _to(desk, resident), desk.clock()
    delivery = await reach(
        channel, resident.channel_user_id, reply, resident.last_inbound_at, moment
    )
    if delivery.outcome is Outcome.WINDOW_CLOSED:  # no template says it: it waits for them
        await _keep(desk, resident, OutboxKind.NEWS, {"text": reply.text})
    elif not delivery.delivered:
        log.info("case %s: news not delivered to the resident (%s)", case.id, delivery.outcome)
    return delivery.outcome


async def tell_organisers(desk: Desk, text: str) -> None:
    for organiser in desk.settings.organisers:
        delivery = await desk.staff.deliver(str(organiser), Reply(text))
        if not delivery.delivered:
            log.warning("could not reach an organiser (%s)", delivery.outcome)


async def to_resident(desk: Desk, volunteer_id: int, case_id: int, message: str | Copy) -> Reply:
    """A volunteer's message for the resident of a case they hold; what the volunteer reads back
    (in the current locale). The case's history records it only once it is delivered."""
    async with desk.sessions() as session:
        case = await casework.held_by(session, case_id, volunteer_id)
        resident = (
            await session.get(Resident, case.resident_id) if case and case.resident_id else None
        )
    if case is None:
        return Reply(_("You are not following this request."))
    if resident is None:
        return Reply(_("The resident has deleted their data: they can no longer be reached."))
    with i18n.locale(resident.language or desk.settings.default_language):
        header = casework.header_for_resident(case)
    channel, user_id = _to(desk, resident), resident.channel_user_id
    if not window_open(channel, resident.last_inbound_at, desk.clock()):
        delivery = Delivery(Outcome.WINDOW_CLOSED)
    elif isinstance(message, Copy):
        delivery = await channel.pass_on(user_id, header, message)
    else:
        delivery = await channel.deliver(user_id, Reply(f"{header}\n\n{message}"))
    if delivery.outcome is Outcome.WINDOW_CLOSED:
        if isinstance(message, Copy) and message.has_file:
            return Reply(
                _(
                    "The resident has not written for a day, and WhatsApp lets us pass on a "
                    "file only within a day of their last message. Please send it again once "
                    "they have written."
                )
            )
        words = message.text if isinstance(message, Copy) else message
        if words:
            return await _wait_for_resident(desk, case, volunteer_id, resident, header, words)
    if delivery.outcome is Outcome.BLOCKED:
        return Reply(_("The resident has blocked the bot: the message was not delivered."))
    if not delivery.delivered:
        return Reply(
            _("The message could not be delivered now. Please try again in a few minutes.")
        )
    async with desk.sessions() as session, session.begin():
        stored = await casework.held_by(session, case_id, volunteer_id)
        if stored is not None:
            await casework.message_passed(
                session, stored, volunteer_id, from_resident=False, moment=desk.clock()
            )
    return Reply(_("✓ Sent to the resident of {number}.").format(number=i18n.isolate(case.number)))


async def _wait_for_resident(
    desk: Desk, case: Case, volunteer_id: int, resident: Resident, header: str, text: str
) -> Reply:
    """The resident's window has closed: the volunteer's message waits until they write, and
    they hear (once, with a template) that a message from their volunteer waits for them."""
    told = await _keep(
        desk, resident, OutboxKind.RELAY, {"case": case.id, "header": header, "text": text}
    )
    async with desk.sessions() as session, session.begin():
        stored = await casework.held_by(session, case.id or 0, volunteer_id)
        if stored is not None:
            await casework.message_passed(
                session, stored, volunteer_id, from_resident=False, moment=desk.clock()
            )
    lines = [
        _(
            "The resident has not written for a day, and WhatsApp lets us write to them "
            "freely only within a day of their last message. Your message is kept: it goes "
            "as soon as they write."
        )
    ]
    if not told:
        language = resident.language or desk.settings.default_language
        with i18n.locale(language):
            number = i18n.isolate(case.number)
        waiting = Template("volunteer_wrote", language, (number,), (ReadWaiting().pack(),))
        delivery = await _to(desk, resident).deliver_template(resident.channel_user_id, waiting)
        told = delivery.delivered
    if told:
        lines.append(_("They have been told that a message from you is waiting for them."))
    return Reply("\n".join(lines))


async def _keep(desk: Desk, resident: Resident, kind: OutboxKind, payload: dict[str, Any]) -> bool:
    """Keep a message for the resident until they write (the outbox sends it then); whether a
    message of this kind was waiting already."""
    assert resident.id is not None
    async with desk.sessions() as session, session.begin():
        waiting = await outbox.holds(session, resident.id, kind)
        key = f"{kind}:{resident.id}:{secrets.token_hex(8)}"
        held = outbox.Message(key, resident.id, kind, payload, OutboxStatus.HELD)
        await outbox.queue(session, [held], desk.clock())
    return waiting


async def to_volunteer(desk: Desk, case: Case, volunteer_id: int, copy: Copy) -> bool:
    """The resident's message, marked with its case, to the volunteer who follows it; replying
    to either message writes back to the resident."""
    async with desk.sessions() as session:
        language = await claims.volunteer_language(session, volunteer_id)
    with i18n.locale(language or desk.settings.default_language):
        header = casework.header_for_volunteer(case)
    delivery = await desk.staff.pass_on(str(volunteer_id), header, copy)
    if not delivery.delivered:
        return False
    async with desk.sessions() as session, session.begin():
        await casework.remember_message(
            session, volunteer_id, list(delivery.message_ids), case.id or 0
        )
    return True


async def give_details(desk: Desk, case: Case, volunteer_id: int) -> Delivery:
    """The case's details to the volunteer who claimed it, in a private chat."""
    async with desk.sessions() as session:
        language = await claims.volunteer_language(session, volunteer_id)
        with i18n.locale(language or desk.settings.default_language):
            reply = await claims.details(session, case)
    delivery = await desk.staff.deliver(str(volunteer_id), reply)
    if delivery.delivered:
        async with desk.sessions() as session, session.begin():
            await claims.mark_reachable(session, volunteer_id)
            # Replying to the details writes to the resident.
            await casework.remember_message(
                session, volunteer_id, list(delivery.message_ids), case.id or 0
            )
    return delivery


def _to(desk: Desk, resident: Resident) -> Channel:
    """The channel the resident writes on; one this deployment does not run delivers nothing."""
    return desk.channels.get(resident.channel, NOT_RUNNING)
