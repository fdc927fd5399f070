"""Statistics for organisers: what the help desk did since a date, as a short summary and a chart
readable on a phone, in the organiser's language (Arabic labels shaped, right to left).

The figures are counted from the database; the chart is drawn with matplotlib's Agg backend
(no screen), imported only when a chart is asked for.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.desk import Desk
from bot.i18n import _, aware, isolate
from bot.intake.flows import DISTRICTS, FLOWS
from bot.intake.questions import option_label
from bot.outgoing import Attachment, Reply
from db.models import Activity, Case, CaseStatus, Enrolment, EnrolmentStatus, Rsvp

WEEKS = 8  # shown when no date is given
RIGHT_TO_LEFT = ("ar", "ur")


@dataclass
class Figures:
    since: date
    weeks: list[tuple[date, Counter[str]]]  # each week's Monday, and its requests by kind
    total: int = 0
    claim_hours: float | None = None  # the median, of the requests claimed
    close_hours: float | None = None  # the median, of the requests closed
    by_district: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    open_by_queue: Counter[str] = field(default_factory=Counter)
    # Per activity title: places, waiting, "I'll come", "I can't".
    activities: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


async def figures(
    session: AsyncSession, zone: ZoneInfo, moment: datetime, since: date | None = None
) -> Figures:
    today = aware(moment).astimezone(zone).date()
    first = since or today - timedelta(weeks=WEEKS - 1, days=today.weekday())
    start = datetime.combine(first, time(), zone)
    cases = (
        await session.exec(select(Case).where(col(Case.created_at) >= start).order_by(col(Case.id)))
    ).all()
    monday = first - timedelta(days=first.weekday())
    weeks: list[tuple[date, Counter[str]]] = []
    while monday <= today:
        weeks.append((monday, Counter()))
        monday += timedelta(weeks=1)
    found = Figures(first, weeks, total=len(cases))
    claim, close = [], []
    for case in cases:
        opened = aware(case.created_at)
        week = opened.astimezone(zone).date()
        index = (week - weeks[0][0]).days // 7
        if 0 <= index < len(weeks):
            weeks[index][1][case.kind] += 1
        found.by_district[case.district or "?"] += 1
        found.by_language[case.language or "?"] += 1
        if case.claimed_at is not None:
            claim.append((aware(case.claimed_at) - opened).total_seconds() / 3600)
        if case.closed_at is not None:
            close.append((aware(case.closed_at) - opened).total_seconds() / 3600)
    found.claim_hours = statistics.median(claim) if claim else None
    found.close_hours = statistics.median(close) if close else None
    still_open = select(Case.queue).where(Case.status != CaseStatus.CLOSED)
    found.open_by_queue = Counter(queue or "?" for queue in (await session.exec(still_open)).all())
    found.activities = await _activities(session, start)
    return found


async def _activities(
    session: AsyncSession, start: datetime
) -> dict[str, tuple[int, int, int, int]]:
    activities = (await session.exec(select(Activity).order_by(col(Activity.id)))).all()
    enrolments = (await session.exec(select(Enrolment))).all()
    answers = (await session.exec(select(Rsvp).where(col(Rsvp.answered_at) >= start))).all()
    of_enrolment = {enrolment.id: enrolment.activity_id for enrolment in enrolments}
    shown: dict[str, tuple[int, int, int, int]] = {}
    for activity in activities:
        theirs = [e for e in enrolments if e.activity_id == activity.id]
        said = [a.coming for a in answers if of_enrolment.get(a.enrolment_id) == activity.id]
        if not theirs and not said:
            continue
        shown[activity.title] = (
            sum(e.status == EnrolmentStatus.ENROLLED for e in theirs),
            sum(e.status == EnrolmentStatus.WAITING for e in theirs),
            sum(said),
            len(said) - sum(said),
        )
    return shown


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return format_timedelta(timedelta(hours=hours), threshold=1.5, locale=i18n.current_language())


def _district(code: str) -> str:
    label = next((option_label(option) for option in DISTRICTS if option.key == code), None)
    return label or "?"


def _kind(kind: str) -> str:
    flow = FLOWS.get(kind)
    return _(flow.title) if flow else kind


def summary(found: Figures) -> str:
    """The figures in a few lines, in the current locale."""
    kinds = Counter[str]()
    for _week, counted in found.weeks:
        kinds.update(counted)
    lines = [
        _("Since {date}, requests: {count} ({kinds}).").format(
            date=i18n.format_day(found.since),
            count=found.total,
            kinds=i18n.format_list(f"{_kind(k)} {n}" for k, n in sorted(kinds.items())) or "—",
        ),
        _("Time to claim a request (median): {time}").format(time=_duration(found.claim_hours)),
        _("Time to close a request (median): {time}").format(time=_duration(found.close_hours)),
    ]
    if found.open_by_queue:
        counts = ", ".join(f"{isolate(q)} {n}" for q, n in sorted(found.open_by_queue.items()))
        lines.append(_("Open requests per queue: {counts}").format(counts=counts))
    return "\n".join(lines)


def drawn(text: str, language: str) -> str:
    """A label as matplotlib must be given it: Arabic and Urdu letters joined into their shapes
    and put in visual order, since it draws the characters one by one, left to right."""
    if language not in RIGHT_TO_LEFT:
        return text
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def chart(found: Figures) -> bytes:
    """The chart as a PNG, labelled in the current locale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    language = i18n.current_language()

    def label(text: str) -> str:
        return drawn(text, language)

    figure = Figure(figsize=(7, 11), dpi=100, layout="constrained")
    weekly, districts, languages, activities = figure.subplots(4, 1)
    days = [i18n.format_day(monday) for monday, _counted in found.weeks]
    bottom = [0] * len(days)
    for kind in sorted({k for _m, counted in found.weeks for k in counted} or set(FLOWS)):
        heights = [counted[kind] for _m, counted in found.weeks]
        weekly.bar(range(len(days)), heights, bottom=bottom, label=label(_kind(kind)))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    weekly.set_xticks(range(len(days)), [label(day) for day in days], rotation=45, ha="right")
    weekly.set_title(label(_("Requests per week")))
    weekly.legend()
    for axes, title, counted, name in (
        (districts, _("Requests by district"), found.by_district, _district),
        (languages, _("Requests by language"), found.by_language, i18n.language_name),
    ):
        items = sorted(counted.items())
        axes.barh([label(name(key)) for key, _n in items], [n for _key, n in items])
        axes.set_title(label(title))
    titles = list(found.activities)
    for offset, (legend, index) in enumerate(
        ((_("places"), 0), (_("waiting"), 1), (_("I'll come"), 2), (_("I can't"), 3))
    ):
        values = [found.activities[title][index] for title in titles]
        positions = [n + offset * 0.2 for n in range(len(titles))]
        activities.barh(positions, values, height=0.2, label=label(legend))
    activities.set_yticks([n + 0.3 for n in range(len(titles))], [label(title) for title in titles])
    activities.set_title(label(_("Activities: places, waiting list and answers")))
    if titles:
        activities.legend()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def stats_reply(desk: Desk) -> Reply:
    """/stats for an organiser: the summary and the chart, in the current locale."""
    async with desk.sessions() as session:
        found = await figures(session, desk.settings.timezone, desk.clock())
    return Reply(summary(found), attachment=Attachment("stats.png", chart(found), picture=True))
