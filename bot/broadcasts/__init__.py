"""Notices organisers send to many residents at once: whom they reach, what each reads, and
their queueing in the outbox, which sends them at each channel's pace."""
