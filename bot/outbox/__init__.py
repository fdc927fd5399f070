"""The durable outbox: messages that are not answers, and what queues them (reminders, notices)."""
