"""The WhatsApp message templates of the demo's number, as Meta would have approved them: one per
purpose (bot.config.TEMPLATE_PURPOSES) in each language the demo speaks.

WhatsApp lets a business start a conversation, or write more than 24 hours after the person
last wrote, only with such templates. A real deployment names its approved ones in
`[whatsapp.templates]`; the demo registers these with its Graph API emulation and names them
in its settings, so that reminders, notices and a volunteer's news can still reach a WhatsApp
resident whose window has closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoTemplate:
    """One template: its purpose and name, and in each language its body (with {{1}}… for the
    values each message fills in) and the titles of its quick-reply buttons, in order."""

    purpose: str
    name: str
    parameters: int
    bodies: Mapping[str, str]
    quick_replies: Mapping[str, tuple[str, ...]]

    def languages(self, enabled: Iterable[str]) -> list[str]:
        """The enabled languages this template was written in."""
        return [language for language in enabled if language in self.bodies]


TEMPLATES = (
    DemoTemplate(
        purpose="reminder",
        name="demo_reminder",
        parameters=2,  # what, when
        bodies={
            "it": "Promemoria: {{1}}, {{2}}. Vieni?",
            "en": "Reminder: {{1}}, {{2}}. Are you coming?",
            "ar": "تذكير: {{1}}، {{2}}. هل ستحضر؟",
        },
        quick_replies={
            "it": ("Vengo", "Non posso"),
            "en": ("I'll come", "I can't"),
            "ar": ("سأحضر", "لا أستطيع"),
        },
    ),
    DemoTemplate(
        purpose="broadcast",
        name="demo_broadcast",
        parameters=1,  # the notice
        bodies={
            # Meta approves no body that ends with a value.
            "it": "Avviso dello Sportello:\n\n{{1}}\n\nPer domande, rispondi qui.",
            "en": "Notice from the help desk:\n\n{{1}}\n\nAny questions? Reply here.",
            "ar": "إشعار من مكتب المساعدة:\n\n{{1}}\n\nلأي سؤال، اكتب لنا هنا.",
        },
        quick_replies={},
    ),
    DemoTemplate(
        purpose="volunteer_wrote",
        name="demo_volunteer_wrote",
        parameters=1,  # the request's number
        bodies={
            "it": "Un volontario ti ha scritto sulla richiesta {{1}}.",
            "en": "A volunteer wrote to you about request {{1}}.",
            "ar": "كتب لك متطوع بخصوص الطلب {{1}}.",
        },
        quick_replies={
            "it": ("Leggi il messaggio",),
            "en": ("Read the message",),
            "ar": ("اقرأ الرسالة",),
        },
    ),
)


def configured(enabled: Iterable[str]) -> dict[str, dict[str, str]]:
    """The templates as `[whatsapp.templates]` names them: purpose -> language -> name."""
    languages = list(enabled)
    return {
        template.purpose: {language: template.name for language in template.languages(languages)}
        for template in TEMPLATES
    }
