"""The services' replies drawn for WhatsApp, and sent with pywa.

A reply with up to 3 buttons becomes reply buttons; with 4 to 10, a list message opened from
its button; with more, a list of the choices (the other buttons, such as "back", are left to
the words people type). Labels are cut to WhatsApp's lengths (a cut row keeps the whole label
as its description). A text too long for one message goes in pieces, the buttons with the
last, whose body WhatsApp keeps shorter (1,024 characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pywa_async.client import WhatsApp
from pywa_async.types.callback import Button as ReplyButton
from pywa_async.types.callback import Section, SectionList, SectionRow

from bot.i18n import N_
from bot.outgoing import Button, Reply, split_text

MAX_TEXT = 4096  # a text message
MAX_BODY = 1024  # the body of a message with buttons or a list
BUTTON_TITLE, ROW_TITLE, ROW_DESCRIPTION, LIST_BUTTON = 20, 24, 72, 20
MAX_BUTTONS, MAX_ROWS = 3, 10
CHOOSE = N_("Choose")  # the button that opens a list of choices


@dataclass(frozen=True)
class Choice:
    title: str
    data: str
    description: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One WhatsApp message to send."""

    kind: Literal["text", "buttons", "list", "document"]
    text: str = ""
    choices: tuple[Choice, ...] = ()
    filename: str = ""
    content: bytes = b""


def cut(label: str, limit: int) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def draw(reply: Reply) -> list[Outgoing]:
    """The messages one reply takes on WhatsApp, in order."""
    shown = _shown(reply)
    drawn: list[Outgoing] = []
    if not shown:
        drawn += [Outgoing("text", piece) for piece in split_text(reply.text, MAX_TEXT) if piece]
    else:
        before, body = _body(reply.text)
        drawn += [Outgoing("text", piece) for piece in before]
        if len(shown) <= MAX_BUTTONS:
            choices = tuple(Choice(cut(b.label, BUTTON_TITLE), b.data) for b in shown)
            drawn.append(Outgoing("buttons", body, choices))
        elif len(shown) <= MAX_ROWS:
            drawn.append(Outgoing("list", body, tuple(_row(b.label, b.data) for b in shown)))
        else:  # more than a list holds: numbered, for the resident to type the number
            numbered = [f"{n}. {b.label}" for n, b in enumerate(shown, start=1)]
            text = "\n".join([body, "", *numbered])
            drawn += [Outgoing("text", piece) for piece in split_text(text, MAX_TEXT) if piece]
    if reply.attachment is not None:
        attachment = reply.attachment
        drawn.append(Outgoing("document", filename=attachment.filename, content=attachment.content))
    return drawn


def offered(reply: Reply) -> list[str]:
    """The button data of a reply's choices in the order `draw` shows them, which is what a
    typed number counts in."""
    return [button.data for button in _shown(reply)]


def _shown(reply: Reply) -> list[Button]:
    """The buttons drawn, in order. Beyond a list's ten rows, the choices (one to a row, as the
    services lay them out) without the rest (Back, Cancel: left to typed words), if they fit
    in one; else every button, numbered."""
    rows = [row for row in reply.buttons if row]
    buttons = [button for row in rows for button in row]
    choices = [row[0] for row in rows if len(row) == 1]
    return choices if len(buttons) > MAX_ROWS and 0 < len(choices) <= MAX_ROWS else buttons


def _row(label: str, data: str) -> Choice:
    title = cut(label, ROW_TITLE)
    description = cut(label, ROW_DESCRIPTION) if title != " ".join(label.split()) else None
    return Choice(title, data, description)


def _body(text: str) -> tuple[list[str], str]:
    """What goes before the message with buttons, and that message's body: the last paragraph
    when the whole text is too long for a body."""
    text = text.strip() or "…"
    if len(text) <= MAX_BODY:
        return [], text
    head, _, tail = text.rpartition("\n\n")
    if head and len(tail) <= MAX_BODY:
        return [p for p in split_text(head, MAX_TEXT) if p], tail
    pieces = split_text(text, MAX_BODY)
    return [p for p in pieces[:-1] if p], pieces[-1] or "…"


async def send(client: WhatsApp, to: str, outgoing: Outgoing, choose: str) -> str:
    """Send one message; WhatsApp's id for it. `choose` labels a list's button."""
    if outgoing.kind == "buttons":
        buttons = [ReplyButton(c.title, c.data) for c in outgoing.choices]
        sent = await client.send_message(to, outgoing.text, buttons=buttons)
    elif outgoing.kind == "list":
        rows = [SectionRow(c.title, c.data, c.description) for c in outgoing.choices]
        section = Section(cut(choose, ROW_TITLE), rows)
        menu = SectionList(cut(choose, LIST_BUTTON), [section])
        sent = await client.send_message(to, outgoing.text, buttons=menu)
    elif outgoing.kind == "document":
        sent = await client.send_document(
            to, outgoing.content, filename=outgoing.filename, mime_type=_mime(outgoing.filename)
        )
    else:
        sent = await client.send_message(to, outgoing.text)
    return str(sent.id)


def _mime(filename: str) -> str:
    """WhatsApp takes documents of a few types only: calendar files and JSON go as plain
    text, which keeps their name (phones still open an .ics with the calendar)."""
    return "application/pdf" if filename.endswith(".pdf") else "text/plain"
