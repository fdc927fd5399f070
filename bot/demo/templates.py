"""The WhatsApp message templates of the demo's number, as Meta would have approved them: one per
purpose (bot.config.TEMPLATE_PURPOSES) in each language the demo speaks.

WhatsApp lets a business start a conversation, or write more than 24 hours after the person
last wrote, only with such templates. A real deployment names its approved ones in
`[whatsapp.templates]`; the demo registers these with its Graph API emulation and names them
in its settings, so that reminders, notices and a volunteer's news can still reach a WhatsApp
resident whose window has closed.

WhatsApp approves templates in most of the help desk's languages, but not in Sinhala: a
Sinhala reader whose window has closed gets the default language's template.
"""

# ruff: noqa: RUF001 - the bodies use each language's own punctuation (Chinese full-width marks,
# the Urdu full stop) and Cyrillic letters that look Latin; invisible ones are written as escapes.

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
            "zh": "提醒：{{1}}，{{2}}。您会来吗？",
            "es": "Recordatorio: {{1}}, {{2}}. ¿Va a venir?",
            "fil": "Paalala: {{1}}, {{2}}. Pupunta ka po ba?",
            "ta": "நினைவூட்டல்: {{1}}, {{2}}. நீங்கள் வருவீர்களா?",
            "ro": "Reamintire: {{1}}, {{2}}. Veniți?",
            "uk": "Нагадування: {{1}}, {{2}}. Ви прийдете?",
            "bn": "রিমাইন্ডার: {{1}}, {{2}}। আপনি কি আসবেন?",
            "sq": "Kujtesë: {{1}}, {{2}}. A do të vini?",
            "fr": "Rappel\u00a0: {{1}}, {{2}}. Est-ce que vous viendrez\u00a0?",
            "ur": "یاد دہانی: {{1}}، {{2}}۔ کیا آپ آئیں گے؟",
        },
        quick_replies={
            "it": ("Vengo", "Non posso"),
            "en": ("I'll come", "I can't"),
            "ar": ("سأحضر", "لا أستطيع"),
            "zh": ("我会来", "来不了"),
            "es": ("Voy a ir", "No puedo"),
            "fil": ("Pupunta ako", "Hindi puwede"),
            "ta": ("வருகிறேன்", "வர முடியாது"),
            "ro": ("Voi veni", "Nu pot"),
            "uk": ("Прийду", "Не можу"),
            "bn": ("আমি আসব", "আসতে পারব না"),
            "sq": ("Do të vij", "Nuk mundem"),
            "fr": ("Je viendrai", "Je ne peux pas"),
            "ur": ("ہم آئیں گے", "نہیں آ سکتے"),
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
            "zh": "服务台通知：\n\n{{1}}\n\n有问题吗？请在这里回复。",
            "es": "Aviso del punto de atención:\n\n{{1}}\n\n¿Tiene preguntas? Responda aquí.",
            "fil": "Anunsyo mula sa help desk:\n\n{{1}}\n\nMay tanong ka po ba? Sumagot po rito.",
            "ta": "உதவி மையத்தின் அறிவிப்பு:\n\n{{1}}\n\nஏதாவது கேள்வி இருந்தால், இங்கே பதில் எழுதுங்கள்.",
            "ro": "Anunț de la punctul de ajutor:\n\n{{1}}\n\nAveți întrebări? Răspundeți aici.",
            "uk": "Оголошення від пункту допомоги:\n\n{{1}}\n\nМаєте запитання? Відповідайте тут.",
            "bn": "হেল্প ডেস্কের নোটিশ:\n\n{{1}}\n\nকোনো প্রশ্ন থাকলে এখানে উত্তর দিন।",
            "sq": "Njoftim nga sporteli:\n\n{{1}}\n\nKeni pyetje? Përgjigjuni këtu.",
            "fr": "Annonce du service d'aide\u00a0:\n\n{{1}}\n\nDes questions\u00a0? Répondez ici.",
            "ur": "ہیلپ ڈیسک کی طرف سے اعلان:\n\n{{1}}\n\nکوئی سوال ہو تو یہیں جواب دیں۔",
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
            "zh": "一位志愿者给您发了关于求助 {{1}} 的消息。",
            "es": "Un voluntario le escribió sobre la solicitud {{1}}.",
            "fil": "May volunteer pong nagmensahe sa iyo tungkol sa request {{1}}.",
            "ta": "கோரிக்கை {{1}} பற்றி ஒரு தொண்டர் உங்களுக்கு எழுதியுள்ளார்.",
            "ro": "Un voluntar v-a scris despre cererea {{1}}.",
            "uk": "Волонтер написав вам щодо заявки {{1}}.",
            "bn": "একজন স্বেচ্ছাসেবক অনুরোধ {{1}} নিয়ে আপনাকে লিখেছেন।",
            "sq": "Një vullnetar ju ka shkruar për kërkesën {{1}}.",
            "fr": "Un bénévole vous a écrit au sujet de la demande {{1}}.",
            "ur": "ایک رضاکار نے درخواست {{1}} کے بارے میں آپ کو لکھا ہے۔",
        },
        quick_replies={
            "it": ("Leggi il messaggio",),
            "en": ("Read the message",),
            "ar": ("اقرأ الرسالة",),
            "zh": ("查看消息",),
            "es": ("Leer el mensaje",),
            "fil": ("Basahin ang mensahe",),
            "ta": ("செய்தியை வாசிக்க",),
            "ro": ("Citiți mesajul",),
            "uk": ("Читати повідомлення",),
            "bn": ("মেসেজটি পড়ুন",),
            "sq": ("Lexoni mesazhin",),
            "fr": ("Lire le message",),
            "ur": ("میسج پڑھیں",),
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
