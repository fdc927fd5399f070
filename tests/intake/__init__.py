"""Tests of the intake: the engine alone, and whole intakes through the chat."""
