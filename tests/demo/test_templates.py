"""The demo's WhatsApp templates: one for each purpose the help desk may need one for, written in
every language the demo speaks, each body with the values its purpose fills in."""

from __future__ import annotations

import re

from bot.config import DEFAULT_LANGUAGES, TEMPLATE_PURPOSES
from bot.demo import templates
from bot.i18n import KNOWN_LANGUAGES
from handlers.whatsapp.channel import template_language

# WhatsApp takes templates in every language of the help desk but Sinhala.
WITHOUT_TEMPLATES = {"si"}


def test_every_purpose_has_a_template_in_every_language_of_the_demo() -> None:
    configured = templates.configured(DEFAULT_LANGUAGES)
    assert set(configured) == set(TEMPLATE_PURPOSES)
    for names in configured.values():
        assert set(names) == set(DEFAULT_LANGUAGES) - WITHOUT_TEMPLATES
        assert all(re.fullmatch(r"[a-z0-9_]{1,512}", name) for name in names.values())


def test_each_body_has_its_values_and_each_language_the_same_quick_replies() -> None:
    for template in templates.TEMPLATES:
        wanted = [f"{{{{{n}}}}}" for n in range(1, template.parameters + 1)]
        for language, body in template.bodies.items():
            assert re.findall(r"\{\{\d+\}\}", body) == wanted, (template.name, language)
            # Meta approves no body that starts or ends with a value.
            assert not body.startswith("{{") and not body.endswith("}}")
        counts = {len(replies) for replies in template.quick_replies.values()}
        assert len(counts) <= 1, template.name


def test_a_language_the_templates_are_not_written_in_is_left_to_the_default() -> None:
    assert templates.configured(("it", "si"))["reminder"] == {"it": "demo_reminder"}


def test_whatsapp_takes_templates_in_every_language_but_sinhala() -> None:
    missing = {code for code in KNOWN_LANGUAGES if template_language(code) is None}
    assert missing == WITHOUT_TEMPLATES
