"""The Cloud API's error codes the adapter acts on."""

from __future__ import annotations

WINDOW_CLOSED = 131047  # more than 24 hours since the resident wrote: templates only
RATE_LIMITED = frozenset({130429, 131056})  # the number's pace, or one person's
UNDELIVERABLE = 131026  # the number is not on WhatsApp, or cannot receive messages
UNAVAILABLE = frozenset({131000, 131016, 133004})  # Meta's own trouble: later may work
TRY_AGAIN = RATE_LIMITED | UNAVAILABLE
