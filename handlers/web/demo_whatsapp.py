"""The demo page's WhatsApp side: the Graph API emulation's conversations as the page draws them,
and a person's taps on the page as the messages Meta would post to the bot.

On the page a WhatsApp conversation is "wa:" and the person's number. Each message is drawn
from what the emulation holds (the person's as Meta's webhook JSON, the bot's as the payload
it sent, with its delivery statuses), flattened into one shape the page reads: who wrote, the
text, the reply buttons or the list's rows, the file, the ticks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel import Locale

from handlers.emulation.whatsapp import (
    Change,
    EmulatedGraphAPI,
    MediaFile,
    OutgoingMessage,
    WaUser,
)

JSON = dict[str, Any]
PREFIX = "wa:"
_MEDIA = ("image", "document", "audio", "video", "sticker")


@dataclass(frozen=True)
class Country:
    """Where a new resident's number comes from: its calling code hints the bot their language."""

    calling_code: str
    territory: str  # ISO 3166, for its name in the page's language
    mobile: str  # how mobile numbers begin there


# Milan's largest communities (see bot.residents.phones), Italy first.
COUNTRIES = (
    Country("39", "IT", "3"),
    Country("20", "EG", "10"),
    Country("212", "MA", "6"),
    Country("216", "TN", "2"),
    Country("213", "DZ", "5"),
    Country("51", "PE", "9"),
    Country("593", "EC", "9"),
    Country("63", "PH", "9"),
    Country("880", "BD", "1"),
    Country("92", "PK", "3"),
    Country("94", "LK", "7"),
    Country("86", "CN", "13"),
    Country("40", "RO", "7"),
    Country("380", "UA", "6"),
    Country("355", "AL", "6"),
    Country("221", "SN", "7"),
    Country("44", "GB", "7"),
    Country("33", "FR", "6"),
)


def page_chat(number: str) -> str:
    return PREFIX + number


def number_of(chat: object) -> str | None:
    """The number of a conversation the page names ("wa:201005550101"), else None."""
    if not isinstance(chat, str) or not chat.startswith(PREFIX):
        return None
    digits = chat.removeprefix(PREFIX)
    return digits if digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 15 else None


def country(calling_code: object) -> Country | None:
    return next((c for c in COUNTRIES if c.calling_code == calling_code), None)


def new_number(where: Country, taken: set[str]) -> str:
    """A number of that country that nobody in the demo has (555 marks a made-up one)."""
    serial = 1
    while True:
        # Ten digits after the calling code, as most of these countries' mobile numbers have.
        national = f"{where.mobile}555{serial:0{7 - len(where.mobile)}d}"
        number = where.calling_code + national
        if number not in taken:
            return number
        serial += 1


def shown_number(number: str) -> str:
    """The number as WhatsApp shows it: "+20 1005550101"."""
    found = next((c for c in COUNTRIES if number.startswith(c.calling_code)), None)
    if found is None:
        return f"+{number}"
    return f"+{found.calling_code} {number.removeprefix(found.calling_code)}"


def countries_json(language: str) -> list[JSON]:
    """The countries of the new-resident form, named in the page's language."""
    names = Locale.parse(language).territories
    return [
        {"code": c.calling_code, "name": str(names.get(c.territory, c.territory))}
        for c in COUNTRIES
    ]


# ---- what the page draws -----------------------------------------------------------------------


def conversations(graph: EmulatedGraphAPI) -> dict[str, list[JSON]]:
    """Every conversation with a message in it, as the page's snapshot holds them."""
    return {page_chat(number): conversation(graph, number) for number in graph.wa_ids()}


def conversation(graph: EmulatedGraphAPI, number: str) -> list[JSON]:
    return [_drawn(graph, raw, seq) for seq, raw in enumerate(graph.history(number))]


def event(graph: EmulatedGraphAPI, change: Change) -> JSON | None:
    """A change the person would see, as the page takes it: a message, one whose ticks changed
    (an edit), or the bot typing; None for a message not in the conversation."""
    chat = page_chat(change.wa_id)
    if change.kind == "typing":
        return {"type": "typing", "chat": chat}
    history = graph.history(change.wa_id)
    found = next(((n, m) for n, m in enumerate(history) if m["id"] == change.message_id), None)
    if found is None:
        return None
    kind = "message" if change.kind == "message" else "edit"
    return {"type": kind, "chat": chat, "message": _drawn(graph, found[1], found[0])}


def in_conversation(graph: EmulatedGraphAPI, number: str, message_id: str) -> bool:
    return any(raw["id"] == message_id for raw in graph.history(number))


def _drawn(graph: EmulatedGraphAPI, raw: JSON, seq: int) -> JSON:
    """One message as the page reads it; `seq` is its place in the conversation."""
    if "from" in raw:
        return _persons(graph, raw, seq)
    sent = graph.message(str(raw["id"]))
    assert sent is not None
    return _bots(graph, sent, seq)


def _persons(graph: EmulatedGraphAPI, raw: JSON, seq: int) -> JSON:
    kind = str(raw.get("type"))
    found = raw.get(kind)
    content: JSON = found if isinstance(found, dict) else {}
    text: str | None = None
    if kind == "text":
        text = content.get("body")
    elif kind == "interactive":  # a reply button or a list's row the person tapped
        text = (content.get("button_reply") or content.get("list_reply") or {}).get("title")
    elif kind == "button":  # a template's quick reply
        text = content.get("text")
    elif kind == "location":
        text = content.get("name") or content.get("address")
    else:
        text = content.get("caption")
    media = _media(graph, str(content["id"]), kind, content) if kind in _MEDIA else None
    return _message(raw["id"], seq, "person", int(raw["timestamp"]), kind, text, media=media) | {
        "reply_to": (raw.get("context") or {}).get("id"),
        "status": "read" if raw["id"] in graph.read_by_bot else "delivered",
    }


def _bots(graph: EmulatedGraphAPI, sent: OutgoingMessage, seq: int) -> JSON:
    drawn = _message(sent.id, seq, "bot", sent.timestamp, sent.type, sent.text)
    drawn |= {
        "reply_to": sent.reply_to,
        "status": sent.status,
        "error": sent.error,
        "header": sent.header,
        "footer": sent.footer,
    }
    if sent.type == "template":
        drawn["template"] = sent.payload["template"]["name"]
        drawn["buttons"] = _buttons(sent)
    elif sent.interactive == "button":
        drawn["buttons"] = _buttons(sent)
    elif sent.interactive == "list":
        drawn["list"] = _list(sent)
    if sent.media_id is not None:
        drawn["media"] = _media(graph, sent.media_id, sent.type, {"filename": sent.filename})
    return drawn


def _message(
    message_id: str,
    seq: int,
    author: str,
    date: int,
    kind: str,
    text: str | None,
    *,
    media: JSON | None = None,
) -> JSON:
    return {
        "message_id": message_id,
        "seq": seq,
        "from": author,
        "date": date,
        "type": kind,
        "text": text,
        "media": media,
    }


def _buttons(sent: OutgoingMessage) -> list[JSON]:
    return [{"id": button_id, "title": title} for button_id, title in sent.buttons]


def _list(sent: OutgoingMessage) -> JSON:
    """A list message: the button that opens it, and its sections of rows."""
    action = sent.payload["interactive"]["action"]
    sections = [
        {
            "title": section.get("title"),
            "rows": [
                {"id": row["id"], "title": row["title"], "description": row.get("description")}
                for row in section["rows"]
            ],
        }
        for section in action["sections"]
    ]
    return {"button": sent.list_button, "sections": sections}


def _media(graph: EmulatedGraphAPI, media_id: str, kind: str, content: JSON) -> JSON:
    stored: MediaFile | None = graph.file(media_id)
    return {
        "id": media_id,
        "kind": "voice" if kind == "audio" else kind,
        "mime": stored.mime_type if stored else content.get("mime_type"),
        "filename": content.get("filename") or (stored.filename if stored else None),
    }


# ---- what the person does ----------------------------------------------------------------------


def press(graph: EmulatedGraphAPI, user: WaUser, message_id: object, choice: object) -> str | None:
    """Tap a reply button, pick a list's row or a template's quick reply: only one that message
    shows, on a message that reached this person. The id of the message it makes, else None."""
    message = graph.message(message_id) if isinstance(message_id, str) else None
    if message is None or message.to != user.wa_id or message.status == "failed":
        return None
    if not isinstance(choice, str) or choice not in message.button_ids:
        return None
    if message.type == "template":
        return graph.push_quick_reply(user, message, choice)
    if message.interactive == "button":
        return graph.push_button_reply(user, message, choice)
    if message.interactive == "list":
        return graph.push_list_reply(user, message, choice)
    return None


def send_file(
    graph: EmulatedGraphAPI,
    user: WaUser,
    kind: str | None,
    content: bytes,
    name: str,
    caption: str | None,
) -> str:
    """A photo, a voice note or a document the person sends."""
    if kind == "photo":
        return graph.push_image(user, content, caption)
    if kind == "voice":
        return graph.push_voice(user, content)
    return graph.push_document(user, content, name, caption)
