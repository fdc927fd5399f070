"""What the help desk counts for /metrics (Prometheus): updates, reply latency, the outbox.

Labels name kinds of things (an update's kind, a channel, a result), never a person.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Replies take tens of milliseconds; a slow network or a busy database, up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One set per running help desk, in its own registry (tests run several side by side)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "helpdesk_updates_handled",
            "Updates handled, by kind and channel",
            ["kind", "channel"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "helpdesk_update_seconds",
            "Time from an update's arrival to its handling being done (the reply sent)",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "helpdesk_outbox_queued", "Messages waiting in the outbox", registry=self.registry
        )
        self.sends = Counter(
            "helpdesk_outbox_sends",
            "Outbox messages by result: sent, skipped, blocked, rate_limited, failed, retry",
            ["channel", "result"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "helpdesk_rate_limited",
            "Too-many-requests answers (429) from a platform",
            ["channel"],
            registry=self.registry,
        )
        self.reminders = Counter(
            "helpdesk_reminders",
            "Reminders by result: sent, skipped",
            ["result"],
            registry=self.registry,
        )

        self.leader = Gauge(
            "helpdesk_leader",
            "1 in the worker that sends the outbox and checks reminders for the deployment",
            registry=self.registry,
        )

    def text(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)
