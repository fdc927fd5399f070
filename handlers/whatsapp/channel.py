"""WhatsApp as a Channel: the outbox's and the cases' messages to residents on WhatsApp."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from pywa.errors import WhatsAppError
from pywa_async.client import WhatsApp
from pywa_async.types.templates import BodyText, QuickReplyButton, TemplateLanguage

from bot import i18n
from bot.channel import Copy, Delivery, Media, MediaKind, Outcome
from bot.config import WhatsAppSettings
from bot.outgoing import Reply, Template
from handlers.whatsapp import render
from handlers.whatsapp.codes import (
    NUMBER_RATE,
    PAIR_RATE,
    UNAVAILABLE,
    UNDELIVERABLE,
    WINDOW_CLOSED,
)
from handlers.whatsapp.render import CHOOSE
from handlers.whatsapp.throughput import Throughput

log = logging.getLogger(__name__)


# Bulk sending keeps a little under the number's limit: paced exactly at it, 81 messages are
# 1.000 s apart and a millisecond of jitter makes 81 in one second (bench/whatsapp.py saw a
# 130429 about every 100 messages at 80/s, each holding all sending for a second).
MARGIN = 0.96

# WhatsApp's customer service window is 24 hours from the person's last message; the help desk
# stops writing freely a little before, so that a message on its way does not arrive after it.
WINDOW = timedelta(hours=24) - timedelta(minutes=5)
# One person gets about one message every 6 seconds, in short bursts (the pair rate limit,
# whose burst Meta does not publish): the outbox keeps under it.
PER_PERSON = (5, 6.0)
# A template's filled body is at most 1,024 characters; the templates' own words take some.
VALUE_LIMIT = 700
# Meta's template language codes, where they are not the help desk's language codes.
_TEMPLATE_LANGUAGES = {"zh": "zh_CN"}


def template_language(language: str) -> TemplateLanguage | None:
    """Meta's code for templates in a language; None where WhatsApp takes none (Sinhala)."""
    code = _TEMPLATE_LANGUAGES.get(language, language)
    return next((member for member in TemplateLanguage if member.value == code), None)


class WhatsAppChannel:
    """Delivers to residents on WhatsApp, a little under the number's pace for bulk sending;
    outside a resident's window, with the templates the deployment had approved."""

    window: timedelta | None = WINDOW
    per_person: tuple[int, float] | None = PER_PERSON

    def __init__(
        self,
        client: WhatsApp,
        settings: WhatsAppSettings,
        default_language: str,
        throughput: Throughput | None = None,
    ) -> None:
        self.client = client
        self.per_second = settings.per_second * MARGIN
        self.settings = settings
        self.default_language = default_language
        # Shared with the answers to residents (see throughput.py).
        self.throughput = throughput or Throughput(self.per_second)

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        async def sending() -> str:
            sent = ""
            for outgoing in render.draw(reply):
                await self.throughput.turn(answer=False)
                sent = await render.send(self.client, user_id, outgoing, i18n._(CHOOSE))
            return sent

        return await self._attempt(sending)

    async def deliver_template(self, user_id: str, template: Template) -> Delivery:
        named = self.settings.template(template.purpose, template.language, self.default_language)
        if named is None:
            return Delivery(Outcome.WINDOW_CLOSED)
        name, language = named
        code = template_language(language)
        if code is None:
            log.warning("WhatsApp has no template language %r", language)
            return Delivery(Outcome.FAILED)
        params: list[BodyText._Params | QuickReplyButton._Params] = []
        if template.values:
            values = [one_line(value) for value in template.values]
            # pywa declares BodyText.params without @staticmethod, though it is called as one.
            params.append(BodyText.params(*values))  # type: ignore[arg-type]
        params += [
            QuickReplyButton.params(callback_data=data, index=index)
            for index, data in enumerate(template.replies)
        ]

        async def sending() -> str:
            await self.throughput.turn(answer=False)
            sent = await self.client.send_template(user_id, name, code, params)
            return sent.id

        return await self._attempt(sending)

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        """A message from the other platform: its words, or its file (downloaded from there,
        uploaded here: a voice note goes as one) under the header."""
        try:
            media = await copy.file()
        except Exception as error:  # the other platform's network or refusal
            log.warning("a file to pass on could not be fetched: %s", type(error).__name__)
            return Delivery(Outcome.UNAVAILABLE)
        if media is None and copy.has_file:
            log.info("a file too large to fetch was not passed on")
            return Delivery(Outcome.FAILED)
        if media is None:
            return await self.deliver(user_id, Reply(f"{header}\n\n{copy.text or '…'}"))

        async def both() -> str:
            await self.throughput.turn(answer=False)
            await self.client.send_message(user_id, header)
            await self.throughput.turn(answer=False)
            return await send_media(self.client, user_id, media, copy.text)

        return await self._attempt(both)

    async def _attempt(self, sending: Callable[[], Awaitable[str]]) -> Delivery:
        try:
            return Delivery(Outcome.DELIVERED, reference=await sending() or None)
        except WhatsAppError as error:
            if error.code == WINDOW_CLOSED:
                return Delivery(Outcome.WINDOW_CLOSED)
            if error.code == NUMBER_RATE:
                return Delivery(Outcome.RATE_LIMITED, retry_after=1.0)
            if error.code == PAIR_RATE:
                # One person's limit: their message waits for the outbox's next look, and
                # nobody else's waits with it.
                return Delivery(Outcome.UNAVAILABLE)
            if error.code == UNDELIVERABLE:
                return Delivery(Outcome.BLOCKED)
            if error.code in UNAVAILABLE:
                return Delivery(Outcome.UNAVAILABLE)
            log.warning("WhatsApp refused a message (code %s)", error.code)
            return Delivery(Outcome.FAILED)
        except httpx.HTTPError as error:
            log.warning("WhatsApp could not be reached: %s", type(error).__name__)
            return Delivery(Outcome.UNAVAILABLE)


async def send_media(client: WhatsApp, to: str, media: Media, caption: str | None) -> str:
    """Upload a file and send it as its kind; WhatsApp's id for the message."""
    content, mime = media.content, media.mime_type
    if media.kind is MediaKind.PHOTO:
        sent = await client.send_image(to, content, caption=caption, mime_type=mime)
    elif media.kind is MediaKind.VIDEO:
        sent = await client.send_video(to, content, caption=caption, mime_type=mime)
    elif media.kind is MediaKind.VOICE:  # OGG/Opus, as Telegram records them
        sent = await client.send_voice(to, content, mime_type="audio/ogg")
    elif media.kind is MediaKind.AUDIO:
        sent = await client.send_audio(to, content, mime_type=mime)
    else:
        name = media.filename or "file"
        sent = await client.send_document(
            to, content, filename=name, caption=caption, mime_type=mime
        )
    return str(sent.id)


def one_line(value: str) -> str:
    """A template's value as Meta takes it: no line breaks or tabs, no run of spaces, not empty,
    and short enough for the filled body."""
    flat = re.sub(r"\s+", " ", value).strip() or "…"
    return flat if len(flat) <= VALUE_LIMIT else flat[: VALUE_LIMIT - 1].rstrip() + "…"
