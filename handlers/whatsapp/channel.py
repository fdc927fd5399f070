"""WhatsApp as a Channel: the outbox's and the cases' messages to residents on WhatsApp."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
from pywa.errors import WhatsAppError
from pywa_async.client import WhatsApp

from bot import i18n
from bot.channel import Copy, Delivery, Outcome
from bot.outgoing import Reply
from handlers.whatsapp import render
from handlers.whatsapp.codes import RATE_LIMITED, UNAVAILABLE, UNDELIVERABLE, WINDOW_CLOSED
from handlers.whatsapp.render import CHOOSE

log = logging.getLogger(__name__)


# Bulk sending keeps a little under the number's limit: paced exactly at it, 81 messages are
# 1.000 s apart and a millisecond of jitter makes 81 in one second (bench/whatsapp.py saw a
# 130429 about every 100 messages at 80/s, each holding all sending for a second).
MARGIN = 0.96


class WhatsAppChannel:
    """Delivers to residents on WhatsApp, a little under the number's pace for bulk sending."""

    def __init__(self, client: WhatsApp, per_second: float) -> None:
        self.client = client
        self.per_second = per_second * MARGIN

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        async def sending() -> str:
            sent = ""
            for outgoing in render.draw(reply):
                sent = await render.send(self.client, user_id, outgoing, i18n._(CHOOSE))
            return sent

        return await self._attempt(sending)

    async def pass_on(self, user_id: str, header: str, copy: Copy) -> Delivery:
        """A message from the other platform, by its words: photos, documents and voice notes
        (which WhatsApp would need downloaded from Telegram and uploaded) are not passed yet."""
        if copy.text is None:
            log.warning("a volunteer's photo, document or voice note cannot reach WhatsApp yet")
            return Delivery(Outcome.FAILED)
        return await self.deliver(user_id, Reply(f"{header}\n\n{copy.text}"))

    async def _attempt(self, sending: Callable[[], Awaitable[str]]) -> Delivery:
        try:
            return Delivery(Outcome.DELIVERED, reference=await sending() or None)
        except WhatsAppError as error:
            if error.code == WINDOW_CLOSED:
                return Delivery(Outcome.WINDOW_CLOSED)
            if error.code in RATE_LIMITED:
                return Delivery(Outcome.RATE_LIMITED, retry_after=1.0)
            if error.code == UNDELIVERABLE:
                return Delivery(Outcome.BLOCKED)
            if error.code in UNAVAILABLE:
                return Delivery(Outcome.UNAVAILABLE)
            log.warning("WhatsApp refused a message (code %s)", error.code)
            return Delivery(Outcome.FAILED)
        except httpx.HTTPError as error:
            log.warning("WhatsApp could not be reached: %s", type(error).__name__)
            return Delivery(Outcome.UNAVAILABLE)
