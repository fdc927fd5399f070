"""What people read in Italian and Arabic where a native speakers' review found errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot import i18n
from bot.activities.text import describe_repeat, minutes
from bot.i18n import FSI, PDI, RLM, _, ngettext, pgettext

FIRST = datetime(2030, 11, 26, 16, 30)


@pytest.mark.parametrize(
    ("rule", "italian", "arabic"),
    [
        ("FREQ=MONTHLY;BYDAY=+1SU", "Ogni mese, la prima domenica", "يوم الأحد الأول من كل شهر"),
        (
            "FREQ=MONTHLY;BYDAY=+2TU",
            "Ogni mese, il secondo martedì",
            "يوم الثلاثاء الثاني من كل شهر",
        ),
        ("FREQ=MONTHLY;BYDAY=+4SA", "Ogni mese, il quarto sabato", "يوم السبت الرابع من كل شهر"),
        ("FREQ=MONTHLY;BYDAY=-1SU", "Ogni mese, l'ultima domenica", "يوم الأحد الأخير من كل شهر"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "Ogni mese, l'ultimo venerdì", "يوم الجمعة الأخير من كل شهر"),
    ],
)
def test_a_monthly_repeat_names_its_weekday_not_a_week(
    rule: str, italian: str, arabic: str
) -> None:
    with i18n.locale("it"):
        assert describe_repeat(rule, FIRST) == italian
    with i18n.locale("ar"):
        assert describe_repeat(rule, FIRST) == arabic


@pytest.mark.parametrize(
    ("count", "arabic"),
    [
        (1, "لديك طلب واحد:"),
        (2, "لديك طلبان:"),
        (3, "لديك 3 طلبات:"),
        (10, "لديك 10 طلبات:"),
        # CLDR's "many": accusative singular.
        (11, "لديك 11 طلبًا:"),
        (15, "لديك 15 طلبًا:"),
        (99, "لديك 99 طلبًا:"),
        # CLDR's "other": genitive singular.
        (100, "لديك 100 طلب:"),
        (101, "لديك 101 طلب:"),
        (102, "لديك 102 طلب:"),
        (111, "لديك 111 طلبًا:"),
    ],
)
def test_arabic_counts_follow_cldr(count: int, arabic: str) -> None:
    with i18n.locale("ar"):
        text = ngettext("You have {count} request:", "You have {count} requests:", count)
        assert text.format(count=count) == arabic


def test_italian_has_a_form_for_millions() -> None:
    with i18n.locale("it"):
        text = ngettext("You have {count} request:", "You have {count} requests:", 1_000_000)
        assert text.format(count=1_000_000) == "Hai 1000000 richieste:"


@pytest.mark.parametrize(
    ("count", "arabic"),
    [
        (1, "دقيقة واحدة"),
        (2, "دقيقتان"),
        (5, "5 دقائق"),
        (15, "15 دقيقةً"),
        (120, "120 دقيقةً"),
        (200, "200 دقيقة"),
    ],
)
def test_arabic_minutes_have_their_dual(count: int, arabic: str) -> None:
    with i18n.locale("ar"):
        assert minutes(count) == arabic


@pytest.mark.parametrize(
    ("age", "arabic"),
    [(0, "Ali (أقل من سنة)"), (1, "Ali (سنة واحدة)"), (2, "Ali (سنتان)"), (9, "Ali (9 سنوات)")],
)
def test_arabic_ages_read_right(age: int, arabic: str) -> None:
    with i18n.locale("ar"):
        line = ngettext("{name} ({age} year)", "{name} ({age} years)", age)
        assert line.format(name="Ali", age=age) == arabic


def test_keeping_an_activity_and_keeping_ones_data_are_said_differently() -> None:
    with i18n.locale("it"):
        assert _("No, keep it") == "No, non cancellare"
        assert pgettext("activity", "No, keep it") == "No, non annullarla"
    with i18n.locale("ar"):
        assert pgettext("activity", "No, keep it") == "لا، أبقِ النشاط"
    with i18n.locale("en"):
        assert pgettext("activity", "No, keep it") == "No, keep it"


def test_the_contact_time_label_suits_resident_and_volunteer() -> None:
    with i18n.locale("it"):
        assert _("Best time to get in touch") == "Momento migliore per il contatto"
    with i18n.locale("ar"):
        assert _("Best time to get in touch") == "أفضل وقت للتواصل"


def test_arabic_usage_lines_mark_what_to_type() -> None:
    with i18n.locale("ar"):
        note = _("Usage: /note NUMBER text, for a request you follow.")
        queue = _("Usage: /setqueue NAME, e.g. /setqueue housing")
    assert "‹رقم الطلب› ‹النص›" in note
    assert "‹اسم الفريق›" in queue and "بحروف لاتينية" in queue


def test_arabic_error_asks_for_the_last_message_again() -> None:
    with i18n.locale("ar"):
        text = _(
            "Sorry, something went wrong on our side and your last message was not handled "
            "(reference {reference}). Your earlier answers are safe: please send it again."
        )
    assert text.endswith("من فضلك أرسل رسالتك الأخيرة مرة أخرى.")


def test_the_back_button_points_back_in_arabic() -> None:
    # « is mirrored in right-to-left text, so it points back; ← would point forward.
    with i18n.locale("ar"):
        assert _("« All activities") == "« كل الأنشطة"


def test_lists_are_joined_as_each_language_joins_them() -> None:
    items = ["A", "B", "C"]
    expected = {"en": "A, B, and C", "it": "A, B e C", "ar": "A وB وC"}
    for language, joined in expected.items():
        with i18n.locale(language):
            assert i18n.format_list(items) == joined


def test_a_numbered_item_keeps_its_number_first_in_arabic() -> None:
    with i18n.locale("ar"):
        assert i18n.numbered(2, "Teatro") == f"{RLM}2. {FSI}Teatro{PDI}"
    with i18n.locale("it"):
        assert i18n.numbered(2, "Teatro") == "2. Teatro"
