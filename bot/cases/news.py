"""Telling people about a case over their own channels: the resident's news, messages passed
both ways between resident and volunteer, the claimer's details, the organisers' alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import i18n
from bot.cases import casework, claims
from bot.channel import NOT_RUNNING, Channel, Copy, Delivery, Outcome
from bot.desk import Desk
from bot.i18n import _
from bot.outgoing import Reply
from db.models import Case, Resident

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
    delivery = await _to(desk, resident).deliver(resident.channel_user_id, reply)
    if not delivery.delivered:
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
    if isinstance(message, Copy):
        delivery = await channel.pass_on(user_id, header, message)
    else:
        delivery = await channel.deliver(user_id, Reply(f"{header}\n\n{message}"))
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
