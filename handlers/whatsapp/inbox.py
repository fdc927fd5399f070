"""Residents' WhatsApp messages, from the stored row to the answer sent.

The webhook stores each message and answers Meta (see webhook.py); the inbox then applies the
stored messages of each resident one at a time, in the order they arrived, and sends each
answer. A message is applied in one transaction together with its answer, and the answer is
sent after that; on start, whatever the last run left (received, or applied but not answered)
is taken up again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from pywa.errors import WhatsAppError
from pywa_async.client import WhatsApp

from bot import i18n, lease
from bot.cases import volunteering
from bot.channel import Copy, Media, MediaKind
from bot.clock import now
from bot.desk import Desk
from bot.i18n import N_, _
from bot.outbox import store as outbox
from bot.outgoing import Attachment, Button, Reply, Response
from bot.residents import dialogue, inbound
from bot.residents.conversation import Sender, conversation
from bot.residents.intents import Intent, typed
from bot.residents.phones import language_of_number
from db.models import Inbound, InboundStatus
from handlers.whatsapp import render
from handlers.whatsapp.codes import TRY_AGAIN
from handlers.whatsapp.render import CHOOSE
from handlers.whatsapp.throughput import Throughput

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
RETRIES = 5
CANNOT_PASS = N_(
    "This kind of message cannot reach your volunteer. Please write in words, or send a photo, "
    "a document or a voice note."
)
ANSWERS_KNOWN = 2_000  # the answers whose statuses are known not to concern the outbox
# How long a worker holds a resident's messages while answering them (renewed meanwhile); a
# worker that dies holding them leaves them to another after this long and its next look.
DRAIN_TERM = timedelta(seconds=20)
SWEEP_EVERY = timedelta(seconds=10)  # looks for messages that nobody is taking up


class Inbox:
    """`after` is told of each response once its effects are committed (cards to post in the
    queues' groups, news queued in the outbox): the composition root knows who does that."""

    def __init__(
        self,
        desk: Desk,
        client: WhatsApp,
        after: Callable[[Response], None] = lambda _: None,
        throughput: Throughput | None = None,
    ) -> None:
        self.desk = desk
        self.client = client
        self.after = after
        self.throughput = throughput  # the number's, shared with bulk sending: answers first
        self._draining: dict[str, asyncio.Task[None]] = {}
        # WhatsApp's ids of the latest answers, oldest first: their statuses concern no outbox
        # row (a dict, as an ordered set).
        self._answers: dict[str, None] = {}
        self._asked: defaultdict[str, int] = defaultdict(int)
        self.holder = lease.holder_name()  # what this worker's leases on residents say
        self.shared = desk.engine.dialect.name == "postgresql"  # other workers may drain too
        self._sweeping: asyncio.Task[None] | None = None

    def _remember(self, message_id: str) -> None:
        self._answers[message_id] = None
        if len(self._answers) > ANSWERS_KNOWN:
            del self._answers[next(iter(self._answers))]

    def answered(self, message_id: str) -> bool:
        """Whether WhatsApp's id names one of the latest answers (not an outbox message)."""
        return message_id in self._answers

    async def start(self) -> None:
        """Take up what the last run left, and look regularly for messages nobody is taking up
        (a worker that died holding them)."""
        for sender in await inbound.waiting_senders(self.desk.sessions, CHANNEL):
            self.wake(sender)
        self._sweeping = asyncio.create_task(self._sweep(), name="whatsapp sweep")

    async def stop(self) -> None:
        tasks = list(self._draining.values())
        if self._sweeping is not None:
            tasks.append(self._sweeping)
            self._sweeping = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def wake(self, sender: str) -> None:
        """A message of `sender` was stored: apply it after those before it."""
        self._asked[sender] += 1
        if sender not in self._draining:
            self._draining[sender] = asyncio.create_task(self._drain(sender), name="whatsapp")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY.total_seconds())
            before = self.desk.clock() - SWEEP_EVERY
            try:
                senders = await inbound.waiting_senders(self.desk.sessions, CHANNEL, before)
            except Exception as error:  # the database is away: at the next look
                log.warning("the inbox could not be looked at: %s", type(error).__name__)
                continue
            for sender in senders:
                self.wake(sender)

    async def _drain(self, sender: str) -> None:
        """Apply and answer the resident's messages in order, while this worker holds their
        lease: another worker that stored a message of theirs meanwhile leaves it to this one,
        which looks again after letting the lease go, so that no message is left behind."""
        name = _lease_of(sender)
        held_at: float | None = None
        try:
            while True:
                if held_at is None or time.monotonic() - held_at > DRAIN_TERM.total_seconds() / 3:
                    if not await self._hold(name):
                        return  # another worker is answering them
                    held_at = time.monotonic()
                asked = self._asked[sender]
                row = await inbound.next_of(self.desk.sessions, CHANNEL, sender)
                if row is not None:
                    await self._handle(row)
                    continue
                if asked != self._asked[sender]:
                    continue  # something came meanwhile
                await self._let_go(name)
                held_at = None
                if await inbound.next_of(self.desk.sessions, CHANNEL, sender) is None:
                    return
        except Exception:
            log.exception("a WhatsApp message could not be handled; it is tried again soon")
        finally:
            self._draining.pop(sender, None)
            self._asked.pop(sender, None)
            if held_at is not None:
                with contextlib.suppress(Exception):  # it lapses by itself then
                    await self._let_go(name)

    async def _hold(self, name: str) -> bool:
        """Take or renew the lease on a resident's messages. Only where several workers can
        share the database (PostgreSQL): SQLite has one process, whose drains are one per
        resident already, and the lease would cost two commits a message."""
        if not self.shared:
            return True
        return await lease.hold(self.desk.sessions, name, self.holder, now(), DRAIN_TERM)

    async def _let_go(self, name: str) -> None:
        if self.shared:
            await lease.release(self.desk.sessions, name, self.holder, forget=True)

    async def _handle(self, row: Inbound) -> None:
        answer = row.answer or []
        if row.status == InboundStatus.RECEIVED:
            # Shown while the message is applied, and before the answer (which ends it).
            typing = asyncio.create_task(self._typing(row.message_key))
            try:
                answer = await self._apply(row)
            finally:
                await typing
        await self._send(row.sender, answer)
        await inbound.answered(self.desk.sessions, row)

    async def _apply(self, row: Inbound) -> list[Any]:
        """The message's effects and its answer, committed together."""
        desk = self.desk
        message: dict[str, Any] = row.payload.get("message", {})
        number = str(message.get("from") or "")
        sender = Sender(CHANNEL, row.sender, language_of_number(number))
        async with conversation(
            desk.sessions, desk.settings, sender, row.message_key, desk.clock
        ) as convo:
            if convo is None:  # applied already (the row was lost): nothing to answer again
                return []
            response = await _intent(message)(convo)
            resident = convo.resident
            if resident is not None:
                resident.last_inbound_at = desk.clock()
                # Their window is open again: what waited for it goes now.
                if resident.id is not None and await outbox.release(convo.session, resident.id):
                    response.outbox_news = True
                if number and row.sender != number:
                    resident.phone = f"+{number}"
            with i18n.locale(convo.language):
                answer = [*_answer(response, message), {"choose": _(CHOOSE)}]
            if resident is not None:  # what a number they type next chooses, if anything
                offers = [r for r in (response.edit, *response.replies) if r and r.buttons]
                resident.choices = render.offered(offers[-1]) if offers else None
            await inbound.applied(convo.session, row, answer)
        self.after(response)
        return answer

    async def _typing(self, message_id: str) -> None:
        """Their message shows as read, and "typing…" until the answer comes: nothing more is
        tried if WhatsApp does not take it."""
        try:
            await self.client.indicate_typing(message_id)
        except (WhatsAppError, httpx.HTTPError) as error:
            log.info("a message could not be marked read: %s", type(error).__name__)

    async def _send(self, to: str, answer: list[Any]) -> None:
        choose = next((item["choose"] for item in answer if "choose" in item), CHOOSE)
        replies = [_reply(item["reply"]) for item in answer if "reply" in item]
        relay = next((item for item in answer if "relay" in item), None)
        if relay is not None and not await self._relay(relay):
            replies = [_reply(relay["undelivered"])] if relay.get("undelivered") else []
        for reply in replies:
            for outgoing in render.draw(reply):
                await self._send_one(to, outgoing, choose)

    async def _relay(self, relay: dict[str, Any]) -> bool:
        """The resident's message to the Telegram volunteer following their case: its words,
        or its file downloaded from the Graph API (with its caption)."""
        text, media = relay.get("text"), None
        if relay.get("media"):
            media = await self._download(relay["media"])
            if media is None:
                return False
        elif text is None:
            return False  # nothing a volunteer could be given (_answer says so instead)
        copy = Copy(0, 0, str(text) if text is not None else None, media)
        relayed = await volunteering.resident_wrote(self.desk, int(relay["relay"]), copy)
        if relayed.given_back is not None:
            self.after(relayed.given_back)
        return relayed.delivered

    async def _download(self, stored: dict[str, Any]) -> Media | None:
        try:
            found = await self.client.get_media_url(str(stored["id"]))
            content = await self.client.get_media_bytes(found.url)
        except (WhatsAppError, httpx.HTTPError) as error:
            log.warning("a resident's file could not be downloaded: %s", type(error).__name__)
            return None
        mime = str(stored.get("mime") or found.mime_type or "application/octet-stream")
        return Media(MediaKind(stored["kind"]), content, mime, stored.get("filename"))

    async def _send_one(self, to: str, outgoing: render.Outgoing, choose: str) -> None:
        for attempt in range(RETRIES):
            try:
                if self.throughput is not None:
                    await self.throughput.turn(answer=True)
                self._remember(await render.send(self.client, to, outgoing, choose))
                return
            except WhatsAppError as error:
                if error.code not in TRY_AGAIN:  # the number's or one person's rate, Meta's trouble
                    log.warning("WhatsApp refused an answer (code %s)", error.code)
                    return
            except httpx.HTTPError as error:
                log.warning("WhatsApp could not be reached: %s", type(error).__name__)
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        log.warning("an answer on WhatsApp was given up after %d attempts", RETRIES)


def _lease_of(sender: str) -> str:
    """The name of the lease on a resident's messages: a digest of their id (the lease table
    keeps nobody's number)."""
    return "wa:" + hashlib.blake2b(sender.encode(), digest_size=12).hexdigest()


def _intent(message: dict[str, Any]) -> Intent:
    """What the resident's message asks: a command, a choice, an answer, or something else."""
    kind = message.get("type")
    if kind == "text":
        return typed(_text(_part(message, "text").get("body")))
    if kind == "interactive":
        interactive = _part(message, "interactive")
        chosen = _part(interactive, "button_reply") or _part(interactive, "list_reply")
        data = _text(chosen.get("id"))
        return lambda convo: dialogue.press(convo, data)
    if kind == "button":  # a quick-reply button of a template
        data = _text(_part(message, "button").get("payload"))
        return lambda convo: dialogue.press(convo, data)
    return dialogue.unsupported


def _part(message: dict[str, Any], key: str) -> dict[str, Any]:
    """A part of a message as Meta nests it; empty where it is missing or not an object."""
    found = message.get(key)
    return found if isinstance(found, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _answer(response: Response, message: dict[str, Any]) -> list[dict[str, Any]]:
    """What to send for a response, stored with its effects. WhatsApp cannot change a sent
    message, so a question that changed (a choice ticked) comes again; a question closed needs
    nothing, the resident's choice shows in the chat; a notice is said when nothing else is.
    A message for the resident's volunteer is passed on first, at sending time."""
    replies = [response.edit] if response.edit is not None else []
    replies += response.replies
    if not replies and response.notice:
        replies.append(Reply(response.notice))
    text, media = _words_of(message), _media_of(message)
    if media is not None:
        text = media.pop("caption", None)
    if response.relay_for_case is not None and text is None and media is None:
        # A sticker, a reaction: nothing a volunteer could be given.
        replies = [Reply(_(CANNOT_PASS))]
    answer: list[dict[str, Any]] = [{"reply": _stored(reply)} for reply in replies]
    if response.relay_for_case is not None and (text is not None or media is not None):
        undelivered = _stored(response.undelivered) if response.undelivered else None
        answer.append(
            {
                "relay": response.relay_for_case,
                "text": text,
                "media": media,
                "undelivered": undelivered,
            }
        )
    return answer


def _words_of(message: dict[str, Any]) -> str | None:
    """What a resident's message says, for their volunteer: its text, or where a shared place
    is (with a link to the map)."""
    kind = message.get("type")
    if kind == "text":
        return _text(_part(message, "text").get("body")) or None
    place = message.get("location")
    if kind == "location" and isinstance(place, dict):
        try:
            lat, lon = float(place["latitude"]), float(place["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
        named = ", ".join(str(place[key]) for key in ("name", "address") if place.get(key))
        link = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
        return "\n".join(line for line in (f"📍 {named}" if named else "📍", link) if line)
    return None


_MEDIA_KINDS = {
    "image": MediaKind.PHOTO,
    "document": MediaKind.DOCUMENT,
    "audio": MediaKind.AUDIO,
    "video": MediaKind.VIDEO,
}


def _media_of(message: dict[str, Any]) -> dict[str, Any] | None:
    """The file a resident sent, as stored until it is passed on: Meta's id to download it by,
    its kind (a voice note is audio marked as voice), type, name and caption."""
    kind = _MEDIA_KINDS.get(str(message.get("type")))
    found = message.get(str(message.get("type")))
    if kind is None or not isinstance(found, dict) or not isinstance(found.get("id"), str):
        return None
    if kind is MediaKind.AUDIO and found.get("voice"):
        kind = MediaKind.VOICE
    return {
        "kind": kind.value,
        "id": found["id"],
        "mime": _text(found.get("mime_type")) or None,
        "filename": _text(found.get("filename")) or None,
        "caption": _text(found.get("caption")) or None,
    }


def _stored(reply: Reply) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "text": reply.text,
        "buttons": [[[b.label, b.data] for b in row] for row in reply.buttons],
    }
    if reply.attachment is not None:
        content = base64.b64encode(reply.attachment.content).decode()
        stored["attachment"] = [reply.attachment.filename, content]
    return stored


def _reply(stored: dict[str, Any]) -> Reply:
    attachment = None
    if stored.get("attachment"):
        filename, content = stored["attachment"]
        attachment = Attachment(filename, base64.b64decode(content))
    rows = tuple(tuple(Button(label, data) for label, data in row) for row in stored["buttons"])
    return Reply(stored["text"], rows, attachment)
