"""A broadcast's notice: its segment and its text in one or more languages, from a file or from
the chat; what each resident reads; and its queueing, one outbox row per recipient.

A file (see the README, "Broadcasts"):

    segment = { language = "ar" }   # or district, activity (its title), kind; {} for everyone
    [text]
    it = "Sabato festa in cortile, alle 16!"
    ar = "حفلة في الفناء يوم السبت الساعة 4 عصرًا!"

A resident reads the text in their language; one whose language has none reads the original
(the default language's, else the first given), after a line saying which language it is in.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.broadcasts.audience import Segment, SegmentError, residents_in
from bot.i18n import _
from bot.outbox import store as outbox
from db.models import Broadcast, OutboxKind, Resident

MAX_TEXT = 3_000  # leaves room for the note on its language, within a message's 4,096


class NoticeError(ValueError):
    """A notice that cannot be sent as it is; the message says why, in one line."""


@dataclass(frozen=True)
class Notice:
    segment: Segment
    texts: dict[str, str]  # language -> text, in the order given
    original: str = field(default="")  # the language whose text the others fall back on

    @classmethod
    def of(cls, raw: Mapping[str, object], languages: Iterable[str], default: str) -> Notice:
        unknown = set(raw) - {"segment", "text"}
        if unknown:
            raise NoticeError(f"unknown key {sorted(unknown)[0]!r} (segment and [text] only)")
        try:
            segment = Segment.of(raw.get("segment", {}))
        except SegmentError as error:
            raise NoticeError(str(error)) from None
        texts = raw.get("text")
        if not isinstance(texts, Mapping) or not texts:
            raise NoticeError("[text] is missing: give the notice in at least one language")
        enabled = list(languages)
        for language, text in texts.items():
            if language not in enabled:
                raise NoticeError(
                    f"[text] {language}: not one of the enabled languages ({', '.join(enabled)})"
                )
            if not isinstance(text, str) or not text.strip():
                raise NoticeError(f"[text] {language}: the text is empty")
            if len(text) > MAX_TEXT:
                raise NoticeError(f"[text] {language}: longer than {MAX_TEXT} characters")
        given = {language: str(text).strip() for language, text in texts.items()}
        original = default if default in given else next(iter(given))
        return cls(segment, given, original)

    def text_for(self, language: str) -> str:
        """What a reader of `language` gets (their version, else the original, said as such)."""
        if language in self.texts:
            return self.texts[language]
        with i18n.locale(language):
            line = _("This notice is in {language}:").format(
                language=i18n.isolate(i18n.language_name_in(self.original, language))
            )
        return f"{line}\n\n{self.texts[self.original]}"


def read_file(path: Path, languages: Iterable[str], default: str) -> Notice:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise NoticeError(f"cannot read {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise NoticeError(f"{path} is not a TOML file: {error}") from None
    return Notice.of(raw, languages, default)


@dataclass(frozen=True)
class Preview:
    """Whom a notice reaches: how many read each text, and on which channel."""

    by_language: dict[str, int]  # the reader's language (their version or the original)
    by_channel: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_language.values())


async def preview(session: AsyncSession, segment: Segment, default: str) -> Preview:
    """Whom a segment reaches, by the language they read and by channel, the most first."""
    readers = await residents_in(session, segment)
    languages = Counter(resident.language or default for resident in readers)
    channels = Counter(resident.channel for resident in readers)
    return Preview(dict(languages.most_common()), dict(channels.most_common()))


async def queue(
    session: AsyncSession,
    notice: Notice,
    default: str,
    moment: datetime,
    created_by: int | None = None,
    language: str | None = None,
) -> Broadcast:
    """The broadcast and one outbox row per recipient, in the caller's transaction.
    `created_by`, `language`: the organiser who sent it from the chat, and their language."""
    broadcast = Broadcast(
        created_at=moment,
        created_by=created_by,
        language=language,
        segment=notice.segment.as_dict(),
        texts=notice.texts,
    )
    session.add(broadcast)
    await session.flush()
    readers: list[Resident] = await residents_in(session, notice.segment)
    messages = [
        outbox.Message(
            f"broadcast:{broadcast.id}:{resident.id}",
            resident.id or 0,
            OutboxKind.BROADCAST,
            {"text": notice.text_for(resident.language or default)},
            broadcast_id=broadcast.id,
        )
        for resident in readers
    ]
    broadcast.recipients = await outbox.queue(session, messages, moment)
    return broadcast
