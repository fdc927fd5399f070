"""Tests of the activities: files, organisers' chat, residents' sign-ups."""
