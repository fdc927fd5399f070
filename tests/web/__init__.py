"""Tests of the web side: helpdesk serve."""
