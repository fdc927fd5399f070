"""Whole intakes in Italian and Arabic, as residents read them, dates and directions included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from handlers.emulation.telegram import EmulatedBotAPI
from tests.conftest import Bot
from tests.transcript import Person

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"


def today(language: str) -> str:
    return format_date(datetime.now(ZoneInfo("Europe/Rome")).date(), "medium", locale=language)


async def test_housing_intake_in_italian(telegram: EmulatedBotAPI, live_bot: Bot) -> None:
    giulia = Person(telegram, 3001, "it-IT")
    giulia.says("/start")
    await giulia.hears("Ciao! Che lingua vuoi usare?")
    assert giulia.buttons()[0] == "✓ Italiano"
    await giulia.taps("Italiano")
    await giulia.hears("Prima di iniziare, due parole sui tuoi dati.", "/mydata", "/delete")
    await giulia.taps("Sì, sono d'accordo")
    await giulia.hears("Per cosa ti serve aiuto?")
    await giulia.taps("Aiuto per la casa")
    await giulia.hears("Aiuto per la casa · domanda 1 di 8", "descrive meglio la tua situazione")
    await giulia.taps("Ho ricevuto uno sfratto")
    await giulia.hears("Quante persone siete in casa")
    giulia.says("venti")
    await giulia.hears("Per favore, scrivi un numero da 1 a 20.")
    await giulia.hears("Quante persone siete in casa")
    giulia.says("3")
    await giulia.hears("Quanti di loro hanno meno di 18 anni?")
    giulia.says("1")
    await giulia.hears("Dove abiti?")
    await giulia.taps("Municipio 6")
    await giulia.hears("graduatoria per le case popolari (ERP)")
    await giulia.taps("No")
    await giulia.hears("Entro quando ti serve aiuto?")
    await giulia.taps("Può aspettare")
    await giulia.hears("Quando è meglio che un volontario ti scriva?")
    await giulia.taps("Mattina")
    await giulia.hears("Ti va di partecipare alle sue attività?")
    giulia.says("1")
    await giulia.hears(
        "Aiuto per la casa: controlla le tue risposte.",
        "Persone in casa: 3",
        "Municipio: Municipio 6",
        "Ho ricevuto uno sfratto",
    )
    await giulia.taps("Conferma e invia")
    await giulia.hears(
        "Grazie. La tua richiesta è stata inviata.",
        "Il numero della tua richiesta è SP-00001.",
    )
    giulia.says("/status")
    await giulia.hears(
        "Hai 1 richiesta:",
        f"• SP-00001 · Aiuto per la casa · in attesa di un volontario · inviata il {today('it')}",
    )


async def test_food_intake_in_arabic(telegram: EmulatedBotAPI, live_bot: Bot) -> None:
    amina = Person(telegram, 3002, "ar")
    amina.says("/start")
    await amina.hears("مرحبًا! أي لغة تريد أن تستخدم؟")
    assert amina.buttons()[:3] == ["Italiano", "English", "✓ العربية"]
    await amina.taps("العربية")
    notice = await amina.hears("قبل أن نبدأ، كلمة قصيرة عن بياناتك.")
    # Commands stay readable inside right-to-left text.
    assert f"{LRI}/mydata{PDI}" in (notice.text or "")
    await amina.taps("نعم، أوافق")
    await amina.hears("ما نوع المساعدة التي تحتاجها؟")
    await amina.taps("مساعدة غذائية")
    await amina.hears("مساعدة غذائية · السؤال 1 من 5", "كم شخصًا يعيش في بيتك")
    amina.says("5")
    await amina.hears("كم منهم أطفال دون 18 سنة؟")
    amina.says("2")
    await amina.hears("كم عمر الأطفال؟")
    amina.says("3")
    await amina.hears("أخبرتنا عن طفلين: اكتب عمرين.")
    await amina.hears("كم عمر الأطفال؟")
    amina.sends_voice()
    await amina.hears("عذرًا، هنا لا أستطيع أن أقرأ إلا النص المكتوب والأزرار.")
    await amina.hears("كم عمر الأطفال؟")
    amina.says("3، 11")  # with the Arabic comma
    question = await amina.hears("هل لدى أهل بيتك احتياجات غذائية؟")
    await amina.taps("حلال", on=question)
    await amina.taps("تم", on=question)
    await amina.hears("أين تسكن؟")
    await amina.taps("المنطقة 2 ")
    await amina.hears("متى تحتاج إلى المساعدة؟")
    await amina.taps("خلال أيام قليلة")
    summary = await amina.hears("مساعدة غذائية: من فضلك راجع إجاباتك.", "أعمار الأطفال: 3 و11")
    assert "احتياجات غذائية: حلال" in (summary.text or "")
    await amina.taps("تغيير إجابة")
    await amina.hears("أي إجابة تريد أن تغيّر؟")
    await amina.taps("احتياجات غذائية")
    question = await amina.hears("هل لدى أهل بيتك احتياجات غذائية؟")
    assert "☑ 1. حلال" in amina.buttons(question)  # the earlier choice, ready to change
    await amina.taps("نباتي", on=question)
    await amina.taps("تم", on=question)
    await amina.hears("احتياجات غذائية: حلال ونباتي")  # the locale's own list
    await amina.taps("تأكيد وإرسال")
    await amina.hears("شكرًا. تم إرسال طلبك.", f"رقم طلبك هو {FSI}SP-00001{PDI}.")
    amina.says("/status")
    await amina.hears("لديك طلب واحد:", "مساعدة غذائية", "في انتظار متطوع", today("ar"))


async def test_housing_intake_in_arabic_and_food_in_italian_side_by_side(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    karim = Person(telegram, 3003, "ar")
    marco = Person(telegram, 3004, "it")
    for person, hello, notice, agree in (
        (
            karim,
            "مرحبًا! أي لغة تريد أن تستخدم؟",
            "قبل أن نبدأ، كلمة قصيرة عن بياناتك.",
            "نعم، أوافق",
        ),
        (
            marco,
            "Ciao! Che lingua vuoi usare?",
            "Prima di iniziare, due parole sui tuoi dati.",
            "Sì, sono d'accordo",
        ),
    ):
        person.says("/start")
        await person.hears(hello)
        await person.taps("✓")  # the language Telegram suggested
        await person.hears(notice, "/mydata", "/delete")
        await person.taps(agree)
    await karim.hears("ما نوع المساعدة التي تحتاجها؟")
    await marco.hears("Per cosa ti serve aiuto?")
    karim.says("1")
    marco.says("2")
    await karim.hears("مساعدة في السكن · السؤال 1 من 8")
    await marco.hears("Aiuto alimentare · domanda 1 di 5")
    await karim.taps("وصلني إنذار بالإخلاء")
    marco.says("1")
    await karim.hears("كم شخصًا")
    await marco.hears("Quanti di loro")
    for answer, question in [("2", "كم منهم أطفال دون 18 سنة؟"), ("0", "أين تسكن؟")]:
        karim.says(answer)
        await karim.hears(question)
    karim.says("9")  # "Municipio 9", typed as its number
    await karim.hears("(ERP)")
    marco.says("0")
    await marco.hears("esigenze alimentari")
    marco.says("5")
    await marco.hears("Dove abiti?")
    marco.says("10")
    await marco.hears("Entro quando")
    marco.says("3")
    await marco.hears("controlla le tue risposte", "Fuori Milano")
    karim.says("3")
    await karim.hears("متى")
    karim.says("1")
    await karim.hears("ما أفضل وقت ليكتب لك أحد المتطوعين؟")
    karim.says("4")
    await karim.hears("هل تحب أن تشارك في أنشطته؟")
    karim.says("2")
    await karim.hears("من فضلك راجع إجاباتك")
    marco.says("1")
    karim.says("1")
    await marco.hears("Il numero della tua richiesta è SP-0000")
    await karim.hears("رقم طلبك هو")
