"""Who may act on a case: its volunteer while they still belong to its queue, and for reading
its history, an organiser. Deny by default."""

from __future__ import annotations

from bot.cases import casework
from bot.desk import Desk
from db.models import Case, Queue


async def may_take(desk: Desk, queue: Queue, user_id: int) -> bool:
    """A queue's requests are for its listed volunteers, or else for the members of its group."""
    configured = desk.settings.queue(queue.name)
    if configured is not None and configured.volunteers is not None:
        return user_id in configured.volunteers
    return await desk.roster.belongs(queue.chat_id, user_id)


async def still_volunteer(desk: Desk, case: Case, user_id: int) -> bool:
    """Whoever holds a case must still belong to its queue: leaving the group ends access."""
    async with desk.sessions() as session:
        queue = await session.get(Queue, case.queue) if case.queue else None
    return queue is not None and await may_take(desk, queue, user_id)


async def held_case(desk: Desk, case_id: int | None, user_id: int) -> Case | None:
    """The case, if this volunteer holds it and still belongs to its queue.

    Read outside any transaction: the roster may ask the platform.
    """
    async with desk.sessions() as session:
        case = await casework.held_by(session, case_id, user_id)
    if case is None or not await still_volunteer(desk, case, user_id):
        return None
    return case


async def readable_case(desk: Desk, case_id: int | None, user_id: int) -> Case | None:
    """The case, for its volunteer or an organiser (its details and history)."""
    if case_id is None:
        return None
    async with desk.sessions() as session:
        case = await session.get(Case, case_id)
    if case is None or not (case.claimed_by == user_id or user_id in desk.settings.organisers):
        return None
    return case
