"""Tests of the catalogs and of what people read in each language."""
