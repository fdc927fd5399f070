"""Tests of the Telegram transport and of the fake Bot API itself."""
