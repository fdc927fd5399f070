"""Tests of cases: queues, claims, casework and nudges."""
