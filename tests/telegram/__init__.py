"""Tests of the Telegram transport and of the Bot API emulation."""
