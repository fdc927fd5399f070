"""What a phone number suggests about the language its owner reads: a hint for the language
picker, never a decision (the resident chooses)."""

from __future__ import annotations

# International calling codes of Milan's largest communities, and the language most of their
# people there read. Longer codes first: +380 is Ukraine, +38 would be nothing.
_BY_CALLING_CODE = {
    "880": "bn",  # Bangladesh
    "593": "es",  # Ecuador
    "380": "uk",  # Ukraine
    "355": "sq",  # Albania
    "221": "fr",  # Senegal
    "216": "ar",  # Tunisia
    "213": "ar",  # Algeria
    "212": "ar",  # Morocco
    "92": "ur",  # Pakistan
    "94": "si",  # Sri Lanka (Tamil speakers choose Tamil in the picker)
    "86": "zh",  # China
    "63": "fil",  # the Philippines
    "51": "es",  # Peru
    "44": "en",  # the United Kingdom
    "40": "ro",  # Romania
    "39": "it",  # Italy
    "33": "fr",  # France
    "20": "ar",  # Egypt
}


def language_of_number(number: str) -> str | None:
    """The language hinted by a number in international form ("393331234567", "+20 100…")."""
    digits = "".join(c for c in number if c.isascii() and c.isdigit())
    for length in (3, 2):
        if (language := _BY_CALLING_CODE.get(digits[:length])) is not None:
            return language
    return None
