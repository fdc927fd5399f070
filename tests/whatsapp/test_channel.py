"""WhatsApp as the outbox's channel, through the real pywa client against the Graph API
emulation: the number's rate limit holds everything, one person's only their messages."""

from __future__ import annotations

from bot.channel import Outcome
from bot.outgoing import Reply
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from handlers.whatsapp import WhatsApp
from tests.whatsapp.conftest import ROSA, whatsapp_of

NOUR = WaUser("201001234567", "Nour")


async def outcomes(graph: EmulatedGraphAPI, *people: WaUser) -> list[Outcome]:
    adapter = WhatsApp(whatsapp_of(graph), "en")
    try:
        return [
            (await adapter.channel.deliver(person.user_id, Reply("Hello"))).outcome
            for person in people
        ]
    finally:
        await adapter.stop()


async def test_one_persons_rate_limit_leaves_their_message_for_later_and_nobody_elses() -> None:
    async with EmulatedGraphAPI(pair_burst=2) as graph:
        graph.add_user(ROSA)
        graph.add_user(NOUR)
        assert await outcomes(graph, ROSA, ROSA, ROSA, NOUR) == [
            Outcome.DELIVERED,
            Outcome.DELIVERED,
            Outcome.UNAVAILABLE,  # tried again at the outbox's next look, soon
            Outcome.DELIVERED,
        ]


async def test_the_numbers_rate_limit_asks_everything_to_wait() -> None:
    async with EmulatedGraphAPI(per_second=1) as graph:
        graph.add_user(ROSA)
        graph.add_user(NOUR)
        assert await outcomes(graph, ROSA, NOUR) == [Outcome.DELIVERED, Outcome.RATE_LIMITED]
