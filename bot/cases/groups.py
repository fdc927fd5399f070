"""What happens in the queues' groups: an organiser makes one a queue, the bot loses or regains
its place there, cards are posted, and a volunteer claims one. Texts in the groups are in the
deployment's language; what is said to the person who pressed is in theirs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot import i18n
from bot.buttons import ClaimCase
from bot.cases import access, claims, news, queues
from bot.cases.claims import Claim
from bot.channel import Delivery
from bot.desk import Desk
from bot.i18n import _
from db.models import Case, CaseEvent

log = logging.getLogger(__name__)

QUEUE_NAME = re.compile(r"[a-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Acting:
    """The person who wrote or pressed, as the platform names them."""

    user_id: int
    name: str
    language: str  # the one they read the bot in


async def make_queue(desk: Desk, user_id: int | None, chat_id: int, name: str) -> str:
    """/setqueue NAME in a group; what the group reads back (user_id None: sent as the group)."""
    with i18n.locale(desk.settings.default_language):
        # Someone posting as the group itself (an anonymous admin) cannot be checked.
        if user_id is None:
            return _("Please send this command as yourself, not as the group.")
        if user_id not in desk.settings.organisers:
            return _("Only an organiser can make this group a queue.")
        if not QUEUE_NAME.fullmatch(name):
            return _("Usage: /setqueue NAME, e.g. /setqueue housing")
        async with desk.sessions() as session, session.begin():
            await queues.set_queue(session, name, chat_id, desk.clock())
        text = _("This group is now the queue “{name}”. New requests will appear here.")
        return text.format(name=i18n.isolate(name))


async def follow_migration(desk: Desk, old_chat_id: int, new_chat_id: int) -> None:
    """The group became a supergroup with a new id: its queue follows it."""
    async with desk.sessions() as session, session.begin():
        await queues.follow_migration(session, old_chat_id, new_chat_id, desk.clock())


async def queue_back(desk: Desk, chat_id: int) -> None:
    """The bot is in the group again: its queue's waiting cards can be posted."""
    async with desk.sessions() as session, session.begin():
        queue = await queues.queue_of_chat(session, chat_id)
        if queue is not None:
            queue.reachable, queue.updated_at = True, desk.clock()


async def queue_lost(desk: Desk, chat_id: int) -> None:
    """The bot can no longer post in a queue's group: its requests wait, organisers are told."""
    async with desk.sessions() as session, session.begin():
        queue = await queues.mark_unreachable(session, chat_id, desk.clock())
    if queue is None:
        return
    log.warning("queue %s: the bot can no longer post in its group", queue.name)
    with i18n.locale(desk.settings.default_language):
        text = _(
            "The bot can no longer post in the group of the queue “{name}”. Its requests are "
            "waiting: add the bot to the group again, or send /setqueue {name} in another group."
        ).format(name=i18n.isolate(queue.name))
    await news.tell_organisers(desk, text)


async def cards_to_post(desk: Desk) -> list[tuple[int, int]]:
    """(case id, group chat id) of every new case whose card is not in its group yet."""
    async with desk.sessions() as session, session.begin():
        return [
            (case.id, queue.chat_id)
            for case, queue in await queues.cases_to_post(session, desk.settings)
            if case.id is not None
        ]


async def case_by_id(desk: Desk, case_id: int) -> Case | None:
    async with desk.sessions() as session:
        return await session.get(Case, case_id)


async def card_posted(desk: Desk, case_id: int, message_id: int) -> None:
    async with desk.sessions() as session, session.begin():
        stored = await session.get(Case, case_id)
        if stored is not None:
            stored.card_message_id, stored.card_posted_at = message_id, desk.clock()
            session.add(CaseEvent(case_id=case_id, action="posted"))


@dataclass
class Claimed:
    """A press on Claim: what the presser is told, and the case if they won it."""

    notice: str
    case: Case | None = None
    holder: str | None = None
    alert: bool = True  # the notice stays on screen until dismissed


async def claim(desk: Desk, person: Acting, chat_id: int, pressed: ClaimCase | None) -> Claimed:
    """The first press wins; the others are told who has it. In the presser's language."""
    stale = Claimed(_("This button is no longer active."))
    async with desk.sessions() as session:
        queue = await queues.queue_of_chat(session, chat_id)
        case = await session.get(Case, pressed.case_id) if pressed else None
    if queue is None or case is None or case.id is None or case.queue != queue.name:
        return stale
    if not await access.may_take(desk, queue, person.user_id):
        return Claimed(_("Only the volunteers of this queue can take requests."))
    async with desk.sessions() as session, session.begin():
        volunteer = await claims.remember_volunteer(
            session, person.user_id, person.name, person.language
        )
        result = await claims.claim_case(
            session, case.id, volunteer, desk.settings.max_open_cases, desk.clock()
        )
    if result.claim is Claim.FULL:
        limit = desk.settings.max_open_cases
        return Claimed(
            i18n.ngettext(
                "You already follow {count} open request: close one before taking another.",
                "You already follow {count} open requests: close one before taking another.",
                limit,
            ).format(count=limit)
        )
    if result.claim is Claim.TAKEN and result.holder is not None:
        return Claimed(_("Already taken by {name}.").format(name=i18n.isolate(result.holder)))
    if result.claim is not Claim.WON or result.case is None:
        return stale
    notice = _("It is yours. The details are in your private chat with the bot.")
    return Claimed(notice, result.case, result.holder, alert=False)


async def after_claim(desk: Desk, case: Case, volunteer_id: int) -> Delivery:
    """The claimer gets the details privately, and the resident hears that someone took it."""
    delivery = await news.give_details(desk, case, volunteer_id)
    await news.tell_resident(desk, case, claims.resident_notice)
    return delivery


def taken_card(desk: Desk, claimed: Claimed) -> str:
    """The card as the group now sees it: taken, without its button."""
    assert claimed.case is not None
    with i18n.locale(desk.settings.default_language):
        return claims.card(claimed.case, desk.clock(), holder=claimed.holder).text
