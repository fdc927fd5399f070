"""Who a broadcast reaches: residents who agreed to the privacy notice, have not said /stop and
can still be reached, narrowed by a segment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.i18n import _
from bot.intake.flows import DISTRICTS, FLOWS
from bot.intake.questions import option_label
from bot.residents.privacy import NOTICE_VERSION
from db.models import Activity, Case, CaseKind, CaseStatus, Consent, Enrolment, Resident

SEGMENT_KEYS = ("language", "district", "activity", "kind")


class SegmentError(ValueError):
    """A segment that names no real group of residents; the message says why, in one line."""


@dataclass(frozen=True)
class Segment:
    """Everyone (no key), or those of a language, of a district (where they asked for help),
    signed up to an activity or waiting for it (by its title), or with an open request of a
    kind. Several keys narrow together."""

    language: str | None = None
    district: str | None = None
    activity: str | None = None
    kind: str | None = None

    @classmethod
    def of(cls, raw: object) -> Segment:
        if not isinstance(raw, Mapping):
            raise SegmentError('segment must be a table, e.g. { language = "ar" } or {}')
        unknown = set(raw) - set(SEGMENT_KEYS)
        if unknown:
            raise SegmentError(
                f"segment: unknown key {sorted(unknown)[0]!r} (keys: {', '.join(SEGMENT_KEYS)})"
            )
        for key, value in raw.items():
            if not isinstance(value, str) or not value.strip():
                raise SegmentError(f"segment: {key} must be a non-empty text")
        if "kind" in raw and raw["kind"] not in set(CaseKind):
            kinds = ", ".join(kind.value for kind in CaseKind)
            raise SegmentError(f"segment: kind must be one of {kinds}")
        return cls(**{key: str(value).strip() for key, value in raw.items()})

    def as_dict(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in SEGMENT_KEYS if getattr(self, key)}


def described(segment: Segment) -> str:
    """Whom a segment reaches, as an organiser reads it in the current language."""
    parts = []
    if segment.language:
        name = i18n.language_name_in(segment.language, i18n.current_language())
        parts.append(_("readers of {language}").format(language=i18n.isolate(name)))
    district = next((option for option in DISTRICTS if option.key == segment.district), None)
    if segment.district:
        parts.append(option_label(district) if district else i18n.isolate(segment.district))
    if segment.activity:
        parts.append(_("signed up to {activity}").format(activity=i18n.isolate(segment.activity)))
    if segment.kind:
        kind = _(FLOWS[segment.kind].title) if segment.kind in FLOWS else segment.kind
        parts.append(_("with an open request for {kind}").format(kind=i18n.isolate(kind)))
    return ", ".join(parts) if parts else _("everyone")


async def residents_in(session: AsyncSession, segment: Segment) -> list[Resident]:
    """The residents the segment reaches, in the order they first wrote."""
    statement = select(Resident).where(
        col(Resident.stopped).is_(False), col(Resident.reachable).is_(True)
    )
    if segment.language:
        statement = statement.where(Resident.language == segment.language)
    if segment.district:
        asked = select(Case.resident_id).where(Case.district == segment.district)
        statement = statement.where(col(Resident.id).in_(asked))
    if segment.kind:
        open_ones = select(Case.resident_id).where(
            Case.kind == segment.kind, Case.status != CaseStatus.CLOSED
        )
        statement = statement.where(col(Resident.id).in_(open_ones))
    if segment.activity:
        titled = select(Activity.id).where(Activity.title == segment.activity)
        signed = select(Enrolment.resident_id).where(col(Enrolment.activity_id).in_(titled))
        statement = statement.where(col(Resident.id).in_(signed))
    found = list((await session.exec(statement.order_by(col(Resident.id)))).all())
    agreed = await _agreed(session)
    return [resident for resident in found if resident.id in agreed]


async def _agreed(session: AsyncSession) -> set[int]:
    """The residents whose latest answer to the current privacy notice is yes."""
    statement = (
        select(Consent.resident_id, Consent.accepted)
        .where(Consent.version == NOTICE_VERSION)
        .order_by(col(Consent.id))
    )
    latest = dict((await session.exec(statement)).all())  # the last answer of each wins
    return {resident_id for resident_id, accepted in latest.items() if accepted}
