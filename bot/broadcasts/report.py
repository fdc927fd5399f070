"""How broadcasts went: for each, what was sent, what could not be (unreachable, failed) and what
is still on its way, by language and by channel; and stopping one that is still sending."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.buttons import StopBroadcast
from bot.i18n import _, isolate
from bot.outgoing import Button, Reply
from db.models import Broadcast, Outbox, OutboxKind, OutboxStatus, Resident

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


def _rows_of(broadcast_id: int) -> ColumnElement[bool]:
    """The outbox rows of a broadcast, by their keys (see notice.queue)."""
    return col(Outbox.key).startswith(f"broadcast:{broadcast_id}:")


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
    found = await session.exec(
        rows.where(Outbox.kind == OutboxKind.BROADCAST, _rows_of(broadcast.id))
    )
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
            col(Outbox.kind) == OutboxKind.BROADCAST,
            _rows_of(broadcast_id),
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
    segment = ", ".join(f"{key} = {value}" for key, value in broadcast.segment.items())
    lines = [
        _("Broadcast {number} · {when} · {segment}").format(
            number=isolate(f"#{broadcast.id}"),
            when=i18n.format_occurrence(i18n.aware(broadcast.created_at), zone),
            segment=isolate(segment) if segment else _("everyone"),
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
