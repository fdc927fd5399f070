"""The number's throughput, shared by answers and bulk sending: spaced, answers first."""

from __future__ import annotations

import asyncio
import time

from handlers.whatsapp.throughput import Throughput


async def test_a_few_go_at_once_then_the_rest_at_the_pace() -> None:
    throughput = Throughput(100.0, burst=3)
    started = time.monotonic()
    for _ in range(3):
        await throughput.turn(answer=False)
    assert time.monotonic() - started < 0.01
    for _ in range(10):
        await throughput.turn(answer=False)
    assert time.monotonic() - started >= 0.095  # ten more, 10 ms apart


async def test_an_answer_waiting_goes_before_the_bulk_messages_waiting() -> None:
    throughput = Throughput(20.0, burst=1)
    await throughput.turn(answer=False)  # the next turn is 50 ms away
    order: list[str] = []

    async def take(name: str, answer: bool) -> None:
        await throughput.turn(answer=answer)
        order.append(name)

    bulk = [asyncio.create_task(take(f"bulk {n}", False)) for n in range(3)]
    await asyncio.sleep(0.01)  # the bulk messages wait first
    answers = [asyncio.create_task(take(f"answer {n}", True)) for n in range(2)]
    await asyncio.gather(*bulk, *answers)
    assert sorted(order[:2]) == ["answer 0", "answer 1"]
    assert sorted(order[2:]) == ["bulk 0", "bulk 1", "bulk 2"]
