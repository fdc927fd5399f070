"""How broadcasts went: for each, what was sent, what could not be (unreachable, failed) and what
is still on its way, by language and by channel; and stopping one that is still sending."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.broadcasts.audience import Segment, described
from bot.buttons import StopBroadcast
from bot.i18n import _, isolate
from bot.outgoing import Button, Reply
from db.models import Broadcast, Outbox, OutboxStatus, Resident

SHOWN = 5  # the latest broadcasts /broadcasts shows
_ON_ITS_WAY = (OutboxStatus.QUEUED, OutboxStatus.HELD)


@dataclass
class Report:
    broadcast: Broadcast
    statuses: Counter[str] = field(default_factory=Counter)
    # Sent of all, per the reader's language and per channel.
    by_language: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_channel: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def pending(self) -> int:
        return sum(self.statuses[status] for status in _ON_ITS_WAY)


@dataclass(frozen=True)
class Progress:
    """How far a broadcast from the chat has gone, for the message that shows its organiser."""

    broadcast: Broadcast
    sent: int
    total: int
    queued: int  # still to send

    @property
    def finished(self) -> bool:
        """Nothing left to send now: all sent or given up, or the broadcast was stopped. (A
        message held for a resident to write again is not waited for.)"""
        return self.broadcast.cancelled_at is not None or self.queued == 0


async def unreported(session: AsyncSession) -> list[Progress]:
    """The broadcasts sent from the chat whose organiser has not had the report yet."""
    statement = (
        select(Broadcast)
        .where(col(Broadcast.created_by).is_not(None), col(Broadcast.reported_at).is_(None))
        .order_by(col(Broadcast.id))
    )
    found = []
    for broadcast in (await session.exec(statement)).all():
        counts = await session.exec(
            select(Outbox.status, func.count())
            .where(Outbox.broadcast_id == broadcast.id)
            .group_by(col(Outbox.status))
        )
        statuses = Counter({status: int(count) for status, count in counts.all()})
        found.append(
            Progress(
                broadcast,
                statuses[OutboxStatus.SENT],
                sum(statuses.values()),
                statuses[OutboxStatus.QUEUED],
            )
        )
    return found


def progress_text(progress: Progress) -> str:
    """The line that shows the organiser how far it has gone, in the current language."""
    number = isolate(f"#{progress.broadcast.id}")
    sent, total = i18n.format_number(progress.sent), i18n.format_number(progress.total)
    if progress.finished:
        text = _("Broadcast {number}: {sent} of {total} sent. Done.")
    else:
        text = _("Broadcast {number}: {sent} of {total} sent…")
    return text.format(number=number, sent=sent, total=total)


async def shown(session: AsyncSession, broadcast_id: int, message_id: int) -> None:
    """The organiser's progress message for the broadcast is this one."""
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(progress_message_id=message_id)
    )


async def reported(session: AsyncSession, broadcast_id: int, moment: datetime) -> None:
    """The organiser has had the report at the end: nothing more to show them."""
    await session.exec(
        update(Broadcast).where(col(Broadcast.id) == broadcast_id).values(reported_at=moment)
    )


async def latest(session: AsyncSession, count: int = SHOWN) -> list[Report]:
    """The latest broadcasts, newest first, each with how it went."""
    statement = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(count)
    return [await _tally(session, found) for found in (await session.exec(statement)).all()]


async def report_of(session: AsyncSession, broadcast_id: int) -> Report | None:
    broadcast = await session.get(Broadcast, broadcast_id) if _plausible(broadcast_id) else None
    return await _tally(session, broadcast) if broadcast is not None else None


async def _tally(session: AsyncSession, broadcast: Broadcast) -> Report:
    assert broadcast.id is not None
    report = Report(broadcast)
    rows = select(Outbox.status, Resident.language, Resident.channel).join(
        Resident, col(Resident.id) == col(Outbox.resident_id)
    )
    found = await session.exec(rows.where(Outbox.broadcast_id == broadcast.id))
    for status, language, channel in found.all():
        report.statuses[status] += 1
        for tally in (report.by_language[language or "?"], report.by_channel[channel]):
            tally["all"] += 1
            tally["sent"] += status == OutboxStatus.SENT
    return report


def _plausible(broadcast_id: int) -> bool:
    """An id a button could really carry (a forged one may not reach the database)."""
    return 0 < broadcast_id < 2**31


async def stop(session: AsyncSession, broadcast_id: int, moment: datetime) -> int | None:
    """Send no more of it: what is still on its way is skipped; how many. None: no such
    broadcast, or stopped already."""
    broadcast = await session.get(Broadcast, broadcast_id) if _plausible(broadcast_id) else None
    if broadcast is None or broadcast.cancelled_at is not None:
        return None
    broadcast.cancelled_at = moment
    result = await session.exec(
        update(Outbox)
        .where(
            col(Outbox.broadcast_id) == broadcast_id,
            col(Outbox.status).in_(_ON_ITS_WAY),
        )
        .values(status=OutboxStatus.SKIPPED, sent_at=moment)
    )
    return int(result.rowcount or 0)


def describe(report: Report, zone: ZoneInfo) -> Reply:
    """One broadcast as an organiser reads it, in the current locale, with a button to stop it
    while it is still sending."""
    broadcast, statuses = report.broadcast, report.statuses
    total = sum(statuses.values())
    lines = [
        _("Broadcast {number} · {when} · {segment}").format(
            number=isolate(f"#{broadcast.id}"),
            when=i18n.format_occurrence(i18n.aware(broadcast.created_at), zone),
            segment=described(Segment.of(broadcast.segment)),
        ),
        _("Sent: {sent} of {total}").format(sent=statuses[OutboxStatus.SENT], total=total),
    ]
    problems = [
        (_("unreachable"), statuses[OutboxStatus.BLOCKED]),
        (_("failed"), statuses[OutboxStatus.FAILED]),
        (_("not sent (stopped, or no longer wanted)"), statuses[OutboxStatus.SKIPPED]),
        (_("on their way"), report.pending),
    ]
    lines += [f"{label}: {count}" for label, count in problems if count]
    if report.by_language:
        per_language = ", ".join(
            f"{isolate(language)} {tally['sent']}/{tally['all']}"
            for language, tally in sorted(report.by_language.items())
        )
        lines.append(_("By language: {counts}").format(counts=per_language))
    if report.by_channel:
        per_channel = ", ".join(
            f"{channel} {tally['sent']}/{tally['all']}"
            for channel, tally in sorted(report.by_channel.items())
        )
        lines.append(_("By channel: {counts}").format(counts=per_channel))
    if broadcast.cancelled_at is not None:
        lines.append(_("Stopped: what was not sent yet will not be sent."))
        return Reply("\n".join(lines))
    if report.pending and broadcast.id is not None:
        stopping = Button(_("Stop sending"), StopBroadcast(broadcast.id).pack())
        return Reply("\n".join(lines), ((stopping,),))
    return Reply("\n".join(lines))
