"""The demo's page: chat as a resident, a volunteer or the organiser with the real bot, on the
Bot API and Graph API emulations, and move the demo's time forward.

What the page draws is what the emulated Telegram and WhatsApp hold: Telegram's messages as the
Bot API gives them (text and entities, inline keyboards, edits, files), WhatsApp's as its
emulation keeps them (reply buttons, lists, templates, files, delivery ticks; see
handlers.web.demo_whatsapp), sent live to the page as server-sent events. What a person does on
the page becomes the update Telegram, or the webhook Meta, would send the bot: a message, a
button press (only of a button that is on that message), a photo, a voice note or a document.
The people are the demo's own (bot.demo.seed) and the residents made on the page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from telegram.ext import Application

from bot import i18n
from bot.config import Settings
from bot.demo.clock import DemoClock
from bot.i18n import N_, _
from bot.outbox.reminders import next_reminder
from bot.residents.phones import language_of_number
from handlers.emulation.telegram import Change, EmulatedBotAPI, SentMessage, User
from handlers.emulation.whatsapp import Change as WaChange
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from handlers.telegram.context import Wiring
from handlers.telegram.nudging import send_nudges
from handlers.web import demo_whatsapp

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_TEXT = 4096  # Telegram's limit for one message
MAX_UPLOAD = 20 * 1024 * 1024  # what a bot may download from Telegram
REMINDERS_AHEAD = timedelta(days=62)
HEARTBEAT_SECONDS = 15.0

# The page's own words (the bot's are in its messages); sent to the page in its language.
STRINGS = {
    "banner": N_(
        "Demo: the people, requests and activities are made up, and nothing leaves this "
        "computer. Everything else is the real help desk."
    ),
    "demo_time": N_("Demo time"),
    "plus_hour": N_("+1 hour"),
    "plus_day": N_("+1 day"),
    "next_reminder": N_("To the next reminder"),
    "open_chat": N_("Open a chat"),
    "new_resident": N_("New resident"),
    "name": N_("Name"),
    "language": N_("Language"),
    "start": N_("Start"),
    "residents": N_("Residents"),
    "volunteers": N_("Volunteers"),
    "organiser": N_("Organiser"),
    "groups": N_("Volunteer groups"),
    "private_chat": N_("Private chat with the bot"),
    "group_chat": N_("Group"),
    "write_as": N_("Write as"),
    "message": N_("Message"),
    "send": N_("Send"),
    "attach": N_("Send a photo or a file"),
    "reply": N_("Reply"),
    "replying_to": N_("Replying to"),
    "cancel_reply": N_("Cancel the reply"),
    "close_chat": N_("Close this chat"),
    "edited": N_("edited"),
    "download": N_("Download"),
    "bot": N_("bot"),
    "voice_message": N_("Voice message"),
    "photo": N_("Photo"),
    "no_chats": N_("Open a chat from the list to begin."),
    "ok": N_("OK"),
    # WhatsApp's side of the page.
    "chat_app": N_("Chat app"),
    "country": N_("Country of the number"),
    "typing": N_("typing…"),
    "close": N_("Close"),
    # TRANSLATORS: what the ticks of a WhatsApp message say (its delivery status).
    "status_accepted": N_("Sending"),
    "status_sent": N_("Sent"),
    "status_delivered": N_("Delivered"),
    "status_read": N_("Read"),
    "status_failed": N_("Not delivered: error {code}"),
}
ERRORS = {
    "who": N_("Choose who writes."),
    "empty": N_("Write a message first."),
    "long": N_("A message can have at most 4,096 characters."),
    "gone": N_("That message is not in this chat any more."),
    "button": N_("That button is not on this message."),
    "file": N_("Send a photo or a file of at most 20 MB."),
    "name": N_("Give the resident a name."),
    "step": N_("The demo's time moves by an hour, a day or to the next reminder."),
    "channel": N_("Choose Telegram or WhatsApp."),
    "country": N_("Choose the country of the number."),
}


ChatId = int | str  # a Telegram chat's id; "wa:" and the number for a WhatsApp conversation


@dataclass
class Persona:
    """Someone the page can be: their account on their platform, and what they are to the help
    desk. Volunteers and the organiser are on Telegram; residents on either."""

    user_id: int | str  # Telegram's user id; on WhatsApp, the number's digits
    name: str
    language: str
    role: str  # resident | volunteer | organiser
    channel: str = "telegram"  # or "whatsapp"

    @property
    def chat(self) -> ChatId:
        """Their private chat with the bot, as the page names it (and them)."""
        if self.channel == "whatsapp":
            return demo_whatsapp.page_chat(str(self.user_id))
        return self.user_id

    def as_json(self) -> dict[str, Any]:
        shown = {"id": self.chat, "name": self.name, "language": self.language}
        shown |= {"role": self.role, "channel": self.channel}
        if self.channel == "whatsapp":
            shown["number"] = demo_whatsapp.shown_number(str(self.user_id))
        return shown


@dataclass
class World:
    """The demo's people and groups, and the emulated Telegram and WhatsApp they write on."""

    telegram: EmulatedBotAPI
    clock: DemoClock
    whatsapp: EmulatedGraphAPI | None = None
    people: dict[ChatId, Persona] = field(default_factory=dict)  # by their chat
    groups: dict[int, str] = field(default_factory=dict)  # chat id -> title
    next_resident: int = 920001

    def add(self, persona: Persona, bsuid: str | None = None) -> Persona:
        """Someone the page can be, known to their platform's emulation; `bsuid`: the id
        WhatsApp gives the help desk for a number (derived from it when None)."""
        self.people[persona.chat] = persona
        if persona.channel == "whatsapp":
            assert self.whatsapp is not None, "WhatsApp residents need the Graph API emulation"
            self.whatsapp.add_user(WaUser(str(persona.user_id), persona.name, bsuid))
            return persona
        user_id = int(persona.user_id)
        self.telegram.users[user_id] = User(
            user_id, first_name=persona.name, language_code=persona.language
        )
        self.next_resident = max(self.next_resident, user_id + 1)
        return persona

    def add_group(self, chat_id: int, title: str) -> None:
        self.groups[chat_id] = title
        self.telegram.titles[chat_id] = title

    def may_write(self, user_id: ChatId, chat_id: ChatId) -> bool:
        """A person writes in their own private chat; volunteers and the organiser in groups."""
        persona = self.people.get(user_id)
        if persona is None:
            return False
        if chat_id in self.groups:
            return persona.role in ("volunteer", "organiser")
        return chat_id == persona.chat

    def numbers(self) -> set[str]:
        """The WhatsApp numbers the demo's people have."""
        return {str(p.user_id) for p in self.people.values() if p.channel == "whatsapp"}

    def chats(self) -> list[dict[str, Any]]:
        groups = [
            {"id": chat_id, "channel": "telegram", "kind": "group", "title": title}
            for chat_id, title in self.groups.items()
        ]
        private = [
            {"id": p.chat, "channel": p.channel, "kind": "private", "title": p.name}
            for p in self.people.values()
        ]
        return groups + private


class DemoError(Exception):
    """A request the page should not have made: answered with a line in the page's language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[Request], Awaitable[Response]]


def demo_routes(application: Application, world: World) -> list[BaseRoute]:  # type: ignore[type-arg]
    """The page at `/` and what it calls under `/demo/`."""
    wiring: Wiring = application.bot_data
    listeners: set[asyncio.Queue[dict[str, Any]]] = set()

    def tell(event: dict[str, Any]) -> None:
        for queue in listeners:
            queue.put_nowait(event)

    def told_on_whatsapp(graph: EmulatedGraphAPI, change: WaChange) -> None:
        # Drawing a WhatsApp message reads its conversation: only for someone watching.
        if listeners and (event := demo_whatsapp.event(graph, change)) is not None:
            tell(event)

    world.telegram.watch(lambda change: tell(_event(world, change)))
    if (graph := world.whatsapp) is not None:
        graph.watch(lambda change: told_on_whatsapp(graph, change))

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "demo.html", headers={"Cache-Control": "no-cache"})

    async def world_view(request: Request) -> Response:
        return JSONResponse(_world_json(world, wiring, _language(request, wiring)))

    async def events(request: Request) -> Response:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        listeners.add(queue)
        language = _language(request, wiring)

        async def stream() -> AsyncIterator[str]:
            try:
                # Listening began before the snapshot: a change in between comes twice (the
                # page replaces a message by its id), never not at all.
                chats = _conversations(world)
                snapshot = {"world": _world_json(world, wiring, language), "chats": chats}
                yield _sse({"type": "snapshot"} | snapshot)
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    except TimeoutError:
                        yield ": still here\n\n"
                        continue
                    if event["type"] == "world":
                        event = {"type": "world", "world": _world_json(world, wiring, language)}
                    yield _sse(event)
            finally:
                listeners.discard(queue)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def new_resident(request: Request) -> Response:
        data = await _json(request)
        name = " ".join(str(data.get("name") or "").split())[:64]
        if not name:
            raise DemoError("name")
        settings = wiring.desk.settings
        channel = data.get("channel") or "telegram"
        if channel == "whatsapp" and world.whatsapp is not None:
            persona = _new_whatsapp_resident(world, settings, name, data.get("country"))
        elif channel == "telegram":
            language = str(data.get("language") or "")
            language = language if language in settings.languages else settings.default_language
            persona = world.add(Persona(world.next_resident, name, language, "resident"))
        else:
            raise DemoError("channel")
        tell({"type": "world"})
        return JSONResponse({"person": persona.as_json()})

    async def send(request: Request) -> Response:
        data = await _json(request)
        if _on_whatsapp(data):
            return _wa_send(world, data)
        user, chat_id = _writer(world, data)
        text = _text(data)
        reply_to = _message(world, chat_id, data.get("reply_to"))
        pushed = world.telegram.push_text(user, text, chat_id=chat_id, reply_to=reply_to)
        return JSONResponse({"update_id": pushed})

    async def press(request: Request) -> Response:
        data = await _json(request)
        if _on_whatsapp(data):
            return _wa_press(world, data)
        user, chat_id = _writer(world, data)
        message = _message(world, chat_id, data.get("message"))
        pressed = data.get("data")
        # Telegram sends only the data of a button the message shows.
        if message is None or not isinstance(pressed, str) or pressed not in _buttons(message):
            raise DemoError("button")
        return JSONResponse({"update_id": world.telegram.push_callback(user, message, pressed)})

    async def read(request: Request) -> Response:
        """A WhatsApp resident looks at their chat: the bot's messages turn read (blue ticks)."""
        data = await _json(request)
        if not _on_whatsapp(data):
            raise DemoError("who")
        graph, user = _wa_writer(world, data)
        return JSONResponse({"read": graph.read_by(user)})

    async def upload(request: Request) -> Response:
        query = request.query_params
        if _on_whatsapp(dict(query)):
            return await _wa_upload(world, request)
        user, chat_id = _writer(world, dict(query))
        content = await _upload(request)
        reply_to = _message(world, chat_id, query.get("reply_to"))
        caption = (query.get("caption") or "").strip()[:1024] or None
        telegram = world.telegram
        kind = query.get("kind")
        if kind == "photo":
            pushed = telegram.push_photo(
                user, caption, chat_id=chat_id, data=content, reply_to=reply_to
            )
        elif kind == "voice":
            pushed = telegram.push_voice(user, chat_id=chat_id, reply_to=reply_to, data=content)
        else:
            name = Path(query.get("name") or "").name[:128] or "file"
            pushed = telegram.push_document(
                user,
                chat_id=chat_id,
                file_name=name,
                data=content,
                caption=caption,
                reply_to=reply_to,
            )
        return JSONResponse({"update_id": pushed})

    async def download(request: Request) -> Response:
        upload = world.telegram.file(request.path_params["file_id"])
        if upload is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        name = Path(upload.filename).name or "file"
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return _file(request, upload.data, name, kind)

    async def wa_download(request: Request) -> Response:
        """A file on WhatsApp's media store: one the bot sent (an .ics, /mydata's export) or a
        person's."""
        media = world.whatsapp.file(request.path_params["media_id"]) if world.whatsapp else None
        if media is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        name = Path(media.filename).name or "file"
        return _file(request, media.data, name, media.mime_type.split(";")[0])

    async def clock(request: Request) -> Response:
        data = await _json(request)
        step = data.get("step")
        if step not in ("hour", "day", "reminder"):
            raise DemoError("step")
        with i18n.locale(_language(request, wiring)):
            if step == "reminder":
                said = await _to_next_reminder(application, world)
            else:
                ahead = timedelta(hours=1) if step == "hour" else timedelta(days=1)
                said = await _move(application, world, world.clock() + ahead)
        tell({"type": "world"})
        return JSONResponse({"said": said})

    def refusing(handler: Handler) -> Handler:
        """Bad input is answered with one line in the page's language, and changes nothing."""

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except DemoError as error:
                with i18n.locale(_language(request, wiring)):
                    said = _(ERRORS.get(error.reason, ERRORS["who"]))
                return JSONResponse({"error": said}, status_code=400)

        return answer

    return [
        Route("/", page, methods=["GET"]),
        Route("/demo/world", world_view, methods=["GET"]),
        Route("/demo/events", events, methods=["GET"]),
        Route("/demo/residents", refusing(new_resident), methods=["POST"]),
        Route("/demo/send", refusing(send), methods=["POST"]),
        Route("/demo/press", refusing(press), methods=["POST"]),
        Route("/demo/upload", refusing(upload), methods=["POST"]),
        Route("/demo/read", refusing(read), methods=["POST"]),
        Route("/demo/files/wa/{media_id}", wa_download, methods=["GET"]),
        Route("/demo/files/{file_id}", download, methods=["GET"]),
        Route("/demo/clock", refusing(clock), methods=["POST"]),
        Mount("/demo/static", StaticFiles(directory=STATIC), name="static"),
    ]


# ---- moving the demo's time ------------------------------------------------------------------


async def _move(application: Application, world: World, target: datetime) -> str:  # type: ignore[type-arg]
    """Move to `target`, stopping at each reminder on the way so that each goes out on time
    (one found long after its time is skipped, as after a long stop of the bot)."""
    desk = application.bot_data.desk
    while True:
        async with desk.sessions() as session:
            moment = world.clock()
            slot = await next_reminder(session, desk.settings, moment, target - moment)
        if slot is None:
            break
        world.clock.advance_to(slot.send_at + timedelta(seconds=1))
        await _catch_up(application)
    world.clock.advance_to(target)
    await _catch_up(application)
    when = i18n.format_when(world.clock(), desk.settings.timezone)
    return _("Moved forward to {time}.").format(time=i18n.isolate(when))


async def _to_next_reminder(application: Application, world: World) -> str:  # type: ignore[type-arg]
    desk = application.bot_data.desk
    async with desk.sessions() as session:
        slot = await next_reminder(session, desk.settings, world.clock(), REMINDERS_AHEAD)
    if slot is None:
        return _("No reminder in the next two months: sign someone up to an activity first.")
    return await _move(application, world, slot.send_at + timedelta(seconds=1))


async def _catch_up(application: Application) -> None:  # type: ignore[type-arg]
    """What falls due at the new time: reminders, nudges, the cards nobody took."""
    wiring: Wiring = application.bot_data
    if wiring.reminders is not None:
        await wiring.reminders.check()
    await send_nudges(application.bot, wiring.desk)


# ---- requests and answers --------------------------------------------------------------------


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise DemoError("who") from None
    if not isinstance(data, dict):
        raise DemoError("who")
    return data


def _number(value: object) -> int | None:
    """An id the page sent: an int, or digits in a string (query parameters)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**53 else None
    if isinstance(value, str) and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        return _number(int(value)) if len(value) < 20 else None
    return None


def _text(data: dict[str, Any]) -> str:
    text = str(data.get("text") or "")
    if not text.strip():
        raise DemoError("empty")
    if len(text) > MAX_TEXT:
        raise DemoError("long")
    return text


async def _upload(request: Request) -> bytes:
    """The file the page sends, refused beyond what a bot may download."""
    declared = request.headers.get("content-length") or ""
    if not declared.isascii() or not declared.isdigit() or int(declared) > MAX_UPLOAD:
        raise DemoError("file")
    content = await request.body()
    if not 0 < len(content) <= MAX_UPLOAD:
        raise DemoError("file")
    return content


def _file(request: Request, data: bytes, name: str, kind: str) -> Response:
    """A file for the page: shown in it with `?inline=1`, else downloaded under its name."""
    headers = (
        {}
        if request.query_params.get("inline")
        else {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    )
    return Response(data, media_type=kind, headers=headers)


def _writer(world: World, data: dict[str, Any]) -> tuple[User, int]:
    """Who writes, and in which chat: only someone who may write there."""
    user_id, chat_id = _number(data.get("as")), _number(data.get("chat"))
    if user_id is None or chat_id is None or not world.may_write(user_id, chat_id):
        raise DemoError("who")
    return world.telegram.users[user_id], chat_id


def _message(world: World, chat_id: int, value: object) -> SentMessage | None:
    """One of the bot's messages in the chat (a reply goes to one, a press is on one)."""
    if value is None or value == "":
        return None
    message_id = _number(value)
    message = None if message_id is None else world.telegram.sent(chat_id, message_id)
    if message is None:
        raise DemoError("gone")
    return message


# ---- WhatsApp conversations -------------------------------------------------------------------


def _new_whatsapp_resident(
    world: World, settings: Settings, name: str, calling_code: object
) -> Persona:
    """A resident with a new number of the country chosen: the bot reads its calling code as a
    hint of their language, as it does for anyone's first message."""
    where = demo_whatsapp.country(calling_code)
    if where is None:
        raise DemoError("country")
    number = demo_whatsapp.new_number(where, world.numbers())
    language = settings.language_for(language_of_number(number))
    return world.add(Persona(number, name, language, "resident", "whatsapp"))


def _wa_send(world: World, data: dict[str, Any]) -> Response:
    graph, user = _wa_writer(world, data)
    text = _text(data)
    reply_to = _wa_message(graph, user, data.get("reply_to"))
    return JSONResponse({"message_id": graph.push_text(user, text, reply_to)})


def _wa_press(world: World, data: dict[str, Any]) -> Response:
    graph, user = _wa_writer(world, data)
    # WhatsApp posts only a button, row or quick reply that the message shows.
    tapped = demo_whatsapp.press(graph, user, data.get("message"), data.get("data"))
    if tapped is None:
        raise DemoError("button")
    return JSONResponse({"message_id": tapped})


async def _wa_upload(world: World, request: Request) -> Response:
    """A photo, a voice note or a document; WhatsApp sends them without quoting a message."""
    query = request.query_params
    graph, user = _wa_writer(world, dict(query))
    content = await _upload(request)
    name = Path(query.get("name") or "").name[:128] or "file"
    caption = (query.get("caption") or "").strip()[:1024] or None
    pushed = demo_whatsapp.send_file(graph, user, query.get("kind"), content, name, caption)
    return JSONResponse({"message_id": pushed})


def _on_whatsapp(data: dict[str, Any]) -> bool:
    """Whether the page acts in a WhatsApp conversation ("wa:…")."""
    chat = data.get("chat")
    return isinstance(chat, str) and chat.startswith(demo_whatsapp.PREFIX)


def _wa_writer(world: World, data: dict[str, Any]) -> tuple[EmulatedGraphAPI, WaUser]:
    """A WhatsApp resident writing in their own conversation, and nobody else."""
    graph, number = world.whatsapp, demo_whatsapp.number_of(data.get("chat"))
    if graph is None or number is None or number not in graph.users:
        raise DemoError("who")
    chat = demo_whatsapp.page_chat(number)
    if data.get("as") != chat or not world.may_write(chat, chat):
        raise DemoError("who")
    return graph, graph.users[number]


def _wa_message(graph: EmulatedGraphAPI, user: WaUser, value: object) -> str | None:
    """A message of the person's conversation (theirs or the bot's), for a reply to quote."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not demo_whatsapp.in_conversation(graph, user.wa_id, value):
        raise DemoError("gone")
    return value


def _buttons(message: SentMessage) -> set[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return {str(b["callback_data"]) for row in rows for b in row if "callback_data" in b}


def _language(request: Request, wiring: Wiring) -> str:
    """The page's language: `?lang=`, else the browser's first enabled one, else the default."""
    settings = wiring.desk.settings
    asked = request.query_params.get("lang")
    wanted = [asked] if asked else []
    for part in request.headers.get("accept-language", "").split(","):
        wanted.append(part.split(";")[0].strip())
    for hint in wanted:
        if (language := i18n.match_language(hint, settings.languages)) is not None:
            return language
    return settings.default_language


def _world_json(world: World, wiring: Wiring, language: str) -> dict[str, Any]:
    settings = wiring.desk.settings
    with i18n.locale(language):
        strings = {key: _(text) for key, text in STRINGS.items()}
        now = i18n.format_when(world.clock(), settings.timezone)
    return {
        "language": language,
        "direction": "rtl" if i18n.is_rtl(language) else "ltr",
        "strings": strings,
        "now": now,
        "timezone": settings.timezone.key,
        "channels": ["telegram", "whatsapp"] if world.whatsapp is not None else ["telegram"],
        "countries": demo_whatsapp.countries_json(language) if world.whatsapp is not None else [],
        "languages": [
            {"code": code, "name": i18n.language_name(code)} for code in settings.languages
        ],
        "people": [p.as_json() for p in world.people.values()],
        "chats": world.chats(),
    }


def _event(world: World, change: Change) -> dict[str, Any]:
    """A change in the emulated Telegram, as the page takes it."""
    event: dict[str, Any] = {"type": change.kind, "chat": change.chat_id}
    if change.kind in ("message", "edit"):
        assert change.message_id is not None
        message = world.telegram.message(change.chat_id, change.message_id)
        if message is None:
            return {"type": "delete", "chat": change.chat_id, "message_id": change.message_id}
        event["message"] = message
    elif change.kind == "delete":
        event["message_id"] = change.message_id
    else:
        event |= {"user": change.user_id, "text": change.text, "alert": change.alert}
    return event


def _conversations(world: World) -> dict[str, list[dict[str, Any]]]:
    """Every chat's messages, Telegram's and WhatsApp's, for the page's snapshot."""
    chats = {str(c): world.telegram.history(c) for c in world.telegram.chat_ids()}
    if world.whatsapp is not None:
        chats |= demo_whatsapp.conversations(world.whatsapp)
    return chats


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
