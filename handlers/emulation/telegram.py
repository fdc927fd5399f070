"""Telegram's Bot API, emulated in-process (aiohttp): what the demo, the tests and the benchmarks
run the real PTB Application against.

It answers the methods the help desk uses with the shapes and errors Telegram gives (messages
echoed with their entities, edits that keep the message, "message is not modified", 429s with
retry_after, blocked users, migrated groups), takes updates by long polling or pushes them to a
webhook as Telegram does, and tells whoever watches it (the demo's page) each change a person
would see in a chat.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any, Literal, NamedTuple

from aiohttp import web

from handlers.emulation.local import LocalServer

JSON = dict[str, Any]

TOKEN = "123:TEST"
BOT_USERNAME = "sportello_test_bot"
BOT_FIRST_NAME = "Sportello"

# Telegram's own wording, so that code matching on error texts is exercised for real.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
_ENTITIES = "Bad Request: can't parse entities: "

# PTB sends str values raw and everything else json.dumps()'d, so a text of "42" or "true"
# would come back as an int/bool if we JSON-decoded every field; these stay strings.
# fmt: off
_STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "url", "action", "title",
    "description", "short_description", "name", "inline_message_id", "business_connection_id",
    "secret_token", "ip_address", "language_code", "document", "photo", "voice", "sticker",
    "thumbnail", "emoji", "message_effect_id", "custom_emoji_id", "file_id", "query_id", "audio",
    "video",
})
_METHODS = (
    "getMe", "deleteWebhook", "setWebhook", "getWebhookInfo", "logOut", "close", "setMyCommands",
    "getMyCommands", "deleteMyCommands", "getUpdates", "sendMessage", "editMessageText",
    "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery", "sendDocument", "sendPhoto",
    "sendVoice", "sendChatAction", "getChat", "getChatMember", "copyMessage", "getFile",
    "sendAudio", "sendVideo",
)
# Methods that post into a chat: subject to block(), the rate limit and chat-id checks.
_SEND_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "sendVoice", "sendAudio", "sendVideo",
     "sendChatAction", "copyMessage"}
)
_CHAT_WRITE_METHODS = _SEND_METHODS | {"editMessageText", "editMessageReplyMarkup"}
_HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})
# PTB's ChatMember subclasses insist on every permission flag the API documents as required.
_ADMIN_RIGHTS = (
    "manage_chat", "delete_messages", "manage_video_chats", "restrict_members",
    "promote_members", "change_info", "invite_users", "post_stories", "edit_stories",
    "delete_stories",
)
_RESTRICTED_RIGHTS = (
    "change_info", "invite_users", "pin_messages", "send_messages", "send_polls",
    "send_other_messages", "add_web_page_previews", "manage_topics", "send_audios",
    "send_documents", "send_photos", "send_videos", "send_video_notes", "send_voice_notes",
    "edit_tag", "react_to_messages",
)
_GIFT_TYPES = (
    "unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
    "gifts_from_channels",
)
# fmt: on
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^<>]*>|<")


@dataclass(frozen=True)
class User:
    """A human Telegram user who writes to the bot."""

    id: int
    first_name: str = "Ada"
    language_code: str | None = "en"
    username: str | None = None


class Upload(NamedTuple):
    """A file uploaded by the bot (multipart) or known to the fake by file_id."""

    filename: str
    data: bytes


@dataclass
class Call:
    """One bot -> Telegram request, recorded on arrival; `response` is filled when answered."""

    method: str
    params: dict[str, Any]
    at: float
    index: int = -1
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))


@dataclass
class SentMessage:
    """A message the bot sent; edits update it in place and push the old state on `history`."""

    message_id: int
    chat_id: int
    text: str | None = None
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"  # text | document | photo | voice | copy
    caption: str | None = None
    file: Upload | None = None
    file_id: str | None = None
    parse_mode: str | None = None
    reply_to: int | None = None
    copied_from: tuple[int, int] | None = None
    media: str | None = None  # a copy's: photo | document | voice, as its source's
    entities: list[JSON] | None = None  # given as entities (a copy), not as HTML
    caption_entities: list[JSON] | None = None
    # Previous (text, reply_markup) versions, oldest first.
    history: list[tuple[str | None, dict[str, Any] | None]] = field(default_factory=list)
    deleted: bool = False
    date: int = 0
    edit_date: int | None = None
    params: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def document(self) -> Upload | None:
        return self.file if self.kind == "document" else None


@dataclass(frozen=True)
class Change:
    """Something a person would see happen in a chat: what the demo's page follows.

    `message`: a message arrived, from a person or from the bot; `edit`, `delete`: the bot
    changed or removed one; `toast`: the bot answered a button press with a notice (`alert`:
    one the person must dismiss), seen by the person who pressed it only.
    """

    kind: Literal["message", "edit", "delete", "toast"]
    chat_id: int
    message_id: int | None = None
    user_id: int | None = None  # a toast's reader
    text: str | None = None  # a toast's words
    alert: bool = False


Watcher = Callable[[Change], None]


class ApiError(Exception):
    """Raised by method implementations; turned into Telegram's error JSON."""

    def __init__(
        self,
        description: str,
        code: int = 400,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


def _decode(key: str, value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


def _short(value: Any) -> str:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else repr(value)


def _markup(raw: Any) -> dict[str, Any] | None:
    # Telegram treats an empty inline keyboard as "no keyboard".
    if not isinstance(raw, dict) or raw == {"inline_keyboard": []}:
        return None
    return raw


_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_ATTRIBUTE = re.compile(r'([a-zA-Z-]+)\s*=\s*"([^"]*)"')


def _utf16(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Telegram-HTML read as the server reads it: the visible text and its entities.

    Refuses what Telegram refuses (unknown or unbalanced tags) with Telegram's own wording.
    """
    stack: list[tuple[str, int, dict[str, str]]] = []  # open tags: name, offset, attributes
    visible: list[str] = []
    length = 0
    entities: list[JSON] = []
    cursor = 0
    for m in _HTML_TOKEN.finditer(text):
        piece = unescape(text[cursor : m.start()])
        visible.append(piece)
        length += _utf16(piece)
        cursor = m.end()
        at = len(text[: m.start()].encode())
        closing, tag = m.group(1), (m.group(2) or "").lower()
        if not tag:
            raise ApiError(f"{_ENTITIES}Unexpected end of name token at byte offset {at}")
        if tag not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise ApiError(f'{_ENTITIES}Unsupported {kind} tag "{tag}" at byte offset {at}')
        if not closing:
            attributes = {k.lower(): unescape(v) for k, v in _ATTRIBUTE.findall(m.group(0))}
            if tag == "blockquote" and " expandable" in m.group(0).lower():
                attributes["expandable"] = ""
            stack.append((tag, length, attributes))
            continue
        if not stack or stack[-1][0] != tag:
            expected = stack[-1][0] if stack else ""
            raise ApiError(
                f'{_ENTITIES}Unmatched end tag at byte offset {at}, expected "</{expected}>", '
                f'found "</{tag}>"'
            )
        _, offset, attributes = stack.pop()
        if length > offset:
            entities.append(_entity(tag, offset, length - offset, attributes, stack))
    if stack:
        raise ApiError(
            f'{_ENTITIES}Can\'t find end tag corresponding to start tag "{stack[-1][0]}"'
        )
    visible.append(unescape(text[cursor:]))
    merged = _merge_code_into_pre(entities)
    return "".join(visible), sorted(merged, key=lambda e: (e["offset"], -e["length"]))


def _entity(
    tag: str, offset: int, length: int, attributes: dict[str, str], outer: list[Any]
) -> JSON:
    entity: JSON = {"type": _ENTITY_TYPES[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attributes.get("href", "")
    elif tag == "code" and outer and outer[-1][0] == "pre":
        language = attributes.get("class", "").removeprefix("language-")
        entity = {**entity, "type": "pre", "language": language} if language else entity
    elif tag == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    return entity


def _merge_code_into_pre(entities: list[JSON]) -> list[JSON]:
    """`<pre><code class="language-x">` is one pre entity with a language, as Telegram gives it."""
    spans = {(e["offset"], e["length"]) for e in entities if e.get("language")}
    return [
        e
        for e in entities
        if not (e["type"] == "pre" and "language" not in e and (e["offset"], e["length"]) in spans)
    ]


def _delivery_key(update: JSON) -> tuple[str, int]:
    """Whose updates a webhook delivers one at a time: the update's chat, else its user (whose
    private chat has the user's id), else the update's own."""
    payload = next((v for v in update.values() if isinstance(v, dict)), {})
    chat = payload.get("chat") or (payload.get("message") or {}).get("chat") or payload.get("from")
    return ("chat", int(chat["id"])) if chat else ("update", int(update["update_id"]))


def _chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


class EmulatedBotAPI(LocalServer[Change]):
    """The fake server. Use `async with EmulatedBotAPI() as server:` and `server.base_url`."""

    url_path = "/bot"

    def __init__(
        self,
        token: str = TOKEN,
        *,
        rate_limit_per_second: float | None = None,
        webhook_connections: int = 40,
        first_update_id: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.token = token
        self.clock = clock  # the seconds since the epoch that messages are dated with
        self.bot_id = int(token.split(":", 1)[0])
        self.rate_limit_per_second = rate_limit_per_second
        # Webhook posts in flight at once, unless setWebhook names its own max_connections.
        self.webhook_connections = webhook_connections
        self.max_connections = webhook_connections
        self.calls: list[Call] = []
        self.chats: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self.users: dict[int, User] = {}
        self.incoming: dict[tuple[int, int], JSON] = {}  # messages users sent, by (chat, id)
        self.rejected_429 = 0
        self.webhook_url = ""
        self.webhook_secret = ""
        # (update id, HTTP status or 0 for no answer) of every webhook call, in order.
        self.webhook_calls: list[tuple[int, int]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.member_status: dict[tuple[int, int], str] = {}
        self._pending: list[JSON] = []  # pushed but not yet confirmed by an offset
        self._delivered: dict[int, JSON] = {}  # every update ever pushed, for redeliver()
        # A bot remembers the updates it handled: a new emulation on an old database must not
        # number its updates as they were numbered before.
        self._update_ids = itertools.count(first_update_id)
        self._ids = itertools.count(1)  # file ids, callback ids
        self._message_ids: defaultdict[int, int] = defaultdict(int)
        self._sent: dict[tuple[int, int], SentMessage] = {}
        self._files: dict[str, Upload] = {}
        self._callback_ids: dict[str, tuple[int, int]] = {}  # query id -> (user, chat)
        self.titles: dict[int, str] = {}  # group chats' titles
        self._failures: defaultdict[str, deque[ApiError]] = defaultdict(deque)
        self._send_times: deque[float] = deque()
        self._read_cursor: defaultdict[int, int] = defaultdict(int)
        self._methods: dict[str, Callable[[JSON], Any]] = {
            name: getattr(self, f"_m_{name}") for name in _METHODS
        }
        self._methods_lower = {name.lower(): name for name in _METHODS}

    # ---- failure injection and per-chat state ----------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int = 1,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next call to `method` fail once (calls stack up: two fail_next = two fails).

        With `migrate_to_chat_id`, the failure says the group became that supergroup.
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: BLOCKED,
                400: "Bad Request",
                502: "Bad Gateway",
            }.get(error_code, "Internal Server Error")
        self._failures[method].append(
            ApiError(
                description,
                error_code,
                retry_after if error_code == 429 else None,
                migrate_to_chat_id,
            )
        )

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: writing to its old id fails, naming the new one."""
        self.migrated[chat_id] = new_chat_id

    def block(self, user_id: int) -> None:
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """status: creator | administrator | member | restricted | left | kicked."""
        self.member_status[(chat_id, user_id)] = status

    # ---- incoming updates ------------------------------------------------------------------

    def push_update(self, raw: JSON) -> int:
        update = {**raw, "update_id": next(self._update_ids)}
        for key in ("message", "edited_message", "channel_post"):
            if isinstance(msg := update.get(key), dict) and "chat" in msg:
                self.incoming[(msg["chat"]["id"], msg["message_id"])] = msg
                kind: Literal["message", "edit"] = "message" if key != "edited_message" else "edit"
                self._tell(Change(kind, msg["chat"]["id"], msg["message_id"]))
        self._pending.append(update)
        self._delivered[update["update_id"]] = update
        self._notify()
        return int(update["update_id"])

    def redeliver(self, update_id: int) -> None:
        """Queue an update again, as Telegram does when the bot died before confirming it.

        A running bot has moved its offset past it; a bot started afterwards receives it.
        """
        self._pending.append(self._delivered[update_id])
        self._notify()

    def push_text(
        self,
        user: User,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: SentMessage | None = None,
    ) -> int:
        """A message; with `reply_to`, a reply to one the bot sent (as Telegram quotes it)."""
        extra: JSON = self._reply_json(reply_to)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            # Entity offsets/lengths are in UTF-16 code units, as in the real API.
            length = len(command.encode("utf-16-le")) // 2
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push_message(user, chat_id, text=text, **extra)

    def push_sticker(self, user: User, *, chat_id: int | None = None) -> int:
        sticker = {
            **self._new_file(),
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "👍",
        }
        return self._push_message(user, chat_id, sticker=sticker)

    def push_photo(
        self,
        user: User,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        data: bytes | None = None,
        reply_to: SentMessage | None = None,
    ) -> int:
        """A photo, in the three sizes Telegram makes of one (all `data`, when given)."""
        sizes = [
            {**self._new_file(data or b"\xff\xd8" + bytes(n), "photo.jpg"), "width": n, "height": n}
            for n in (90, 320, 800)
        ]
        extra = {"caption": caption} if caption is not None else {}
        return self._push_message(user, chat_id, photo=sizes, **extra, **self._reply_json(reply_to))

    def push_voice(
        self,
        user: User,
        *,
        chat_id: int | None = None,
        reply_to: SentMessage | None = None,
        data: bytes = b"OggS",
    ) -> int:
        voice = {**self._new_file(data, "voice.ogg"), "duration": 3, "mime_type": "audio/ogg"}
        return self._push_message(user, chat_id, voice=voice, **self._reply_json(reply_to))

    def _reply_json(self, reply_to: SentMessage | None) -> JSON:
        if reply_to is None:
            return {}
        return {"reply_to_message": self._message_json(reply_to, nested=True)}

    def push_document(
        self,
        user: User,
        *,
        chat_id: int | None = None,
        file_name: str = "report.pdf",
        data: bytes = b"%PDF-1.4 fake",
        caption: str | None = None,
        reply_to: SentMessage | None = None,
    ) -> int:
        doc = {**self._new_file(data, file_name), "file_name": file_name}
        extra = {"caption": caption} if caption is not None else {}
        return self._push_message(
            user, chat_id, document=doc, **extra, **self._reply_json(reply_to)
        )

    def push_callback(self, user: User, message: SentMessage, data: str) -> int:
        return self._push_callback(user, self._message_json(message), data)

    def push_callback_raw(self, user: User, chat_id: int, message_id: int, data: str) -> int:
        sent = self._sent.get((chat_id, message_id))
        # Unknown/deleted messages arrive as InaccessibleMessage (date 0), like Telegram does.
        message = (
            self._message_json(sent)
            if sent and not sent.deleted
            else {"chat": self._chat_json(chat_id), "message_id": message_id, "date": 0}
        )
        return self._push_callback(user, message, data)

    # ---- what people see: for the demo's page ---------------------------------------------

    def _timestamp(self) -> int:
        return int(self.clock())

    def chat(self, chat_id: int) -> JSON:
        """The chat as the Bot API describes it."""
        return self._chat_json(chat_id)

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """A message of the chat as the Bot API gives it (None once deleted): a person's, or
        the bot's in its current state."""
        sent = self._sent.get((chat_id, message_id))
        if sent is not None:
            return None if sent.deleted else self._message_json(sent)
        return self.incoming.get((chat_id, message_id))

    def history(self, chat_id: int) -> list[JSON]:
        """Every message of the chat still there, the people's and the bot's, oldest first."""
        people = [msg for (chat, _), msg in self.incoming.items() if chat == chat_id]
        bot = [self._message_json(m) for m in self.chats.get(chat_id, []) if not m.deleted]
        return sorted(people + bot, key=lambda msg: int(msg["message_id"]))

    def chat_ids(self) -> list[int]:
        """Every chat with a message in it."""
        return sorted({chat for chat, _ in self.incoming} | {c for c, m in self.chats.items() if m})

    def file(self, file_id: str) -> Upload | None:
        """A file sent by the bot or by a person, by its file_id."""
        return self._files.get(file_id)

    def sent(self, chat_id: int, message_id: int) -> SentMessage | None:
        """One of the bot's messages, as it stands."""
        msg = self._sent.get((chat_id, message_id))
        return None if msg is None or msg.deleted else msg

    # ---- waiting helpers for tests ---------------------------------------------------------

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        after: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' deadline, not an I/O timeout
    ) -> Call:
        """First call to `method` at index >= `after` (e.g. len(server.calls) taken earlier)."""

        def find() -> Call | None:
            for call in self.calls[after or 0 :]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._expect(find, timeout, f"no {method} call")

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The oldest message sent to `chat_id` that this method has not returned yet."""

        def find() -> SentMessage | None:
            sent = self.chats[chat_id]
            return (
                sent[self._read_cursor[chat_id]] if self._read_cursor[chat_id] < len(sent) else None
            )

        msg = await self._expect(find, timeout, f"no new message to chat {chat_id}")
        self._read_cursor[chat_id] += 1
        return msg

    def unread(self, chat_id: int) -> list[SentMessage]:
        """Messages next_message() would still return; peeking does not consume them."""
        return self.chats[chat_id][self._read_cursor[chat_id] :]

    def mark_read(self, chat_id: int) -> None:
        self._read_cursor[chat_id] = len(self.chats[chat_id])

    async def assert_no_message(self, chat_id: int, within: float = 0.3) -> None:
        got = await self._wait(lambda: self.unread(chat_id) or None, within)
        if got:
            raise AssertionError(f"unexpected message(s) to chat {chat_id}: {got}\n{self.dump()}")

    async def wait_updates_consumed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until the bot confirmed every pushed update; handlers may still be running."""
        if await self._wait(lambda: True if not self._pending else None, timeout) is None:
            ids = [u["update_id"] for u in self._pending]
            raise AssertionError(f"updates {ids} not confirmed within {timeout}s\n{self.dump()}")

    def dump(self, last: int = 20) -> str:
        """The recent calls, getUpdates left out (they would drown everything else)."""
        shown = [c for c in self.calls if c.method != "getUpdates"][-last:]
        lines = [f"recent calls ({len(self.calls)} total, {len(self._pending)} updates pending):"]
        for c in shown:
            params = json.dumps(c.params, default=_short, ensure_ascii=False)
            outcome = (
                "pending"
                if c.response is None
                else ("ok" if c.ok else f"{c.response['error_code']} {c.response['description']}")
            )
            lines.append(f"  #{c.index} {c.method} {params[:200]} -> {outcome}")
        return "\n".join(lines)

    # ---- internals: plumbing ---------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)  # aiohttp's 1 MiB default < 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def _download(self, request: web.Request) -> web.Response:
        """A file by the path getFile gave for it, as Telegram's file server serves it."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].split("/", 1)[0]
        upload = self._files.get(file_id)
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.data)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        # Telegram matches method names case-insensitively; unknown ones are recorded too, so
        # that a timed-out wait shows the call the fake does not implement.
        asked = request.match_info["method"]
        method = self._methods_lower.get(asked.lower())
        call = Call(method or asked, await self._read_params(request), time.monotonic())
        call.index = len(self.calls)
        self.calls.append(call)
        self._notify()
        try:
            if method is None:
                raise ApiError("Not Found", 404)
            self._precheck(call)
            result = self._methods[method](call.params)
            if asyncio.iscoroutine(result):
                result = await result
            body: JSON = {"ok": True, "result": result}
        except ApiError as err:
            body = {"ok": False, "error_code": err.code, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            if err.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": err.migrate_to_chat_id}
        except (KeyError, ValueError, TypeError) as err:  # missing/garbled parameter
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {err!r}"}
        call.response = body
        self._notify()
        return web.json_response(body, status=200 if body["ok"] else body["error_code"])

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {k: _decode(k, v) for k, v in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            params.update({k: _decode(k, v) for k, v in body.items()})
            return params
        # Form-encoded and multipart bodies both land here; uploads become FileFields.
        uploads: dict[str, Upload] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(value.filename, value.file.read())
            else:
                params[key] = _decode(key, value)
        for key, upload in uploads.items():
            # PTB names the part after the parameter, or uses "attach://<part>" references.
            ref = next((k for k, v in params.items() if v == f"attach://{key}"), None)
            params[ref or key] = upload
        return params

    def _precheck(self, call: Call) -> None:
        if self._failures[call.method]:
            raise self._failures[call.method].popleft()
        chat_id = call.params.get("chat_id")
        if call.method in _CHAT_WRITE_METHODS and chat_id in self.blocked:
            raise ApiError(BLOCKED, 403)
        if call.method in _CHAT_WRITE_METHODS and chat_id in self.migrated:
            raise ApiError(
                "Bad Request: group chat was upgraded to a supergroup chat",
                400,
                migrate_to_chat_id=self.migrated[chat_id],
            )
        if self.rate_limit_per_second is not None and call.method in _SEND_METHODS:
            now = time.monotonic()
            while self._send_times and now - self._send_times[0] >= 1.0:
                self._send_times.popleft()
            if len(self._send_times) >= self.rate_limit_per_second:
                self.rejected_429 += 1
                raise ApiError("Too Many Requests: retry after 1", 429, retry_after=1)
            self._send_times.append(now)

    # ---- internals: Telegram objects -------------------------------------------------------

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _user_json(self, user_id: int) -> JSON:
        user = self.users.get(user_id, User(user_id, first_name=f"User{user_id}"))
        data: JSON = {"id": user.id, "is_bot": False, "first_name": user.first_name}
        if user.username:
            data["username"] = user.username
        if user.language_code:
            data["language_code"] = user.language_code
        return data

    def _chat_json(self, chat_id: int) -> JSON:
        kind = _chat_type(chat_id)
        if kind != "private":
            return {
                "id": chat_id,
                "type": kind,
                "title": self.titles.get(chat_id, f"Group {chat_id}"),
            }
        user = self._user_json(chat_id)
        return {"id": chat_id, "type": "private", "first_name": user["first_name"]} | (
            {"username": user["username"]} if "username" in user else {}
        )

    def _new_file(self, data: bytes = b"", name: str = "file") -> JSON:
        n = next(self._ids)
        file_id = f"FILE{n}"
        self._files[file_id] = Upload(name, data)
        return {"file_id": file_id, "file_unique_id": "U" + file_id, "file_size": len(data)}

    def _push_message(self, user: User, chat_id: int | None, **content: Any) -> int:
        self.users[user.id] = user
        chat = user.id if chat_id is None else chat_id
        self._message_ids[chat] += 1  # one id sequence per chat, shared with the bot's messages
        message = {
            "message_id": self._message_ids[chat],
            "date": self._timestamp(),
            "chat": self._chat_json(chat),
            "from": self._user_json(user.id),
            **content,
        }
        return self.push_update({"message": message})

    def push_raw_message(
        self,
        sender: JSON,
        chat_id: int,
        content: JSON,
        *,
        edited: bool = False,
        sender_chat: bool = False,
    ) -> int:
        """A message from anyone at all (a bot, a group's anonymous admin: `sender_chat`), as
        new or as `edited`: what tests of odd input send."""
        self._message_ids[chat_id] += 1
        message = {
            "message_id": self._message_ids[chat_id],
            "date": self._timestamp(),
            "chat": self._chat_json(chat_id),
            "from": sender,
            **content,
        }
        if sender_chat:
            message["sender_chat"] = self._chat_json(chat_id)
        if edited:
            message["edit_date"] = message["date"]
            return self.push_update({"edited_message": message})
        return self.push_update({"message": message})

    def push_raw_press(self, sender: JSON, chat_id: int, data: str) -> int:
        """A press with any data, on the bot's latest message in the chat (on an inaccessible
        one if it sent none there): what a modified client can send."""
        shown = [m for m in self.chats.get(chat_id, []) if not m.deleted]
        message = (
            self._message_json(shown[-1])
            if shown
            else {"chat": self._chat_json(chat_id), "message_id": 1, "date": 0}
        )
        query_id = str(next(self._ids))
        self._callback_ids[query_id] = (int(sender["id"]), chat_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def new_file(self, data: bytes = b"", name: str = "file") -> JSON:
        """A file Telegram holds, as a message refers to it (what the bot may download)."""
        return self._new_file(data, name)

    def _push_callback(self, user: User, message: JSON, data: str) -> int:
        self.users[user.id] = user
        query_id = str(next(self._ids))
        self._callback_ids[query_id] = (user.id, int(message["chat"]["id"]))
        return self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user_json(user.id),
                    "message": message,
                    "chat_instance": str(message["chat"]["id"]),
                    "data": data,
                }
            }
        )

    def _message_json(self, msg: SentMessage, *, nested: bool = False) -> JSON:
        data: JSON = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": self._chat_json(msg.chat_id),
            "from": self._bot_user(),
        }
        html = str(msg.parse_mode).upper() == "HTML"
        for key, value in (("text", msg.text), ("caption", msg.caption)):
            if value is None:
                continue
            # Telegram keeps no markup: it echoes the visible text and its entities.
            given = msg.entities if key == "text" else msg.caption_entities
            markup = html and not (key == "text" and msg.kind == "copy")  # a copy's is given
            visible, entities = parse_html(value) if markup else (value, given or [])
            data[key] = visible
            if entities:
                data["entities" if key == "text" else "caption_entities"] = entities
        if msg.file is not None and msg.file_id is not None:
            meta = {
                "file_id": msg.file_id,
                "file_unique_id": "U" + msg.file_id,
                "file_size": len(msg.file.data),
            }
            media = msg.media or msg.kind
            if media == "photo":
                data["photo"] = [{**meta, "width": 800, "height": 600}]
            elif media == "voice":
                data["voice"] = {**meta, "duration": 1}
            else:
                data["document"] = {**meta, "file_name": msg.file.filename}
        # Telegram only echoes inline keyboards, never reply keyboards.
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.reply_to is not None and not nested:
            target = self._sent.get((msg.chat_id, msg.reply_to))
            replied = (
                self._message_json(target, nested=True)
                if target
                else self.incoming.get((msg.chat_id, msg.reply_to))
            )
            if replied:
                data["reply_to_message"] = replied
        return data

    def _chat_id(self, params: JSON, key: str = "chat_id") -> int:
        chat_id = params.get(key)
        if not isinstance(chat_id, int):
            raise ApiError("Bad Request: chat not found")
        return chat_id

    def _check_text(self, text: Any, parse_mode: Any, limit: int, what: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(f"Bad Request: {what} is empty")
        visible = parse_html(text)[0] if str(parse_mode).upper() == "HTML" else text
        if len(visible) > limit:
            raise ApiError(f"Bad Request: {what} is too long")

    def _send(self, params: JSON, kind: str, **fields: Any) -> JSON:
        chat_id = self._chat_id(params)
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        self._message_ids[chat_id] += 1
        msg = SentMessage(
            message_id=self._message_ids[chat_id],
            chat_id=chat_id,
            kind=kind,
            reply_markup=_markup(params.get("reply_markup")),
            parse_mode=params.get("parse_mode"),
            reply_to=reply_to or params.get("reply_to_message_id"),
            date=self._timestamp(),
            params=params,
            **fields,
        )
        self.chats[chat_id].append(msg)
        self._sent[(chat_id, msg.message_id)] = msg
        self._tell(Change("message", chat_id, msg.message_id))
        return self._message_json(msg)

    def _send_media(self, params: JSON, kind: str) -> JSON:
        ref = params.get(kind)
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), 1024, "message caption")
        if isinstance(ref, Upload):
            file_id = self._new_file(ref.data, ref.filename)["file_id"]
            return self._send(params, kind, file=ref, file_id=file_id, caption=caption)
        if isinstance(ref, str) and ref in self._files:  # re-sending a known file_id
            return self._send(params, kind, file=self._files[ref], file_id=ref, caption=caption)
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            file_id = self._new_file(b"", ref.rsplit("/", 1)[-1])["file_id"]
            return self._send(
                params, kind, file=self._files[file_id], file_id=file_id, caption=caption
            )
        raise ApiError("Bad Request: wrong file identifier/HTTP URL specified")

    def _editable(self, params: JSON) -> SentMessage:
        if "inline_message_id" in params:
            raise ApiError("Bad Request: inline messages are not supported by EmulatedBotAPI")
        key = (self._chat_id(params), int(params["message_id"]))
        if key in self.incoming:
            raise ApiError("Bad Request: message can't be edited")
        msg = self._sent.get(key)
        if msg is None or msg.deleted:
            raise ApiError("Bad Request: message to edit not found")
        return msg

    def _apply_edit(self, msg: SentMessage, text: str | None, markup: JSON | None) -> JSON:
        if text == msg.text and markup == msg.reply_markup:
            raise ApiError(NOT_MODIFIED)
        msg.history.append((msg.text, msg.reply_markup))
        msg.text, msg.reply_markup, msg.edit_date = text, markup, self._timestamp()
        self._tell(Change("edit", msg.chat_id, msg.message_id))
        return self._message_json(msg)

    # ---- internals: Bot API methods (params are already decoded) ---------------------------

    def _m_getMe(self, p: JSON) -> JSON:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_deleteWebhook(self, p: JSON) -> bool:
        self.webhook_url = ""
        self._notify()  # the delivery loop sees it and ends
        if p.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _m_setWebhook(self, p: JSON) -> bool:
        self.webhook_url = str(p["url"])
        self.webhook_secret = str(p.get("secret_token") or "")
        self.max_connections = int(p.get("max_connections") or self.webhook_connections)
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver_by_webhook())
        return True

    async def _deliver_by_webhook(self) -> None:
        """Post pending updates to the webhook as Telegram does: up to `max_connections` at once,
        but one chat's updates one at a time and in order. An update counts as delivered only
        when the bot answers 2xx; otherwise it is posted again a little later."""
        import aiohttp

        busy: set[tuple[str, int]] = set()  # the chats with an update on its way

        async def post(client: aiohttp.ClientSession, update: JSON, chat: tuple[str, int]) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
            try:
                async with client.post(self.webhook_url, json=update, headers=headers) as got:
                    await got.read()  # read to the end, or the connection is not kept for the next
                    status = got.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self.webhook_calls.append((int(update["update_id"]), status))
            if 200 <= status < 300:
                self._pending = [u for u in self._pending if u is not update]
            else:
                await asyncio.sleep(0.05)
            busy.discard(chat)
            self._notify()

        def ready() -> list[tuple[JSON, tuple[str, int]]] | None:
            """The oldest pending update of each chat with none on its way, while places last."""
            if not self.webhook_url or self._closing:
                return []  # the loop ends
            chosen: list[tuple[JSON, tuple[str, int]]] = []
            taken = set(busy)
            for update in self._pending:
                if len(busy) + len(chosen) >= self.max_connections:
                    break
                if (chat := _delivery_key(update)) not in taken:
                    taken.add(chat)
                    chosen.append((update, chat))
            return chosen or None

        timeout = aiohttp.ClientTimeout(total=30)
        # The task group ends with the loop: in-flight posts finish, or are cancelled with it.
        async with aiohttp.ClientSession(timeout=timeout) as client, asyncio.TaskGroup() as posts:
            while self.webhook_url and not self._closing:
                for update, chat in await self._wait(ready, 0.2) or []:
                    busy.add(chat)
                    posts.create_task(post(client, update, chat))

    def _m_getWebhookInfo(self, p: JSON) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _m_logOut(self, p: JSON) -> bool:
        return True

    def _m_close(self, p: JSON) -> bool:
        return True

    @staticmethod
    def _commands_key(p: JSON) -> tuple[str, str]:
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        return scope, str(p.get("language_code") or "")

    def _m_setMyCommands(self, p: JSON) -> bool:
        self.commands[self._commands_key(p)] = list(p["commands"])
        return True

    def _m_getMyCommands(self, p: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(p), [])

    def _m_deleteMyCommands(self, p: JSON) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _m_getUpdates(self, p: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        offset, limit = int(p.get("offset", 0)), max(1, min(100, int(p.get("limit", 100))))
        # An offset confirms every earlier update; a negative one keeps only the last -offset.
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._notify()

        def ready() -> list[JSON] | None:
            return [] if self._closing else (self._pending[:limit] or None)

        return await self._wait(ready, float(p.get("timeout", 0))) or []

    def _m_sendMessage(self, p: JSON) -> JSON:
        self._check_text(p.get("text"), p.get("parse_mode"), 4096, "message text")
        return self._send(p, "text", text=p["text"], entities=p.get("entities"))

    def _m_editMessageText(self, p: JSON) -> JSON:
        msg = self._editable(p)
        if msg.text is None:
            raise ApiError("Bad Request: there is no text in the message to edit")
        self._check_text(p.get("text"), p.get("parse_mode"), 4096, "message text")
        # Like Telegram: an edit without reply_markup drops the inline keyboard.
        result = self._apply_edit(msg, p["text"], _markup(p.get("reply_markup")))
        msg.parse_mode = p.get("parse_mode")
        return result

    def _m_editMessageReplyMarkup(self, p: JSON) -> JSON:
        msg = self._editable(p)
        return self._apply_edit(msg, msg.text, _markup(p.get("reply_markup")))

    def _m_deleteMessage(self, p: JSON) -> bool:
        key = (self._chat_id(p), int(p["message_id"]))
        msg = self._sent.get(key)
        if msg is not None and not msg.deleted:
            msg.deleted = True
        elif self.incoming.pop(key, None) is None:
            raise ApiError("Bad Request: message to delete not found")
        self._tell(Change("delete", *key))
        return True

    def _m_answerCallbackQuery(self, p: JSON) -> bool:
        pressed = self._callback_ids.get(str(p["callback_query_id"]))
        if pressed is None:
            raise ApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if p.get("text"):
            user_id, chat_id = pressed
            alert = bool(p.get("show_alert"))
            self._tell(Change("toast", chat_id, user_id=user_id, text=str(p["text"]), alert=alert))
        return True

    def _m_sendDocument(self, p: JSON) -> JSON:
        return self._send_media(p, "document")

    def _m_sendPhoto(self, p: JSON) -> JSON:
        return self._send_media(p, "photo")

    def _m_sendVoice(self, p: JSON) -> JSON:
        return self._send_media(p, "voice")

    def _m_sendAudio(self, p: JSON) -> JSON:
        return self._send_media(p, "audio")

    def _m_sendVideo(self, p: JSON) -> JSON:
        return self._send_media(p, "video")

    def _m_getFile(self, p: JSON) -> JSON:
        file_id = str(p.get("file_id") or "")
        upload = self._files.get(file_id)
        if upload is None:
            raise ApiError("Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": "U" + file_id,
            "file_size": len(upload.data),
            "file_path": f"{file_id}/{upload.filename}",
        }

    def _m_sendChatAction(self, p: JSON) -> bool:
        self._chat_id(p)
        return True

    def _m_copyMessage(self, p: JSON) -> JSON:
        source_key = (self._chat_id(p, "from_chat_id"), int(p["message_id"]))
        sent = self._sent.get(source_key)
        source = (
            self._message_json(sent) if sent and not sent.deleted else self.incoming.get(source_key)
        )
        if source is None:
            raise ApiError("Bad Request: message to copy not found")
        kind = next((k for k in ("photo", "voice", "document") if k in source), None)
        media = (source.get("photo") or [{}])[-1] if kind == "photo" else source.get(kind or "", {})
        file_id = media.get("file_id")
        caption = p.get("caption", source.get("caption"))
        copy = self._send(
            p,
            "copy",
            text=source.get("text"),
            entities=source.get("entities"),
            caption=caption,
            caption_entities=None if "caption" in p else source.get("caption_entities"),
            file=self._files.get(file_id or ""),
            file_id=file_id,
            media=kind,
            copied_from=source_key,
        )
        return {"message_id": copy["message_id"]}

    def _m_getChat(self, p: JSON) -> JSON:
        return self._chat_json(self._chat_id(p)) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(_GIFT_TYPES, False),
        }

    def _m_getChatMember(self, p: JSON) -> JSON:
        user_id = int(p["user_id"])
        status = self.member_status.get((self._chat_id(p), user_id), "member")
        member: JSON = {"user": self._user_json(user_id), "status": status}
        if status in ("creator", "administrator"):
            member["is_anonymous"] = False
        if status == "administrator":
            member |= {"can_be_edited": False} | {f"can_{r}": True for r in _ADMIN_RIGHTS}
        elif status == "restricted":
            member |= {"is_member": True, "until_date": 0}
            member |= {f"can_{r}": False for r in _RESTRICTED_RIGHTS}
        elif status == "kicked":
            member["until_date"] = 0
        return member
