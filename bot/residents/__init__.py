"""Residents: one event in one transaction, the dialogue, consent and rights over their data."""
