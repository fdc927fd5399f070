"""What the services answer: plain messages with buttons, for any channel to render."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # comes back from the channel untrusted; parsed and checked before use


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    picture: bool = False  # shown as an image in the chat (a chart), not as a file


@dataclass(frozen=True)
class Template:
    """What a message says as an approved template, for a platform that lets the help desk write
    freely only for a while after the person last wrote (WhatsApp's 24 hours).

    The deployment names the template it approved for each `purpose` and language; `values`
    fill its parameters in order, and each of `replies` is the button data one of its quick
    replies sends back.
    """

    purpose: str
    language: str
    values: tuple[str, ...]
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    # How to say it once the person's window has closed; None: it waits until they write.
    template: Template | None = None


def news(text: str, language: str) -> Reply:
    """News for a person, which the broadcast template carries once their window has closed."""
    return Reply(text, template=Template("broadcast", language, (text,)))


@dataclass(frozen=True)
class RetiredCard:
    """A card in a queue's group that loses its button and says why (a message id)."""

    case_id: int
    chat_id: int
    message_id: int
    reason: str


@dataclass
class Response:
    """Everything one inbound event produces, ready to be sent after the commit."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a short toast for a button press
    edit: Reply | None = None  # replaces the message whose button was pressed
    chosen: str | None = None  # the label of the pressed button, kept in the closed message
    close_buttons: bool = False  # the pressed message's buttons are spent
    cards_waiting: bool = False  # a case's card waits to be posted in its queue's group
    retired_card: RetiredCard | None = None  # an old card to edit: it is no longer the one
    relay_for_case: int | None = None  # the message goes on to the volunteer of this case
    undelivered: Reply | None = None  # said instead of the replies if it could not go on
    outbox_news: bool = False  # messages to other residents were queued (e.g. a promotion)
    schedule_changed: bool = False  # an activity changed: the reminders are checked again

    def say(self, *replies: Reply) -> Response:
        self.replies.extend(replies)
        return self


def split_text(text: str, limit: int) -> list[str]:
    """A long text in pieces of at most `limit` characters, cut at line breaks where it can."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if current and len(current) + len(line) + 1 > limit:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*pieces, current]
