"""The Cloud API's error codes the adapter acts on."""

from __future__ import annotations

WINDOW_CLOSED = 131047  # more than 24 hours since the resident wrote: templates only
NUMBER_RATE = 130429  # the number's pace: everything waits
PAIR_RATE = 131056  # too many messages to one person in a short time: only theirs wait
RATE_LIMITED = frozenset({NUMBER_RATE, PAIR_RATE})
UNDELIVERABLE = 131026  # the number is not on WhatsApp, or cannot receive messages
UNAVAILABLE = frozenset({131000, 131016, 133004})  # Meta's own trouble: later may work
TRY_AGAIN = RATE_LIMITED | UNAVAILABLE
