"""The Channel port: how the help desk speaks to anyone other than the person who just wrote.

A channel (Telegram, WhatsApp, the demo's page) delivers a message to one of its users and says
how it went. The outbox, the relays between residents and volunteers, case news, notices and
alerts all go through it; nothing in the domain knows which platform is behind a channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.i18n import aware
from bot.outgoing import Reply, Template


class Outcome(StrEnum):
    DELIVERED = "delivered"
    BLOCKED = "blocked"  # the person blocked the bot, or never opened a chat with it
    RATE_LIMITED = "rate_limited"  # the platform asks to wait `retry_after` seconds
    WINDOW_CLOSED = "window_closed"  # only approved templates may reach them now (WhatsApp)
    UNAVAILABLE = "unavailable"  # the network or the platform failed: try again later
    FAILED = "failed"  # refused for good (too old, malformed): trying again will not help


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    message_ids: tuple[int, ...] = ()  # Telegram's ids of what was sent, in order
    retry_after: float = 0.0
    reference: str | None = None  # the platform's id of the last message sent, if it reports on it

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"  # a voice note: OGG/Opus on both platforms, played as one
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True)
class Media:
    """A file someone sent, carried to the other platform (which cannot copy it)."""

    kind: MediaKind
    content: bytes
    mime_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Copy:
    """A message someone sent in their own chat with the bot, to pass on as it is (a photo,
    a voice note, a document, or text).

    `chat_id` and `message_id` name it on Telegram, which copies it within itself; `text` is
    what it says (a file's caption), for a channel that cannot copy from the other platform.
    A message from another platform has no Telegram ids (see `of_text`) and carries its file
    in `media`; one from Telegram fetches its file with `fetch` only if a channel needs it.
    """

    chat_id: int
    message_id: int
    text: str | None = None
    media: Media | None = None
    fetch: Callable[[], Awaitable[Media | None]] | None = field(default=None, compare=False)

    @classmethod
    def of_text(cls, text: str) -> Copy:
        return cls(0, 0, text)

    @property
    def has_file(self) -> bool:
        return self.media is not None or self.fetch is not None

    async def file(self) -> Media | None:
        """The file it carries, fetched if need be; None for a message of words only, or a file
        that cannot be fetched (too large)."""
        if self.media is None and self.fetch is not None:
            return await self.fetch()
        return self.media

    @property
    def on_telegram(self) -> bool:
        return self.chat_id != 0


class Channel(Protocol):
    per_second: float  # the pace the platform allows for bulk sending, all chats together
    # How many messages one person may get in a row, and in how many seconds, before the
    # platform refuses more (WhatsApp's pair rate limit); None: no such limit to keep to.
    per_person: tuple[int, float] | None
    # How long after a person last wrote the help desk may write to them freely; after it, only
    # templates (WhatsApp: 24 hours). None: always.
    window: timedelta | None

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        """Send a reply (its text, buttons and attachment) to one user of this channel."""
        ...

    async def deliver_template(self, user_id: str, template: Template) -> Delivery:
        """Send the approved template for a purpose; WINDOW_CLOSED when none is configured for
        it, so that the message must wait until the person writes."""
        ...

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        """Send a header line, then a copy of another chat's message, to one user."""
        ...


def window_open(channel: Channel, last_inbound_at: datetime | None, moment: datetime) -> bool:
    """Whether the help desk may write freely to someone who last wrote at `last_inbound_at`."""
    if channel.window is None:
        return True
    return last_inbound_at is not None and moment - aware(last_inbound_at) < channel.window


async def reach(
    channel: Channel, user_id: str, reply: Reply, last_inbound_at: datetime | None, moment: datetime
) -> Delivery:
    """Deliver a reply that can wait for nobody's answer: freely while the person's window is
    open, else as its template; WINDOW_CLOSED when neither may go now."""
    if window_open(channel, last_inbound_at, moment):
        delivery = await channel.deliver(user_id, reply)
        if delivery.outcome is not Outcome.WINDOW_CLOSED:
            return delivery
    if reply.template is None:
        return Delivery(Outcome.WINDOW_CLOSED)
    return await channel.deliver_template(user_id, reply.template)


class Roster(Protocol):
    """Who belongs to a queue's group, as the platform of the groups knows it."""

    async def belongs(self, chat_id: int, user_id: int) -> bool:
        """Whether the user is a member of the group now (deny by default, on any doubt)."""
        ...


class NotRunning:
    """A channel this deployment does not run (e.g. WhatsApp without its settings): it delivers
    nothing, and says so."""

    per_second = 1.0
    per_person: tuple[int, float] | None = None
    window: timedelta | None = None

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        return Delivery(Outcome.UNAVAILABLE)

    async def deliver_template(self, user_id: str, template: Template) -> Delivery:
        return Delivery(Outcome.UNAVAILABLE)

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        return Delivery(Outcome.UNAVAILABLE)


NOT_RUNNING = NotRunning()


class NoGroups:
    """The roster of a deployment without Telegram: nobody belongs to any group."""

    async def belongs(self, chat_id: int, user_id: int) -> bool:
        return False


NOBODY = NoGroups()
