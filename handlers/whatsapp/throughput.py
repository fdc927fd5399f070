"""The number's messages a second, shared by the answers to residents and by bulk sending.

WhatsApp refuses a number's messages beyond its throughput (130429) whoever they are for. The
outbox paces bulk sending on its own, but the answers to residents who are chatting come on top
of it: without one budget for both, a busy hour makes both go over, and the answers, retried,
arrive seconds late. Here every message takes its turn; an answer takes the next one, and a
bulk message waits while any answer is waiting.
"""

from __future__ import annotations

import asyncio
import time

# Messages that may go at once after a quiet moment: in any one second, at most this many more
# than the pace (96 % of 80, plus 3: 79.8), so that a few answers at once need not queue.
BURST = 3


class Throughput:
    """A token bucket of `per_second` messages (and a burst of a few), answers before bulk
    messages."""

    def __init__(self, per_second: float, burst: int = BURST) -> None:
        self.per_second = per_second
        self.burst = burst
        self._tokens = float(burst)
        self._updated_at = time.monotonic()
        self._answers_waiting = 0

    async def turn(self, *, answer: bool) -> None:
        """Wait for this message's turn."""
        if answer:
            self._answers_waiting += 1
        try:
            while True:
                moment = time.monotonic()
                elapsed, self._updated_at = moment - self._updated_at, moment
                self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
                if not answer and self._answers_waiting:
                    await asyncio.sleep(1.0 / self.per_second)  # the answers go first
                elif self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                else:
                    await asyncio.sleep((1.0 - self._tokens) / self.per_second)
        finally:
            if answer:
                self._answers_waiting -= 1
