"""Tests of residents: languages, consent and data rights."""
