"""The data model of the help desk: residents, their consents, intakes in progress and cases."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, Text, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel


def now() -> datetime:
    """The wall clock, for the tables' default timestamps; the services read the desk's clock."""
    return datetime.now(UTC)


def _timestamp(**kwargs: Any) -> Any:
    return Field(default_factory=now, sa_column=Column(DateTime(timezone=True), **kwargs))


def _choice(length: int, **kwargs: Any) -> Any:
    """A field holding a member of a StrEnum, stored as the plain string it equals.

    (Given only the enum, SQLModel would make the column an SQL enum of the members' names.)
    Rows read back hold the strings, which compare equal to the members.
    """
    return Field(sa_type=AutoString(length=length), **kwargs)


class Resident(SQLModel, table=True):
    """A person who writes to the bot, known only by their channel's id for them."""

    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # "telegram" or "whatsapp"
    channel_user_id: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=8)  # None until they pick one
    created_at: datetime = _timestamp(nullable=False)
    stopped: bool = False  # said /stop: no reminders or notices until they /start again
    reachable: bool = True  # False once they blocked the bot: bulk sends skip them until they write
    # A sign-up being answered (the activity, then the child's name and age), kept across restarts.
    signup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Personal: a WhatsApp resident's number where the platform gives it (else None); shown only
    # to the volunteer holding their case, listed by /mydata, erased by /delete.
    phone: str | None = Field(default=None, max_length=32)
    # When they last wrote: WhatsApp lets the bot write freely only in the 24 hours after.
    last_inbound_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # The button data of the choices last offered to them, in the order shown, for a channel
    # where people type the number of a choice rather than tap (WhatsApp); None elsewhere.
    choices: list[str] | None = Field(default=None, sa_column=Column(JSON))


class Consent(SQLModel, table=True):
    """A resident's answer to the privacy notice of a given version (refusals are kept too)."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True, ondelete="CASCADE")
    version: str = Field(max_length=16)
    accepted: bool
    answered_at: datetime = _timestamp(nullable=False)


class CaseKind(StrEnum):
    """What help is asked for: each kind has its intake flow."""

    HOUSING = "housing"
    FOOD = "food"


class Intake(SQLModel, table=True):
    """The intake a resident is answering: saved with every answer, so a restart loses nothing."""

    resident_id: int = Field(foreign_key="resident.id", primary_key=True, ondelete="CASCADE")
    flow: CaseKind = _choice(16)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    path: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    editing: str | None = Field(default=None, max_length=32)  # step changed from the summary
    draft: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confirming_cancel: bool = False
    revision: int = 0  # bumped by every change; buttons carry it so stale presses are refused
    started_at: datetime = _timestamp(nullable=False)


class CaseStatus(StrEnum):
    NEW = "new"  # waiting for a volunteer to claim it
    CLAIMED = "claimed"
    WAITING = "waiting"  # for the resident's answer
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    """How a closed case ended."""

    RESOLVED = "resolved"
    REFERRED = "referred"
    NOT_ELIGIBLE = "not_eligible"
    NO_ANSWER = "no_answer"


class Case(SQLModel, table=True):
    """A confirmed request for help. Erasing the resident keeps only the statistical columns."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(
        default=None, foreign_key="resident.id", index=True, ondelete="SET NULL"
    )
    kind: CaseKind = _choice(16)
    status: CaseStatus = _choice(16, default=CaseStatus.NEW)
    language: str = Field(max_length=8)
    # The channel the resident asked on (telegram, whatsapp), kept for statistics once the
    # resident is erased; None for requests opened before it was kept.
    channel: str | None = Field(default=None, max_length=16)
    district: str | None = Field(default=None, max_length=16)
    urgency: str | None = Field(default=None, max_length=16)
    household_size: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _timestamp(nullable=False)
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    queue: str | None = Field(default=None, max_length=32, index=True)  # None: no queue yet
    card_message_id: int | None = None  # the card in the queue's group, once posted
    card_posted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    claimed_by: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    claimed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    outcome: CaseOutcome | None = _choice(16, default=None)  # once closed
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # The last message between resident and volunteer, and the last nudge about the case:
    # nudges are due from these, so a restart neither loses nor repeats one.
    last_message_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    nudged_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def number(self) -> str:
        return case_number(self.id or 0)


class Queue(SQLModel, table=True):
    """A team of volunteers: the Telegram group where the cases routed to it are posted."""

    name: str = Field(primary_key=True, max_length=32)
    chat_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    reachable: bool = True  # False once the bot was removed from the group: its cases wait
    updated_at: datetime = _timestamp(nullable=False)


class Volunteer(SQLModel, table=True):
    """Someone who acted in a queue's group, as the bot knows them."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(max_length=64)  # their Telegram first name, shown on the cards they take
    language: str | None = Field(default=None, max_length=8)
    private_chat: bool = False  # they started the bot privately, so it can write to them


class CaseEvent(SQLModel, table=True):
    """One line of a case's history: who did what, when. Organisers read it."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True, ondelete="CASCADE")
    actor: int | None = Field(default=None, sa_column=Column(BigInteger))  # None: the bot
    action: str = Field(max_length=24)  # "routed", "posted", "claimed", "released", …
    note: str | None = Field(default=None, sa_column=Column(Text))  # internal notes only
    at: datetime = _timestamp(nullable=False)


class CaseMessage(SQLModel, table=True):
    """A message the bot put in a volunteer's chat for a case: a reply to it goes to that case."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    case_id: int = Field(foreign_key="case.id", index=True, ondelete="CASCADE")


class ActivityKind(StrEnum):
    HOMEWORK = "homework"
    THEATRE = "theatre"
    EVENT = "event"
    MEETING = "meeting"


class ActivityStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # no reminders, and residents do not see it
    CANCELLED = "cancelled"


class Activity(SQLModel, table=True):
    """Something the space runs: a homework group, a theatre lab, an event, a meeting."""

    __table_args__ = (UniqueConstraint("kind", "title", "starts_local"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ActivityKind = _choice(16)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    place: str = Field(default="", max_length=200)
    # Wall-clock time in the deployment's time zone: a weekly 16:30 stays at 16:30 across
    # daylight-saving changes, so occurrences are computed in local time, then placed in UTC.
    starts_local: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    repeat: str = Field(default="none", max_length=200)  # none, weekly, monthly or an RRULE
    duration_minutes: int = 60
    capacity: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: ActivityStatus = _choice(16, default=ActivityStatus.ACTIVE)
    # Title and description in other languages, as the organiser writes them:
    # {"ar": {"title": "…", "description": "…"}}. Residents see their language's, else the main.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = _timestamp(nullable=False)


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"  # has a place
    WAITING = "waiting"  # on the waitlist


class Enrolment(SQLModel, table=True):
    """A place in an activity, or on its waitlist: one per child for homework groups."""

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    resident_id: int = Field(foreign_key="resident.id", index=True, ondelete="CASCADE")
    # The child's first name for a homework group, else the resident's name as their chat shows
    # it: what the organiser reads on the list. Deleted with the resident's data.
    name: str = Field(max_length=64)
    age: int | None = None  # the child's, for homework groups
    status: EnrolmentStatus = _choice(16, default=EnrolmentStatus.ENROLLED)
    created_at: datetime = _timestamp(nullable=False)  # the waitlist's order
    # When the place was taken (at sign-up, or at promotion from the waitlist): reminders due
    # before it are not sent, the resident knew the date when they joined.
    enrolled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Rsvp(SQLModel, table=True):
    """A resident's answer to a reminder: coming to that occurrence or not."""

    enrolment_id: int = Field(foreign_key="enrolment.id", primary_key=True, ondelete="CASCADE")
    occurrence: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    coming: bool
    answered_at: datetime = _timestamp(nullable=False)


class Cancellation(SQLModel, table=True):
    """One occurrence of an activity that will not take place."""

    activity_id: int = Field(foreign_key="activity.id", primary_key=True, ondelete="CASCADE")
    occurrence: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    cancelled_at: datetime = _timestamp(nullable=False)


class OutboxKind(StrEnum):
    """What an outbox message says."""

    REMINDER = "reminder"  # of an occurrence the resident has a place in
    PROMOTED = "promoted"  # from the waitlist to a place
    OCCURRENCE_CANCELLED = "occurrence_cancelled"
    ACTIVITY_CHANGED = "activity_changed"  # its date or its place
    ACTIVITY_CANCELLED = "activity_cancelled"
    BROADCAST = "broadcast"  # an organiser's notice (payload: broadcast, text in their language)
    # What could not reach a resident whose WhatsApp window had closed, kept until they write:
    RELAY = "relay"  # a volunteer's message (payload: case, header, text; emptied once read)
    NEWS = "news"  # news of their case, in their language (payload: text)


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    # Found too late to be of use, or the resident stopped or left in the meantime.
    SKIPPED = "skipped"
    BLOCKED = "blocked"  # the resident blocked the bot
    FAILED = "failed"  # refused for good by the channel
    # Waits for the resident to write: their window is closed and no template may say it.
    HELD = "held"


class Outbox(SQLModel, table=True):
    """A message to a resident that is not an answer: a reminder, a promotion, a cancellation.

    The row is written in the transaction that decides the message is due, and its key is
    unique, so deciding twice queues it once. A paced sender delivers queued rows and marks
    each one, so a restart resumes where it stopped.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)  # e.g. "reminder:12:2026-11-24T15:30:1440"
    resident_id: int = Field(foreign_key="resident.id", index=True, ondelete="CASCADE")
    kind: OutboxKind = _choice(24)  # what to say
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Queued (or held), then sent, blocked, failed or skipped.
    status: OutboxStatus = _choice(16, default=OutboxStatus.QUEUED, index=True)
    created_at: datetime = _timestamp(nullable=False)
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # The platform's id for the message sent, and the last status it reported for it (WhatsApp:
    # sent, delivered, read or failed), so that a status arriving later finds its row.
    platform_message_id: str | None = Field(default=None, max_length=128, index=True)
    delivery: str | None = Field(default=None, max_length=16)
    broadcast_id: int | None = Field(default=None, index=True)  # the broadcast it is part of


class DeliveryReport(SQLModel, table=True):
    """A platform's word on a message it took (delivered, read, failed) that came before the
    sender had saved the message's id on its outbox row: kept a little while for the sender to
    find, so that no report is lost to the race."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=128, index=True)  # the platform's id for the message
    status: str = Field(max_length=16)  # sent, delivered, read or failed
    problem: str | None = Field(default=None, max_length=24)  # why it failed (an Outcome)
    received_at: datetime = _timestamp(nullable=False, index=True)


class Broadcast(SQLModel, table=True):
    """A notice an organiser sent to a segment of residents: one outbox row per recipient,
    written in the transaction that queues it, so that a restart neither skips nor repeats one."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _timestamp(nullable=False)
    # The organiser's Telegram id; None when queued from the command line.
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    texts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recipients: int = 0
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # The organiser's language, and the message in their chat that shows how the sending goes
    # (None until it is posted); reported_at: when they got the report at the end.
    language: str | None = Field(default=None, max_length=16)
    progress_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    reported_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, the webhook answered; its effects not applied yet
    APPLIED = "applied"  # its effects committed, with the answer to send
    ANSWERED = "answered"  # the answer went out (or there was none)


class Inbound(SQLModel, table=True):
    """A message a resident sent through a webhook that is answered once the message is stored
    (WhatsApp): kept until it is applied and answered, so that a crash loses none of it.

    The answer is written in the transaction that applies the message, so one applied before
    a crash is answered after it, and never applied twice.
    """

    channel: str = Field(primary_key=True, max_length=16)
    message_key: str = Field(primary_key=True, max_length=128)  # the platform's message id
    sender: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _timestamp(nullable=False, index=True)
    status: InboundStatus = _choice(16, default=InboundStatus.RECEIVED, index=True)
    answer: list[Any] | None = Field(default=None, sa_column=Column(JSON))


class DraftForm(StrEnum):
    ACTIVITY = "activity"  # creating an activity, or changing one
    BROADCAST = "broadcast"


class Draft(SQLModel, table=True):
    """What an organiser is writing in the chat, kept across restarts: an activity they are
    creating or changing, or a broadcast. One at a time: starting another replaces it."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    form: DraftForm = _choice(16, default=DraftForm.ACTIVITY)
    activity_id: int | None = None  # the activity being changed; None while creating one
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    revision: int = 0


def case_number(case_id: int) -> str:
    """The reference a resident and the volunteers quote for a case."""
    return f"SP-{case_id:05d}"


class SeenUpdate(SQLModel, table=True):
    """An inbound update already handled; a re-delivered one is dropped instead of applied twice."""

    channel: str = Field(primary_key=True, max_length=16)
    update_key: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = _timestamp(nullable=False, index=True)


class Lease(SQLModel, table=True):
    """Work that one process must do for the whole deployment (the paced outbox, reminders,
    nudges): who holds it, and until when. The holder renews it while alive; once it lapses,
    another process may take it."""

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
