"""What a hostile or clumsy person could send the bot: any text (long, with direction controls
and NULs), commands with odd arguments, button data forged from the bot's own kinds (ids far
out of range, dates that never were) or made of anything, every kind of media, from
residents, volunteers, organisers, strangers, bots and anonymous group admins, in private
chats and in groups, as new or edited messages.

A batch's structure is drawn evenly from one seeded `random.Random` (Hypothesis would favour
the first of every choice and repeat elements); Hypothesis draws the seed and the texts, so a
failing batch is reported with what reproduces it. `push` puts a `Poke` into the Bot API
emulation, giving media real file ids (Telegram only ever sends ids of files it has).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from bot import buttons
from bot.buttons import ButtonData
from handlers.emulation.telegram import EmulatedBotAPI

HOUSING_GROUP = -1001000000001
FOOD_GROUP = -1001000000002
OTHER_GROUP = -1001000000999
GROUPS = (HOUSING_GROUP, FOOD_GROUP, OTHER_GROUP)
ORGANISER = 9001
RESIDENTS = (7001, 7002, 7003)
VOLUNTEERS = (6801, 6802)
ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot
BOT = 5550001
COMMANDS = (
    "start", "help", "status", "language", "cancel", "mydata", "delete", "stop", "activities",
    "newactivity", "broadcast", "broadcasts", "stats", "export", "note", "reply", "waiting",
    "release", "close", "mycases", "setqueue", "unknown",
)  # fmt: skip
ARGUMENTS = ("", " SP-00001", " SP-99999999999999999999", " 99999999999999999999999999",
             " -1", " @", " ../../etc", " \u202e", " \x00")  # fmt: skip
MEDIA = ("sticker", "photo", "voice", "location", "contact", "document", "video_note", "dice")
# Presses are where forged data gets in: a third of everything.
KINDS = ("press",) * 5 + ("text",) * 3 + ("command",) * 3 + MEDIA
# Characters that break naive text handling: direction overrides and isolates, zero-width and
# NUL, a right-to-left script, and a character outside the Basic Multilingual Plane.
TRICKY = "\u202e\u202d\u2066\u2067\u2068\u2069\u200f\u200e\u200b\ufeff\x00\n\t ۱٢مر😀\U0001d54f"
HUGE = (2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, -1)
DATES = ("20261124T1530", "20300230T2561", "99991231T2359", "00000000T0000")


@dataclass(frozen=True)
class Poke:
    """One update: who sends it, where, and what."""

    sender: int
    chat: int  # the sender's own id for a private chat, else a group's
    kind: str  # "text", "command", "press", one of MEDIA
    payload: str = ""  # the text, the command line, or the button's data
    edited: bool = False

    @property
    def private(self) -> bool:
        return self.chat > 0

    @property
    def from_a_person(self) -> bool:
        return self.sender not in (BOT, ANONYMOUS_ADMIN)


# -- Hypothesis: the seed and the texts ----------------------------------------------------------


def texts(max_size: int = 10_000) -> st.SearchStrategy[str]:
    plain = st.text(min_size=1, max_size=max_size)
    tricky = st.text(alphabet=TRICKY + string.ascii_letters + string.digits, min_size=1)
    numbers = st.integers(min_value=-(10**40), max_value=10**40).map(str)
    return st.one_of(plain, tricky, numbers)


def batches(size: int) -> st.SearchStrategy[list[Poke]]:
    """`size` updates of every kind, from anyone, anywhere."""
    return st.tuples(
        st.randoms(use_true_random=True), st.lists(texts(), min_size=size, max_size=size)
    ).map(lambda drawn: [poke(drawn[0], text) for text in drawn[1]])


def refused_batches(size: int) -> st.SearchStrategy[list[Poke]]:
    """`size` updates the bot must turn away."""
    return st.tuples(
        st.randoms(use_true_random=True), st.lists(texts(500), min_size=size, max_size=size)
    ).map(lambda drawn: [refused_poke(drawn[0], text) for text in drawn[1]])


# -- the pokes, drawn evenly --------------------------------------------------------------------


def poke(rng: random.Random, text: str) -> Poke:
    who, where = somebody_somewhere(rng)
    kind = rng.choice(KINDS)
    if kind == "press" and who not in (BOT, ANONYMOUS_ADMIN):
        return Poke(who, where, kind, button_data(rng, text))
    if kind == "press":
        kind = "text"  # a bot cannot press a button
    payload = command(rng) if kind == "command" else text
    return Poke(who, where, kind, payload, edited=rng.random() < 0.1)


def refused_poke(rng: random.Random, text: str) -> Poke:
    """A press whose data no button carries, a bot's message, an edited message, or a
    stranger's message in a group."""
    stranger = rng.randint(10**7, 2**40)
    where = rng.choice((stranger, *GROUPS))
    choice = rng.randrange(4)
    if choice == 0:
        data = text[:40] if rng.random() < 0.5 else forged(rng)
        if buttons.parse(data) is not None:
            data = "\x00" + data
        return Poke(stranger, where, "press", data)
    if choice == 1:
        return Poke(BOT, rng.choice(GROUPS), "text", text)
    if choice == 2:
        return Poke(stranger, where, rng.choice(("text", "command", *MEDIA)), text, edited=True)
    return Poke(stranger, rng.choice(GROUPS), "text", text)


def somebody_somewhere(rng: random.Random) -> tuple[int, int]:
    """Someone the help desk knows where they would write (residents and the organiser in
    their chat, volunteers in their queue's group or chat), a stranger anywhere, or a bot or
    an anonymous admin in a group."""
    group = rng.choice(GROUPS)
    volunteer = rng.choice(VOLUNTEERS)
    stranger = rng.randint(10**7, 2**40)
    resident = rng.choice(RESIDENTS)
    return rng.choice(
        (
            (resident, resident),
            (stranger, rng.choice((stranger, group))),
            (volunteer, rng.choice((HOUSING_GROUP, volunteer))),
            (ORGANISER, ORGANISER),
            (BOT, group),
            (ANONYMOUS_ADMIN, group),
        )
    )


def command(rng: random.Random) -> str:
    suffix = rng.choice(("", "", "@helpdesk_bot", "@someone_else"))
    return f"/{rng.choice(COMMANDS)}{suffix}{rng.choice(ARGUMENTS)}"


def button_data(rng: random.Random, text: str) -> str:
    """What a client can put in a press (up to 64 bytes): a button of the bot's own kinds with
    each field of its type but any value, one with odd fields, or anything at all."""
    choice = rng.randrange(4)
    data = shaped(rng) if choice < 2 else forged(rng) if choice == 2 else text
    encoded = data.encode("utf-8", "surrogatepass")[:64]
    return encoded.decode("utf-8", "ignore") or "x"


def shaped(rng: random.Random) -> str:
    kind = rng.choice(list(ButtonData._kinds.values()))
    values = []
    for field in buttons._field_kinds(kind):
        if field.choices:
            values.append(rng.choice(field.choices))
        elif field.base is int:
            values.append(str(rng.choice((*HUGE, rng.randint(0, 5)))))
        elif field.base is datetime:
            values.append(rng.choice(DATES))
        else:
            values.append("".join(rng.choices(string.ascii_letters, k=rng.randint(1, 8))))
    return ":".join((kind.prefix, *values))


def forged(rng: random.Random) -> str:
    """A real prefix with fields of any kind and number."""
    odd = (str(rng.choice(HUGE)), "", "x" * rng.randint(1, 30), rng.choice(DATES), "yes", "0")
    fields = [rng.choice(odd) for _ in range(rng.randint(0, 5))]
    return ":".join((rng.choice(list(ButtonData._kinds)), *fields))


# -- into the emulation ------------------------------------------------------------------------


def push(telegram: EmulatedBotAPI, poke: Poke) -> int:
    """The update Telegram would deliver for it; its id."""
    sender = _user(poke.sender)
    if poke.kind == "press":
        return telegram.push_raw_press(sender, poke.chat, poke.payload)
    return telegram.push_raw_message(
        sender,
        poke.chat,
        _content(telegram, poke),
        edited=poke.edited,
        sender_chat=poke.sender == ANONYMOUS_ADMIN,
    )


def _user(user_id: int) -> dict[str, Any]:
    if user_id == ANONYMOUS_ADMIN:
        anonymous = {"first_name": "Group", "username": "GroupAnonymousBot"}
        return {"id": user_id, "is_bot": True, **anonymous}
    if user_id == BOT:
        return {"id": user_id, "is_bot": True, "first_name": "Spam", "username": "spam_bot"}
    return {"id": user_id, "is_bot": False, "first_name": "Zia", "language_code": "en"}


def _content(telegram: EmulatedBotAPI, poke: Poke) -> dict[str, Any]:
    text = poke.payload
    if poke.kind == "text":
        return {"text": text}
    if poke.kind == "command":
        command = text.split(maxsplit=1)[0]
        length = len(command.encode("utf-16-le")) // 2
        return {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": length}]}
    file = telegram.new_file(b"\x00fuzz", "fuzz.bin")
    caption = {"caption": text[:1024]} if text else {}
    media: dict[str, dict[str, Any]] = {
        "sticker": {
            "sticker": {**file, "width": 512, "height": 512, "is_animated": False,
                        "is_video": False, "type": "regular"},
        },
        "photo": {"photo": [{**file, "width": 90, "height": 90}], **caption},
        "voice": {"voice": {**file, "duration": 1, "mime_type": "audio/ogg"}, **caption},
        "document": {"document": {**file, "file_name": "a.bin"}, **caption},
        "video_note": {"video_note": {**file, "length": 240, "duration": 1}},
        "location": {"location": {"latitude": 45.46, "longitude": 9.19}},
        "contact": {"contact": {"phone_number": "+39 333 1234567", "first_name": "Zia"}},
        "dice": {"dice": {"emoji": "🎲", "value": 3}},
    }  # fmt: skip
    return media[poke.kind]
