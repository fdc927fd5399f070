"""One inbound event from a resident, handled inside one transaction in the resident's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.clock import Clock, now
from bot.config import Settings
from db.models import Intake, Resident, SeenUpdate
from db.session import Sessions, insert_or_ignore, one_at_a_time

SEEN_KEPT_FOR = timedelta(days=2)  # a re-delivery comes within seconds or hours, not days


@dataclass(frozen=True)
class Sender:
    """Who wrote, as the channel names them."""

    channel: str
    user_id: str
    language_hint: str | None = None  # e.g. Telegram's language_code


@dataclass
class Conversation:
    session: AsyncSession
    settings: Settings
    sender: Sender
    resident: Resident | None
    intake: Intake | None  # the intake being answered, loaded with the resident
    clock: Clock = field(default=now)  # the desk's clock: what time it is for the services

    @property
    def language(self) -> str:
        if self.resident and self.resident.language:
            return self.resident.language
        return self.settings.language_for(self.sender.language_hint)

    async def ensure_resident(self) -> Resident:
        """The resident row, created on first contact with the language their client suggests."""
        if self.resident is None:
            hinted = i18n.match_language(self.sender.language_hint, self.settings.languages)
            self.resident = Resident(
                channel=self.sender.channel, channel_user_id=self.sender.user_id, language=hinted
            )
            self.session.add(self.resident)
            await self.session.flush()
        return self.resident


@asynccontextmanager
async def conversation(
    sessions: Sessions,
    settings: Settings,
    sender: Sender,
    update_key: str | None,
    clock: Clock = now,
) -> AsyncIterator[Conversation | None]:
    """Open a transaction for one event; yields None when the event was already handled.

    Everything done inside is committed together when the block ends, before the caller sends
    any reply: an acknowledged answer is always on disk.
    """
    async with sessions() as session, session.begin():
        await in_turn(session, sender)
        if update_key is not None and not await first_delivery(session, sender.channel, update_key):
            yield None
            return
        # One statement for both rows: every update needs them, and each statement costs.
        statement = (
            select(Resident, Intake)
            .outerjoin(Intake, col(Intake.resident_id) == col(Resident.id))
            .where(Resident.channel == sender.channel, Resident.channel_user_id == sender.user_id)
        )
        resident, current = (await session.exec(statement)).first() or (None, None)
        if resident is not None and not resident.reachable:
            resident.reachable = True  # they write again, so they no longer block the bot
        convo = Conversation(session, settings, sender, resident, current, clock)
        with i18n.locale(convo.language):
            yield convo


async def in_turn(session: AsyncSession, sender: Sender) -> None:
    """Wait for the transactions of the sender's earlier updates to end, and keep later ones
    waiting until this one ends: one person's updates apply one after the other, whichever of
    several workers took them (and a second delivery of one finds it recorded by the first)."""
    await one_at_a_time(session, f"{sender.channel}:{sender.user_id}")


async def first_delivery(session: AsyncSession, channel: str, update_key: str) -> bool:
    """Remember an update; False when it was handled before (Telegram delivered it again)."""
    # The wall clock: Telegram delivers again on real time, whatever the services' clock says.
    statement = insert_or_ignore(session, SeenUpdate).values(
        channel=channel, update_key=update_key, seen_at=now()
    )
    # A plain statement on the session's connection: the ORM has nothing to track here.
    connection = await session.connection()
    result = await connection.execute(statement)
    return bool(result.rowcount == 1)


async def handled_before(sessions: Sessions, channel: str, update_key: str) -> bool:
    """Whether an update was handled already (a webhook delivers again when unsure)."""
    async with sessions() as session:
        return await session.get(SeenUpdate, (channel, update_key)) is not None


async def mark_handled(sessions: Sessions, channel: str, update_key: str) -> None:
    """Record an update once it is handled, for updates no conversation recorded itself."""
    async with sessions() as session, session.begin():
        await first_delivery(session, channel, update_key)


async def forget_old_updates(sessions: Sessions) -> None:
    """Drop the memory of updates too old to be delivered again."""
    async with sessions() as session, session.begin():
        cutoff = now() - SEEN_KEPT_FOR  # the wall clock, as first_delivery's seen_at
        await session.exec(delete(SeenUpdate).where(col(SeenUpdate.seen_at) < cutoff))


async def language_of(sessions: Sessions, settings: Settings, sender: Sender) -> str:
    """The language the sender reads the bot in, even when the database is what failed."""
    fallback = settings.language_for(sender.language_hint)
    try:
        async with sessions() as session:
            statement = select(Resident.language).where(
                Resident.channel == sender.channel, Resident.channel_user_id == sender.user_id
            )
            return (await session.exec(statement)).first() or fallback
    except Exception:  # the apology must go out whatever failed
        return fallback
