"""Tests of the outbox and its reminders."""
