"""The queues the bot knows: from the config file or set from a group, and where cases go."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.routing import choose_queue
from bot.clock import now
from bot.config import Settings
from db.models import Case, CaseEvent, CaseStatus, Queue
from db.session import one_at_a_time


async def sync_from_config(session: AsyncSession, settings: Settings, moment: datetime) -> None:
    """Make the queues of the config file known; the file wins over /setqueue for its names."""
    for configured in settings.queues:
        if configured.chat_id is not None:
            await set_queue(session, configured.name, configured.chat_id, moment)


async def set_queue(
    session: AsyncSession, name: str, chat_id: int, moment: datetime | None = None
) -> Queue:
    """Make the group `chat_id` the queue `name` (a group serves one queue at a time).

    `moment` comes from the desk's clock; without it (older callers), the wall clock. Workers
    starting together each do it from the config: one after the other, not both inserting.
    """
    await one_at_a_time(session, "queues")
    other = (await session.exec(select(Queue).where(Queue.chat_id == chat_id))).first()
    if other is not None and other.name != name:
        await session.delete(other)
        await session.flush()
    queue = await session.get(Queue, name)
    if queue is None:
        queue = Queue(name=name, chat_id=chat_id)
        session.add(queue)
    queue.chat_id, queue.reachable, queue.updated_at = chat_id, True, moment or now()
    await session.flush()
    return queue


async def queue_of_chat(session: AsyncSession, chat_id: int) -> Queue | None:
    return (await session.exec(select(Queue).where(Queue.chat_id == chat_id))).first()


async def follow_migration(
    session: AsyncSession, old_chat_id: int, new_chat_id: int, moment: datetime | None = None
) -> None:
    """A group became a supergroup and changed id: its queue follows it.

    `moment` comes from the desk's clock; without it (older callers), the wall clock.
    """
    queue = await queue_of_chat(session, old_chat_id)
    if queue is not None:
        queue.chat_id, queue.updated_at = new_chat_id, moment or now()


async def mark_unreachable(
    session: AsyncSession, chat_id: int, moment: datetime | None = None
) -> Queue | None:
    """The bot can no longer post in the group: its cases wait until it is back.

    `moment` comes from the desk's clock; without it (older callers), the wall clock.
    """
    queue = await queue_of_chat(session, chat_id)
    if queue is not None and queue.reachable:
        queue.reachable, queue.updated_at = False, moment or now()
        return queue
    return None


async def known_queues(session: AsyncSession, settings: Settings) -> list[str]:
    """Queue names in the config file's order, then those set from the chat by name."""
    names = list((await session.exec(select(Queue.name))).all())
    return _in_order(names, settings)


def _in_order(names: list[str], settings: Settings) -> list[str]:
    order = {queue.name: i for i, queue in enumerate(settings.queues)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


async def route(
    session: AsyncSession, settings: Settings, case: Case, names: list[str] | None = None
) -> None:
    """Give a new case its queue, if there is any queue yet (otherwise it waits for one)."""
    if names is None:
        names = await known_queues(session, settings)
    case.queue = choose_queue(settings.routes, names, case.kind, case.district, case.language)
    if case.queue is not None and case.id is not None:
        session.add(CaseEvent(case_id=case.id, action="routed"))


async def cases_to_post(session: AsyncSession, settings: Settings) -> list[tuple[Case, Queue]]:
    """New cases whose card is not in their queue's group yet, oldest first."""
    known = {queue.name: queue for queue in (await session.exec(select(Queue))).all()}
    if not known or not any(queue.reachable for queue in known.values()):
        return []  # nowhere to post: the cases wait, as they are
    names = _in_order(list(known), settings)
    waiting = (
        await session.exec(
            select(Case)
            .where(Case.status == CaseStatus.NEW, col(Case.card_message_id).is_(None))
            .order_by(col(Case.id))
        )
    ).all()
    ready: list[tuple[Case, Queue]] = []
    for case in waiting:
        if case.queue not in known:  # no queue yet, or its queue was given up: route again
            await route(session, settings, case, names)
        queue = known.get(case.queue or "")
        if queue is not None and queue.reachable:
            ready.append((case, queue))
    return ready
