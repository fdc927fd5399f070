"""WhatsApp's Cloud API (Meta's Graph API), emulated in-process (aiohttp): what the demo, the tests
and the benchmarks run the real pywa_async client against.

It answers the requests pywa makes (messages, media upload, lookup, download and deletion) with
the shapes and errors Graph gives, refuses what WhatsApp refuses with Graph's own codes (lengths,
counts, templates, throughput, the pair rate limit), and plays the people's side: their messages
and the delivery statuses reach the bot's webhook signed, retried and in each person's order as
Meta delivers them. Whoever watches it (the demo's page) is told each change a person would see.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import mimetypes
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import aiohttp
from aiohttp import web

from handlers.emulation.local import LocalServer

JSON = dict[str, Any]

PHONE_ID = "100000000000001"
TOKEN = "TEST-WA-TOKEN"
APP_SECRET = "test-app-secret"
WABA_ID = "200000000000001"
DISPLAY_PHONE_NUMBER = "+39 02 0000 0000"

WINDOW_SECONDS = 24 * 3600  # the customer service window
TEMPLATE_BODY = 1024  # a template's body with its parameters filled in
WEBHOOK_RETRY_SECONDS = 0.05  # Meta backs off for minutes; tests cannot wait that long
ERROR_DOCS = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
_UNKNOWN = 131000  # "Something went wrong": what an injected failure is unless told

# Graph's titles ("message" is "(#code) title") and the HTTP status each code comes with.
_ERRORS: dict[int, tuple[str, int]] = {
    2: ("Service temporarily unavailable", 503),
    100: ("Invalid parameter", 400),
    130429: ("Rate limit hit", 400),
    131000: ("Something went wrong", 500),
    131005: ("Access denied", 403),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131026: ("Message undeliverable", 400),
    131047: ("Re-engagement message", 400),
    131051: ("Unsupported message type", 400),
    131053: ("Media upload error", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
}
_DETAILS: dict[int, str] = {
    130429: "Cloud API message throughput has been reached.",
    131000: "Message failed to send due to an unknown error.",
    131026: "Message Undeliverable.",
    131047: (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    ),
    131056: (
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time."
    ),
}
_MESSAGE_TYPES = (
    "audio", "contacts", "document", "image", "interactive", "location", "reaction", "sticker",
    "template", "text", "video",
)  # fmt: skip
_MEDIA_TYPES = frozenset({"audio", "document", "image", "sticker", "video"})
_INTERACTIVE_TYPES = frozenset({
    "button", "list", "cta_url", "flow", "location_request_message", "voice_call",
    "call_permission_request",
})  # fmt: skip
# What the media endpoint takes, and up to how many bytes: Meta's supported media table.
_MB = 1024 * 1024
_UPLOAD_LIMITS: dict[str, int] = {
    "audio/aac": 16 * _MB, "audio/amr": 16 * _MB, "audio/mpeg": 16 * _MB, "audio/mp4": 16 * _MB,
    "audio/ogg": 16 * _MB, "text/plain": 100 * _MB, "application/pdf": 100 * _MB,
    "application/msword": 100 * _MB, "application/vnd.ms-excel": 100 * _MB,
    "application/vnd.ms-powerpoint": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * _MB,
    "image/jpeg": 5 * _MB, "image/png": 5 * _MB, "image/webp": 500 * 1024,
    "video/mp4": 16 * _MB, "video/3gpp": 16 * _MB,
}  # fmt: skip
# A BSUID starts with the person's country: enough prefixes for the numbers the demo uses.
_COUNTRIES = (("39", "IT"), ("44", "GB"), ("33", "FR"), ("34", "ES"), ("49", "DE"), ("1", "US"))
_VERSION = re.compile(r"v\d+(?:\.\d+)?")
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?\d+")
_DOWNLOAD_PATH = "/whatsapp_business/attachments/"

CallKind = Literal["messages", "media", "media_info", "delete_media", "download", "unknown"]


@dataclass(frozen=True)
class WaUser:
    """A person who writes to the help desk on WhatsApp.

    `wa_id` is the phone number's digits. `bsuid`, the business-scoped user id Meta now sends
    with every message (pywa 4.5 cannot parse a message without it), is derived from the number
    when not given, the same every run.
    """

    wa_id: str
    name: str = "Ada"
    bsuid: str | None = None

    @property
    def user_id(self) -> str:
        if self.bsuid is not None:
            return self.bsuid
        country = next((c for prefix, c in _COUNTRIES if self.wa_id.startswith(prefix)), "US")
        digest = int.from_bytes(hashlib.sha256(self.wa_id.encode()).digest()[:8], "big")
        return f"{country}.{digest % 10**17:017d}"


Person = WaUser


class MediaFile(NamedTuple):
    """A file on the emulated media store, uploaded by the bot or sent by a person."""

    filename: str
    mime_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Call:
    """One request to the API, recorded on arrival; `status`/`response` are filled when answered."""

    kind: CallKind
    method: str
    path: str
    params: JSON
    at: float
    index: int = -1
    status: int | None = None
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def error_code(self) -> int | None:
        error = (self.response or {}).get("error")
        return int(error["code"]) if isinstance(error, dict) else None


@dataclass
class OutgoingMessage:
    """A message the bot sent, as the person's phone shows it, with its delivery statuses.

    `text` is what the person reads first: the body, the caption, or the template's text (its
    name when registered without one). `buttons` are the reply buttons or the list's rows.
    """

    id: str
    to: str  # the person's wa_id
    type: str
    payload: JSON = field(repr=False)
    text: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()  # (id, title)
    interactive: str | None = None  # button | list | cta_url | ...
    list_button: str | None = None
    header: str | None = None
    footer: str | None = None
    media_id: str | None = None
    filename: str | None = None
    reply_to: str | None = None
    timestamp: int = 0
    statuses: list[str] = field(default_factory=list)  # sent, delivered, read | failed
    error: int | None = None  # the code of a failed status

    @property
    def status(self) -> str:
        return self.statuses[-1] if self.statuses else "accepted"

    @property
    def button_ids(self) -> list[str]:
        return [button_id for button_id, _ in self.buttons]


@dataclass(frozen=True)
class Change:
    """Something a person would see happen in a conversation: what the demo's page follows.

    `message`: a message arrived, from the person or from the bot; `status`: one of the bot's
    messages was sent, delivered, read or failed; `read`: the bot marked the person's message
    read (blue ticks); `typing`: the bot shows it is typing.
    """

    kind: Literal["message", "status", "read", "typing"]
    wa_id: str
    message_id: str | None = None
    status: str | None = None


Watcher = Callable[[Change], None]


@dataclass(frozen=True)
class Template:
    """An approved message template, as registered with `register_template`."""

    name: str
    language: str
    body_parameters: int
    category: str = "utility"
    body: str | None = None  # with {{1}}… placeholders, to show what the person reads
    quick_replies: tuple[str, ...] = ()  # the titles of its quick-reply buttons, in order


class GraphError(Exception):
    """Raised while answering a request; turned into Graph's error JSON."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        kind: str = "OAuthException",
        subcode: int | None = None,
        message: str | None = None,
        status: int | None = None,
    ) -> None:
        title, default_status = _ERRORS.get(code, ("Something went wrong", 400))
        self.code = code
        self.message = message or f"(#{code}) {title}"
        if details is None:
            details = _DETAILS.get(code) or self.message.removeprefix(f"(#{code}) ")
        self.details = details
        self.status = status or default_status
        self.kind = kind
        self.subcode = subcode
        super().__init__(self.message)

    def json(self) -> JSON:
        error: JSON = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.kind == "OAuthException" and self.code != 190:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}

    def webhook_json(self) -> JSON:
        """The same error as a failed status carries it."""
        title = _ERRORS.get(self.code, ("Something went wrong", 400))[0]
        return {
            "code": self.code,
            "title": title,
            "message": title,
            "error_data": {"details": self.details},
            "href": ERROR_DOCS,
        }


def _unsupported(method: str, object_id: str) -> GraphError:
    """Graph's answer to an id it does not know (or a method the object has not)."""
    return GraphError(
        100,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api"
        ),
        kind="GraphMethodException",
        subcode=33,
    )


def _too_long(param: str, limit: int) -> GraphError:
    return GraphError(100, message=f"(#100) Param {param} must be at most {limit} characters long.")


def _required(param: str) -> GraphError:
    return GraphError(100, message=f"(#100) The parameter {param} is required.")


def _invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def _list_of(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _short(value: Any) -> str:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else repr(value)


def encode_body(payload: JSON) -> bytes:
    """A webhook body as Meta writes it: compact JSON with non-ASCII escaped as \\uXXXX (lower
    case hex) and slashes escaped; the signature covers these exact bytes, so a bot that
    re-serialises the JSON before checking it fails here as it would against Meta."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class _Post:
    """A webhook notification waiting for a 2xx: one person's go one at a time, in order."""

    key: str  # the person's wa_id
    ref: str  # the inbound message's id, or the id of the message a status is about
    body: bytes


class EmulatedGraphAPI(LocalServer[Change]):
    """The fake Graph API. Use `async with EmulatedGraphAPI() as graph:` and `graph.base_url`."""

    url_path = ""  # base_url is where graph.facebook.com would be: requests go to /v{version}/…

    def __init__(
        self,
        phone_id: str = PHONE_ID,
        token: str = TOKEN,
        app_secret: str = APP_SECRET,
        *,
        per_second: float | None = None,
        pair_burst: int | None = None,
        pair_seconds: float = 6.0,
        clock: Callable[[], float] = time.time,
        display_phone_number: str = DISPLAY_PHONE_NUMBER,
        waba_id: str = WABA_ID,
    ) -> None:
        super().__init__()
        self.phone_id = phone_id
        self.token = token
        self.app_secret = app_secret
        self.per_second = per_second
        self.pair_burst = pair_burst
        self.pair_seconds = pair_seconds
        self.clock = clock  # the seconds since the epoch that messages are dated with
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        # Configured in Meta's dashboard, not by API: set it directly.
        self.webhook_url = ""
        self.send_statuses = True
        # Meta accepts a free-form message outside the customer service window and reports
        # 131047 in a failed status; "response" refuses it in the API's answer instead.
        self.window_error: Literal["webhook", "response"] = "webhook"
        self.calls: list[Call] = []
        self.sent: list[OutgoingMessage] = []
        self.chats: defaultdict[str, list[OutgoingMessage]] = defaultdict(list)
        self.users: dict[str, WaUser] = {}  # by wa_id
        self._by_bsuid: dict[str, str] = {}  # BSUID -> wa_id
        self.incoming: dict[str, JSON] = {}  # the people's messages, as Meta's message JSON
        self.templates: dict[tuple[str, str], Template] = {}
        self.unreachable: set[str] = set()
        self.rejected_rate = 0
        self.rejected_pair = 0
        # (inbound message id or the id a status is about, HTTP status or 0 for no answer).
        self.webhook_calls: list[tuple[str, int]] = []
        self.read_by_bot: set[str] = set()  # inbound ids the bot marked read
        self._by_id: dict[str, OutgoingMessage] = {}
        self._inbound_owner: dict[str, str] = {}  # inbound id -> wa_id
        self._inbound_body: dict[str, bytes] = {}
        self._conversation: defaultdict[str, list[str]] = defaultdict(list)  # ids, oldest first
        self._last_inbound: dict[str, float] = {}
        self._media: dict[str, MediaFile] = {}
        self._media_ids = itertools.count(1_000_000_000_000_001)
        self._message_ids = itertools.count(1)
        # wamids are unique for ever: a new emulation on an old database must not reuse one,
        # or the bot would drop a new message as a redelivery.
        self._run = secrets.token_hex(4).upper()
        self._queues: dict[str, deque[_Post]] = {}  # each person's, in order; none when empty
        self._busy: set[str] = set()
        self._failures: defaultdict[str, deque[GraphError]] = defaultdict(deque)
        self._send_times: deque[float] = deque()
        self._pair_times: defaultdict[str, deque[float]] = defaultdict(deque)
        self._read_cursor: defaultdict[str, int] = defaultdict(int)

    # ---- lifecycle -------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=128 * _MB)  # documents go up to 100 MB
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    def _started(self) -> None:
        self._delivery = asyncio.create_task(self._deliver())

    # ---- configuration and failure injection -----------------------------------------------

    def register_template(
        self,
        name: str,
        language: str,
        body_parameters: int = 0,
        *,
        category: str = "utility",
        body: str | None = None,
        quick_replies: tuple[str, ...] = (),
    ) -> Template:
        """An approved template: sending any other name/language gets 132001. Its quick-reply
        buttons have fixed titles; each message sets what tapping one sends back (its payload)."""
        template = Template(name, language, body_parameters, category, body, quick_replies)
        self.templates[(name, language)] = template
        return template

    def undeliverable(self, wa_id: str) -> None:
        """Messages to this number are accepted, then fail with 131026 as Meta reports it."""
        self.unreachable.add(_digits(wa_id))

    def add_user(self, user: WaUser, wrote_at: float | None = None) -> WaUser:
        """Make a person known (by number and BSUID) before they write; `wrote_at`: when they
        last wrote (seconds since the epoch), which opens their 24-hour window from then."""
        self.users[user.wa_id] = user
        self._by_bsuid[user.user_id] = user.wa_id
        if wrote_at is not None:
            self._last_inbound[user.wa_id] = wrote_at
        return user

    def fail_next(
        self,
        kind: str,
        code: int = _UNKNOWN,
        *,
        details: str | None = None,
        message: str | None = None,
        status: int | None = None,
    ) -> None:
        """Make the next request of `kind` ("messages", "media", "media_info", "delete_media",
        "download") fail once; calls stack up. `code` is a Graph error code (130429, 131056…)
        or an HTTP status (500, 503), which gets Graph's code for it."""
        if 400 <= code < 600:
            status, code = code, {503: 2, 429: 130429}.get(code, _UNKNOWN if code >= 500 else 100)
        self._failures[kind].append(GraphError(code, details, message=message, status=status))

    # ---- the people: inbound messages -------------------------------------------------------

    def push_text(self, user: WaUser, text: str, reply_to: str | None = None) -> str:
        """A text message; with `reply_to`, quoting that message (the bot's or the person's)."""
        return self._push(user, "text", {"text": {"body": text}}, reply_to=reply_to)

    def push_button_reply(self, user: WaUser, message: OutgoingMessage, button_id: str) -> str:
        """The person taps a reply button of `message`: only a button it shows can be tapped."""
        if message.interactive != "button" or button_id not in message.button_ids:
            raise AssertionError(
                f"{button_id!r} is not a reply button of {message.id}: {message.buttons}"
            )
        self._check_recipient(user, message)
        title = dict(message.buttons)[button_id]
        reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
        return self._push(user, "interactive", {"interactive": reply}, reply_to=message.id)

    def push_list_reply(self, user: WaUser, message: OutgoingMessage, row_id: str) -> str:
        """The person picks a row of the list `message`: only a row it shows can be picked."""
        if message.interactive != "list" or row_id not in message.button_ids:
            raise AssertionError(f"{row_id!r} is not a row of {message.id}: {message.buttons}")
        self._check_recipient(user, message)
        row: JSON = next(
            r
            for section in message.payload["interactive"]["action"]["sections"]
            for r in section["rows"]
            if r["id"] == row_id
        )
        picked = {"id": row_id, "title": row["title"]}
        if row.get("description"):
            picked["description"] = row["description"]
        reply = {"type": "list_reply", "list_reply": picked}
        return self._push(user, "interactive", {"interactive": reply}, reply_to=message.id)

    def push_quick_reply(self, user: WaUser, message: OutgoingMessage, payload: str) -> str:
        """The person taps a quick-reply button of the template `message`: the bot gets the
        payload it set for that button, as a message of type "button"."""
        if message.type != "template" or payload not in message.button_ids:
            raise AssertionError(
                f"{payload!r} is not a quick reply of {message.id}: {message.buttons}"
            )
        self._check_recipient(user, message)
        button = {"payload": payload, "text": dict(message.buttons)[payload]}
        return self._push(user, "button", {"button": button}, reply_to=message.id)

    def push_voice(self, user: WaUser, data: bytes = b"OggS\x00\x02voice") -> str:
        media = self._inbound_media(data, "audio/ogg; codecs=opus", "voice.ogg")
        return self._push(user, "audio", {"audio": {**media, "voice": True}})

    def push_image(self, user: WaUser, data: bytes, caption: str | None = None) -> str:
        media = self._inbound_media(data, "image/jpeg", "image.jpg")
        if caption is not None:
            media["caption"] = caption
        return self._push(user, "image", {"image": media})

    def push_document(
        self, user: WaUser, data: bytes, filename: str, caption: str | None = None
    ) -> str:
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        media = {**self._inbound_media(data, mime, filename), "filename": filename}
        if caption is not None:
            media["caption"] = caption
        return self._push(user, "document", {"document": media})

    def push_location(
        self,
        user: WaUser,
        lat: float,
        lon: float,
        name: str | None = None,
        address: str | None = None,
    ) -> str:
        location: JSON = {"latitude": lat, "longitude": lon}
        location |= {k: v for k, v in (("name", name), ("address", address)) if v is not None}
        return self._push(user, "location", {"location": location})

    def push_sticker(self, user: WaUser, data: bytes = b"RIFF\x00\x00\x00\x00WEBP") -> str:
        media = self._inbound_media(data, "image/webp", "sticker.webp")
        return self._push(user, "sticker", {"sticker": {**media, "animated": False}})

    def redeliver(self, message_id: str) -> None:
        """Post a person's message again, byte for byte, as Meta does when it is unsure the
        first delivery arrived."""
        if message_id not in self._inbound_body:
            raise AssertionError(f"{message_id} is not a message a person sent")
        owner = self._inbound_owner[message_id]
        self._queues.setdefault(owner, deque()).append(
            _Post(owner, message_id, self._inbound_body[message_id])
        )
        self._notify()

    async def push_raw(self, body: bytes, signature: str | None) -> int:
        """Post `body` to the webhook once, with `signature` as X-Hub-Signature-256 (none when
        None): a forged or malformed notification. Returns the HTTP status, 0 for no answer."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client,
                client.post(self.webhook_url, data=body, headers=headers) as got,
            ):
                await got.read()
                status = got.status
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
            status = 0
        self.webhook_calls.append(("raw", status))
        return status

    async def verify(self, url: str, verify_token: str) -> bool:
        """Meta's subscription handshake: whether `url` echoes the challenge with a 200."""
        challenge = str(secrets.randbelow(10**9) + 10**9)
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client,
                client.get(url, params=params) as got,
            ):
                return got.status == 200 and (await got.text()).strip() == challenge
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
            return False

    def read_by(self, wa_id: str | WaUser) -> list[str]:
        """The person opens the chat: the bot's delivered messages become read (blue ticks),
        and each read status goes to the webhook. Returns their ids."""
        read = []
        for msg in self.chats.get(self._wa_id(wa_id), []):
            if msg.status == "delivered":
                self._set_status(msg, "read")
                read.append(msg.id)
        return read

    # ---- what people see: for the demo's page ---------------------------------------------

    def history(self, wa_id: str | WaUser) -> list[JSON]:
        """Every message of the conversation, oldest first: the person's as Meta's message JSON
        (they have "from"), the bot's as the payload it sent plus "id", "timestamp", "status"."""
        messages: list[JSON] = []
        for message_id in self._conversation.get(self._wa_id(wa_id), []):
            if message_id in self.incoming:
                messages.append(self.incoming[message_id])
            else:
                out = self._by_id[message_id]
                messages.append(
                    {**out.payload, "id": out.id, "timestamp": str(out.timestamp)}
                    | {"status": out.status}
                )
        return messages

    def wa_ids(self) -> list[str]:
        """Every person with a message in their conversation."""
        return sorted(k for k, v in self._conversation.items() if v)

    def file(self, media_id: str) -> MediaFile | None:
        """A file on the media store, uploaded by the bot or sent by a person."""
        return self._media.get(media_id)

    def message(self, message_id: str) -> OutgoingMessage | None:
        """One of the bot's messages, by its wamid."""
        return self._by_id.get(message_id)

    def window_open(self, wa_id: str | WaUser) -> bool:
        """Whether the bot may still send this person free-form messages."""
        last = self._last_inbound.get(self._wa_id(wa_id))
        return last is not None and self.clock() - last < WINDOW_SECONDS

    # ---- waiting helpers for tests ---------------------------------------------------------

    async def wait_for_call(
        self,
        kind: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' deadline, not an I/O timeout
        after: int | None = None,
    ) -> Call:
        """First answered request of `kind` at index >= `after` (e.g. len(graph.calls) taken
        earlier) that `predicate` accepts."""

        def find() -> Call | None:
            for call in self.calls[after or 0 :]:
                answered = call.kind == kind and call.status is not None
                if answered and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._expect(find, timeout, f"no {kind} call")

    async def next_message(
        self,
        wa_id: str | WaUser,
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' deadline, not an I/O timeout
    ) -> OutgoingMessage:
        """The oldest message sent to the person that this method has not returned yet."""
        key = self._wa_id(wa_id)

        def find() -> OutgoingMessage | None:
            sent = self.chats[key]
            cursor = self._read_cursor[key]
            return sent[cursor] if cursor < len(sent) else None

        msg = await self._expect(find, timeout, f"no new message to {key}")
        self._read_cursor[key] += 1
        return msg

    def unread(self, wa_id: str | WaUser) -> list[OutgoingMessage]:
        """Messages next_message() would still return; peeking does not consume them."""
        key = self._wa_id(wa_id)
        return self.chats[key][self._read_cursor[key] :]

    def mark_read(self, wa_id: str | WaUser) -> None:
        key = self._wa_id(wa_id)
        self._read_cursor[key] = len(self.chats[key])

    async def assert_no_message(self, wa_id: str | WaUser, within: float = 0.3) -> None:
        got = await self._wait(lambda: self.unread(wa_id) or None, within)
        if got:
            raise AssertionError(f"unexpected message(s) to {wa_id}: {got}\n{self.dump()}")

    async def wait_delivered(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until every notification (messages, statuses) got a 2xx from the webhook."""
        if await self._wait(lambda: True if not self._queues else None, timeout) is None:
            refs = [post.ref for queue in self._queues.values() for post in queue]
            raise AssertionError(f"not delivered within {timeout}s: {refs}\n{self.dump()}")

    def dump(self, last: int = 20) -> str:
        """The recent requests and webhook posts, for an assertion's message."""
        lines = [
            f"recent calls ({len(self.calls)} total, {self._pending()} webhook posts pending, "
            f"webhook {self.webhook_url or 'not set'}):"
        ]
        for c in self.calls[-last:]:
            params = json.dumps(c.params, default=_short, ensure_ascii=False)
            if c.status is None:
                outcome = "pending"
            elif c.ok:
                outcome = str(c.status)
            else:
                error = (c.response or {}).get("error", {})
                outcome = f"{c.status} #{error.get('code')} {error.get('error_data', {})}"
            lines.append(f"  #{c.index} {c.method} {c.path} {params[:200]} -> {outcome}")
        lines.append(f"webhook calls: {self.webhook_calls[-last:]}")
        return "\n".join(lines)

    # ---- internals: plumbing ---------------------------------------------------------------

    def _pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def _timestamp(self) -> int:
        return int(self.clock())

    def _wa_id(self, who: str | WaUser) -> str:
        """A person's wa_id, from a WaUser, a phone number in any format, or a BSUID."""
        if isinstance(who, WaUser):
            return who.wa_id
        if _BSUID.fullmatch(who):
            return self._by_bsuid.get(who, who)
        return _digits(who)

    def _user(self, wa_id: str) -> WaUser:
        return self.users.get(wa_id) or WaUser(wa_id, name="")

    def _wamid(self, wa_id: str) -> str:
        raw = f"\x15\x02\x00\x11\x18\x12{wa_id}{self._run}{next(self._message_ids):012X}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    def _check_recipient(self, user: WaUser, message: OutgoingMessage) -> None:
        """A person answers only what reached their phone."""
        if message.to != user.wa_id:
            raise AssertionError(f"{message.id} was sent to {message.to}, not to {user.wa_id}")
        if message.status == "failed":
            raise AssertionError(f"{message.id} never reached {user.wa_id} (error {message.error})")

    # ---- internals: webhook delivery -------------------------------------------------------

    def _envelope(self, value: JSON) -> JSON:
        metadata = {
            "display_phone_number": _digits(self.display_phone_number),
            "phone_number_id": self.phone_id,
        }
        value = {"messaging_product": "whatsapp", "metadata": metadata, **value}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"value": value, "field": "messages"}]}],
        }

    def _enqueue(self, key: str, ref: str, payload: JSON) -> bytes:
        body = encode_body(self._envelope(payload))
        self._queues.setdefault(key, deque()).append(_Post(key, ref, body))
        self._notify()
        return body

    async def _deliver(self) -> None:
        """Post notifications as Meta does: each until it gets a 2xx, retried after a pause on
        any other answer or none; one person's one at a time and in order, different people's
        side by side."""

        def ready() -> list[_Post] | None:
            if self._closing:
                return []
            if not self.webhook_url:
                return None
            chosen = [queue[0] for key, queue in self._queues.items() if key not in self._busy]
            return chosen or None

        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as client, asyncio.TaskGroup() as posts:
            while not self._closing:
                for post in await self._wait(ready, 0.2) or []:
                    self._busy.add(post.key)
                    posts.create_task(self._post(client, post))

    async def _post(self, client: aiohttp.ClientSession, post: _Post) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": sign(post.body, self.app_secret),
        }
        try:
            async with client.post(self.webhook_url, data=post.body, headers=headers) as got:
                await got.read()  # read to the end, or the connection is not kept for the next
                status = int(got.status)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
            status = 0  # no answer, or a webhook_url that is not one: Meta keeps trying
        self.webhook_calls.append((post.ref, status))
        if 200 <= status < 300:
            queue = self._queues[post.key]
            queue.popleft()  # the head: nothing else of this person's is posted meanwhile
            if not queue:
                del self._queues[post.key]
        else:
            await asyncio.sleep(WEBHOOK_RETRY_SECONDS)
        self._busy.discard(post.key)
        self._notify()

    # ---- internals: inbound ----------------------------------------------------------------

    def _contact(self, user: WaUser) -> JSON:
        return {"profile": {"name": user.name}, "wa_id": user.wa_id, "user_id": user.user_id}

    def _inbound_media(self, data: bytes, mime: str, filename: str) -> JSON:
        media_id = self._store(MediaFile(filename, mime, data))
        return {
            "mime_type": mime,
            # Meta's notifications give the hash in base64, its media endpoint in hex.
            "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "id": media_id,
            "url": self._download_url(media_id),
        }

    def _push(self, user: WaUser, kind: str, content: JSON, *, reply_to: str | None = None) -> str:
        self.add_user(user)
        message_id = self._wamid(user.wa_id)
        message: JSON = {
            "from": user.wa_id,
            "from_user_id": user.user_id,
            "id": message_id,
            "timestamp": str(self._timestamp()),
            "type": kind,
        }
        if reply_to is not None:
            quoted_from = (
                self._inbound_owner.get(reply_to)
                if reply_to in self.incoming
                else _digits(self.display_phone_number)
            )
            message["context"] = {"from": quoted_from, "id": reply_to}
        message |= content
        self.incoming[message_id] = message
        self._inbound_owner[message_id] = user.wa_id
        self._conversation[user.wa_id].append(message_id)
        self._last_inbound[user.wa_id] = self.clock()
        value = {"contacts": [self._contact(user)], "messages": [message]}
        self._inbound_body[message_id] = self._enqueue(user.wa_id, message_id, value)
        self._tell(Change("message", user.wa_id, message_id))
        return message_id

    # ---- internals: statuses ---------------------------------------------------------------

    def _set_status(
        self, msg: OutgoingMessage, status: str, error: GraphError | None = None
    ) -> None:
        msg.statuses.append(status)
        if error is not None:
            msg.error = error.code
        self._tell(Change("status", msg.to, msg.id, status))
        if not self.send_statuses:
            return
        user = self._user(msg.to)
        entry: JSON = {
            "id": msg.id,
            "status": status,
            "timestamp": str(self._timestamp()),
            "recipient_id": msg.to,
        }
        contact: JSON = {"wa_id": msg.to}
        if error is None or error.code != 131026:  # no WhatsApp user to name
            entry["recipient_user_id"] = user.user_id
            contact["user_id"] = user.user_id
        if tracker := msg.payload.get("biz_opaque_callback_data"):
            entry["biz_opaque_callback_data"] = tracker
        if status in ("sent", "delivered"):
            entry["pricing"] = self._pricing(msg)
        if error is not None:
            entry["errors"] = [error.webhook_json()]
        self._enqueue(msg.to, msg.id, {"contacts": [contact], "statuses": [entry]})

    def _pricing(self, msg: OutgoingMessage) -> JSON:
        category = "service"
        if msg.type == "template":
            key = (msg.payload["template"]["name"], msg.payload["template"]["language"]["code"])
            category = self.templates[key].category
        free = category in ("service", "utility") and self.window_open(msg.to)
        return {
            "billable": not free,
            "pricing_model": "PMP",
            "type": "free_customer_service" if free else "regular",
            "category": category,
        }

    # ---- internals: HTTP -------------------------------------------------------------------

    def _download_url(self, media_id: str) -> str:
        digest = self._media[media_id].sha256[:16]
        query = f"mid={media_id}&ext={int(self.clock())}&hash={digest}"
        return f"{self.base_url}{_DOWNLOAD_PATH}?{query}"

    @staticmethod
    def _route(method: str, path: str) -> tuple[CallKind, list[str]]:
        if path.rstrip("/") == _DOWNLOAD_PATH.rstrip("/"):
            return "download", []
        parts = [p for p in path.split("/") if p]
        if not parts or not _VERSION.fullmatch(parts[0]):
            return "unknown", parts
        rest = parts[1:]
        if len(rest) == 2 and rest[1] == "messages" and method == "POST":
            return "messages", rest
        if len(rest) == 2 and rest[1] == "media" and method == "POST":
            return "media", rest
        if len(rest) == 1 and method == "GET":
            return "media_info", rest
        if len(rest) == 1 and method == "DELETE":
            return "delete_media", rest
        return "unknown", rest

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind, parts = self._route(request.method, request.path)
        call = Call(kind, request.method, request.path, {}, time.monotonic())
        call.index = len(self.calls)
        self.calls.append(call)
        self._notify()
        result: JSON | web.StreamResponse
        try:
            self._authorize(request)
            call.params = await self._read_params(request)
            if self._failures[kind]:
                raise self._failures[kind].popleft()
            result = await self._dispatch(kind, parts, request, call.params)
            status = 200
        except GraphError as err:
            result, status = err.json(), err.status
        except (KeyError, ValueError, TypeError, AttributeError) as err:  # a garbled body
            result, status = GraphError(100, f"Invalid parameter: {err!r}").json(), 400
        call.status = status
        if isinstance(result, web.StreamResponse):
            call.response = {"bytes": result.content_length}
            self._notify()
            return result
        call.response = result
        self._notify()
        return web.json_response(result, status=status)

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise GraphError(
                190, message="Invalid OAuth access token - Cannot parse access token", status=401
            )

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise GraphError(100, "The request body must be a JSON object")
            return params | body
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = MediaFile(value.filename, value.content_type or "", value.file.read())
            else:
                params[key] = value if isinstance(value, str) else value.decode()
        return params

    async def _dispatch(
        self, kind: CallKind, parts: list[str], request: web.Request, params: JSON
    ) -> JSON | web.StreamResponse:
        if kind in ("messages", "media") and parts[0] != self.phone_id:
            raise _unsupported(request.method, parts[0])
        if kind == "messages":
            return self._messages(params)
        if kind == "media":
            return self._upload(params)
        if kind == "download":
            return self._download(params)
        if kind in ("media_info", "delete_media") and parts[0] in self._media:
            if params.get("phone_number_id", self.phone_id) != self.phone_id:
                raise _unsupported(request.method, parts[0])
            if kind == "delete_media":
                del self._media[parts[0]]
                return {"success": True}
            media = self._media[parts[0]]
            return {
                "messaging_product": "whatsapp",
                "url": self._download_url(parts[0]),
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": parts[0],
            }
        if not _VERSION.fullmatch(request.path.split("/")[1] if request.path != "/" else ""):
            raise GraphError(100, message="Unknown path components: " + request.path, status=404)
        raise _unsupported(request.method, parts[0] if parts else "")

    # ---- internals: media ------------------------------------------------------------------

    def _store(self, media: MediaFile) -> str:
        media_id = str(next(self._media_ids))
        self._media[media_id] = media
        return media_id

    def _upload(self, params: JSON) -> JSON:
        if params.get("messaging_product") != "whatsapp":
            raise _required("messaging_product")
        upload = params.get("file")
        if not isinstance(upload, MediaFile):
            raise _required("file")
        mime = str(params.get("type") or upload.mime_type).split(";")[0].strip()
        if mime not in _UPLOAD_LIMITS:
            raise GraphError(
                100,
                message="(#100) Param file must be a file with one of the following types: "
                + ", ".join(_UPLOAD_LIMITS),
            )
        if len(upload.data) > _UPLOAD_LIMITS[mime]:
            raise GraphError(
                131053,
                f"The file is {len(upload.data)} bytes, over {_UPLOAD_LIMITS[mime]} for {mime}",
            )
        return {"id": self._store(MediaFile(upload.filename, mime, upload.data))}

    def _download(self, params: JSON) -> web.StreamResponse:
        media = self._media.get(str(params.get("mid")))
        if media is None:
            raise GraphError(100, "This media is not available", status=404)
        return web.Response(
            body=media.data,
            content_type=media.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{media.filename}"'},
        )

    # ---- internals: messages ---------------------------------------------------------------

    def _messages(self, p: JSON) -> JSON:
        if p.get("messaging_product") != "whatsapp":
            raise _required("messaging_product")
        if p.get("status") == "read":
            return self._mark_read(p)
        kind = p.get("type", "text")
        if kind not in _MESSAGE_TYPES:
            raise GraphError(
                100,
                message="(#100) Param type must be one of {"
                + ", ".join(t.upper() for t in _MESSAGE_TYPES)
                + "}",
            )
        if p.get("recipient_type", "individual") != "individual":
            raise GraphError(100, "Only individual recipients are emulated")
        wa_id, contact = self._recipient(p)
        body = p.get(kind)
        if kind == "contacts":
            if not isinstance(body, list) or not body:
                raise _required("contacts")
            body = {"contacts": body}
        if not isinstance(body, dict):
            raise _required(kind)
        msg = OutgoingMessage(
            id=self._wamid(wa_id),
            to=wa_id,
            type=kind,
            payload=p,
            reply_to=(p.get("context") or {}).get("message_id"),
            timestamp=self._timestamp(),
        )
        self._check(msg, body)
        if kind != "template" and not self.window_open(wa_id) and self.window_error == "response":
            raise GraphError(131047)
        self._throttle(wa_id)
        self.chats[wa_id].append(msg)
        self.sent.append(msg)
        self._by_id[msg.id] = msg
        self._conversation[wa_id].append(msg.id)
        self._tell(Change("message", wa_id, msg.id))
        if kind != "template" and not self.window_open(wa_id):
            self._set_status(msg, "failed", GraphError(131047))
        elif wa_id in self.unreachable:
            self._set_status(msg, "failed", GraphError(131026))
        else:
            self._set_status(msg, "sent")
            self._set_status(msg, "delivered")
        sent: JSON = {"id": msg.id}
        if kind == "template":
            sent["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]}

    def _recipient(self, p: JSON) -> tuple[str, JSON]:
        """The person a message is for: `to` (a number) wins over `recipient` (a BSUID)."""
        if p.get("to"):
            to = str(p["to"])
            if not _digits(to):
                raise GraphError(100, f"Invalid recipient: {to}")
            wa_id = _digits(to)
            if wa_id not in self.users:
                self.add_user(WaUser(wa_id, name=""))
            return wa_id, {"input": to, "wa_id": wa_id}
        recipient = str(p.get("recipient") or "")
        if not recipient:
            raise _required("to")
        wa_id = self._wa_id(recipient)
        if wa_id not in self.users:
            raise GraphError(100, f"Invalid recipient: {recipient} is not a known BSUID")
        return wa_id, {"input": recipient, "user_id": recipient}

    def _throttle(self, wa_id: str) -> None:
        now = time.monotonic()
        if self.per_second is not None:
            while self._send_times and now - self._send_times[0] >= 1.0:
                self._send_times.popleft()
            if len(self._send_times) >= self.per_second:
                self.rejected_rate += 1
                raise GraphError(130429)
        if self.pair_burst is not None:
            times = self._pair_times[wa_id]
            while times and now - times[0] >= self.pair_seconds:
                times.popleft()
            if len(times) >= self.pair_burst:
                self.rejected_pair += 1
                raise GraphError(131056)
            times.append(now)
        if self.per_second is not None:
            self._send_times.append(now)

    def _mark_read(self, p: JSON) -> JSON:
        message_id = str(p.get("message_id") or "")
        wa_id = self._inbound_owner.get(message_id)
        if wa_id is None:
            raise GraphError(100, f"Invalid message_id: {message_id}")
        self.read_by_bot.add(message_id)
        self._tell(Change("read", wa_id, message_id))
        if isinstance(p.get("typing_indicator"), dict):
            if p["typing_indicator"].get("type") != "text":
                raise _invalid("typing_indicator.type must be text")
            self._tell(Change("typing", wa_id, message_id))
        return {"success": True}

    def _check(self, msg: OutgoingMessage, body: JSON) -> None:
        """Refuse what WhatsApp refuses, and fill in what the person will see."""
        if msg.type == "text":
            msg.text = self._length(body.get("body"), "text['body']", 4096)
        elif msg.type == "interactive":
            self._check_interactive(msg, body)
        elif msg.type in _MEDIA_TYPES:
            self._check_media(msg, body)
        elif msg.type == "template":
            self._check_template(msg, body)
        elif msg.type == "reaction":
            if not body.get("message_id"):
                raise _required("reaction['message_id']")
            msg.text = str(body.get("emoji") or "")
        elif msg.type == "location":
            for key in ("latitude", "longitude"):
                if not isinstance(body.get(key), int | float | str) or body.get(key) == "":
                    raise _required(f"location['{key}']")
                float(body[key])
            msg.text = body.get("name") or body.get("address")

    @staticmethod
    def _length(value: Any, param: str, limit: int) -> str:
        if value is None or value == "":
            raise _required(param)
        if not isinstance(value, str):
            raise GraphError(100, message=f"(#100) Param {param} must be a string.")
        if len(value) > limit:
            raise _too_long(param, limit)
        return value

    def _check_interactive(self, msg: OutgoingMessage, body: JSON) -> None:
        kind = body.get("type")
        if kind not in _INTERACTIVE_TYPES:
            raise _invalid(f"Interactive message type {kind!r} is not supported")
        msg.interactive = str(kind)
        action = body.get("action")
        if not isinstance(action, dict):
            raise _required("interactive['action']")
        header = body.get("header")
        if isinstance(header, dict) and header.get("type") == "text":
            msg.header = self._length(header.get("text"), "interactive['header']['text']", 60)
        footer = body.get("footer")
        if isinstance(footer, dict):
            msg.footer = self._length(footer.get("text"), "interactive['footer']['text']", 60)
        if kind in ("button", "list") or "body" in body:
            msg.text = self._length(
                (body.get("body") or {}).get("text"), "interactive['body']['text']", 1024
            )
        if kind == "button":
            msg.buttons = self._check_buttons(action.get("buttons"))
        elif kind == "list":
            msg.list_button = self._length(
                action.get("button"), "interactive['action']['button']", 20
            )
            msg.buttons = self._check_sections(action.get("sections"))
        elif kind == "cta_url":
            parameters = action.get("parameters") or {}
            title = parameters.get("display_text")
            if not isinstance(title, str) or not 1 <= len(title) <= 20:
                raise _invalid("Button title length invalid. Min length: 1, Max length: 20")
            if not parameters.get("url"):
                raise _required("interactive['action']['parameters']['url']")

    @staticmethod
    def _check_buttons(buttons: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            count = len(buttons) if isinstance(buttons, list) else 0
            raise _invalid(
                f"Invalid buttons count ({count}). Min allowed buttons: 1, Max allowed buttons: 3"
            )
        shown: list[tuple[str, str]] = []
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if button.get("type") != "reply" or not isinstance(reply, dict):
                raise _invalid("Button type must be reply")
            button_id, title = reply.get("id"), reply.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= 20:
                raise _invalid("Button title length invalid. Min length: 1, Max length: 20")
            if not isinstance(button_id, str) or not 1 <= len(button_id) <= 256:
                raise _invalid("Button id length invalid. Min length: 1, Max length: 256")
            if any(button_id == seen for seen, _ in shown):
                raise _invalid(f"Duplicate button id: {button_id}")
            if any(title == seen for _, seen in shown):
                raise _invalid(f"Duplicate button title: {title}")
            shown.append((button_id, title))
        return tuple(shown)

    @staticmethod
    def _check_sections(sections: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise _invalid("Invalid sections count. Min allowed sections: 1, Max allowed: 10")
        rows: list[tuple[str, str]] = []
        for section in sections:
            title = section.get("title")
            if len(sections) > 1 and not title:
                raise _invalid("Section title is required when there is more than one section")
            if title is not None and (not isinstance(title, str) or len(title) > 24):
                raise _invalid("Section title length invalid. Max length: 24")
            section_rows = section.get("rows")
            if not isinstance(section_rows, list) or not section_rows:
                raise _invalid("Each section needs at least one row")
            for row in section_rows:
                row_id, row_title = row.get("id"), row.get("title")
                if not isinstance(row_title, str) or not 1 <= len(row_title) <= 24:
                    raise _invalid("Row title length invalid. Min length: 1, Max length: 24")
                if not isinstance(row_id, str) or not 1 <= len(row_id) <= 200:
                    raise _invalid("Row id length invalid. Min length: 1, Max length: 200")
                description = row.get("description")
                if description is not None and len(str(description)) > 72:
                    raise _invalid("Row description length invalid. Max length: 72")
                if any(row_id == seen for seen, _ in rows):
                    raise _invalid(f"Row ids must be unique: {row_id}")
                rows.append((row_id, row_title))
        if len(rows) > 10:
            raise _invalid("Total row count exceed max allowed count: 10")
        return tuple(rows)

    def _check_media(self, msg: OutgoingMessage, body: JSON) -> None:
        media_id, link = body.get("id"), body.get("link")
        if not media_id and not link:
            raise _required(f"{msg.type}['id']")
        if media_id:
            if str(media_id) not in self._media:
                raise GraphError(100, f"Invalid media id: {media_id}")
            msg.media_id = str(media_id)
        caption = body.get("caption")
        if caption is not None:
            if msg.type in ("audio", "sticker"):
                raise GraphError(
                    100, message=f"(#100) Param {msg.type}['caption'] is not a valid parameter."
                )
            msg.text = self._length(caption, f"{msg.type}['caption']", 1024)
        if msg.type == "document":
            filename = body.get("filename")
            if filename is not None:
                msg.filename = self._length(filename, "document['filename']", 240)
            elif msg.media_id:
                msg.filename = self._media[msg.media_id].filename

    def _check_template(self, msg: OutgoingMessage, body: JSON) -> None:
        name = str(body.get("name") or "")
        language = (body.get("language") or {}).get("code")
        if not name:
            raise _required("template['name']")
        if not language:
            raise _required("template['language']['code']")
        template = self.templates.get((name, str(language)))
        if template is None:
            raise GraphError(132001, f"template name ({name}) does not exist in {language}")
        values: list[str] = []
        payloads: dict[int, str] = {}
        for component in _list_of(body.get("components")):
            kind = str(component.get("type", "")).lower()
            if kind == "body":
                values += [str(p.get("text", "")) for p in _list_of(component.get("parameters"))]
            elif kind == "button" and str(component.get("sub_type", "")).lower() == "quick_reply":
                index = int(component.get("index", -1))
                if not 0 <= index < len(template.quick_replies):
                    raise GraphError(132000, f"button at index {index} does not exist")
                [parameter] = _list_of(component.get("parameters")) or [{}]
                payloads[index] = self._length(parameter.get("payload"), "payload", 256)
        if len(values) != template.body_parameters:
            raise GraphError(
                132000,
                f"body: number of localizable_params ({len(values)}) does not match the "
                f"expected number of params ({template.body_parameters})",
            )
        for value in values:
            # Meta's rule for a parameter: no line breaks or tabs, at most 4 spaces in a row.
            if not value or "\n" in value or "\t" in value or "     " in value:
                raise GraphError(132018, "Param text cannot have new-line/tab characters")
        text = template.body or name
        for n, value in enumerate(values, start=1):
            text = text.replace(f"{{{{{n}}}}}", value)
        if len(text) > TEMPLATE_BODY:
            raise GraphError(132005, "translated text too long")
        msg.text = text
        msg.buttons = tuple(
            (payloads.get(index, title), title)
            for index, title in enumerate(template.quick_replies)
        )
