"""Tests for the catalog tooling: each check failure is detected, clean catalogs pass."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import babel.messages.catalog
import pytest

from bot.i18n import catalogs

SOURCE = """\
from bot.i18n import N_, _, ngettext, npgettext, pgettext

TITLE = N_("Housing help")


def render(count: int, number: int, name: str) -> str:
    # TRANSLATORS: the number of a help request
    case = _("Case {number}").format(number=number)
    cases = ngettext("{count} open case", "{count} open cases", count).format(count=count)
    button = pgettext("button", "Open")
    people = npgettext("volunteer", "{count} volunteer", "{count} volunteers", count)
    return case + cases + button + people + _("Hello %(name)s") % {"name": name}
"""

CASES = ("{count} open case", "{count} open cases")
PEOPLE = ("{count} volunteer", "{count} volunteers")
TRANSLATIONS: dict[str, dict[tuple[str | None, str], str | tuple[str, ...]]] = {
    "en": {
        (None, "Housing help"): "Housing help",
        (None, "Case {number}"): "Case {number}",
        (None, CASES[0]): ("One open case", "{count} open cases"),
        ("button", "Open"): "Open",
        ("volunteer", PEOPLE[0]): ("{count} volunteer", "{count} volunteers"),
        (None, "Hello %(name)s"): "Hello %(name)s",
    },
    "it": {
        (None, "Housing help"): "Aiuto per la casa",
        (None, "Case {number}"): "Pratica {number}",
        # CLDR 48: one, many (multiples of a million), other.
        (None, CASES[0]): (
            "{count} pratica aperta",
            "{count} pratiche aperte",
            "{count} pratiche aperte",
        ),
        ("button", "Open"): "Apri",
        ("volunteer", PEOPLE[0]): ("{count} volontario", "{count} volontari", "{count} volontari"),
        (None, "Hello %(name)s"): "Ciao %(name)s",
    },
    "ar": {
        (None, "Housing help"): "مساعدة في السكن",
        (None, "Case {number}"): "الحالة {number}",
        # Forms 0, 1 and 2 cover exactly 0, 1 and 2: they may leave the count out. Form 4 is
        # CLDR's "many" (11-99, accusative), form 5 its "other" (100-102, genitive).
        (None, CASES[0]): (
            "لا توجد حالات مفتوحة",
            "حالة مفتوحة واحدة",
            "حالتان مفتوحتان",
            "{count} حالات مفتوحة",
            "{count} حالةً مفتوحةً",
            "{count} حالة مفتوحة",
        ),
        ("button", "Open"): "افتح",
        ("volunteer", PEOPLE[0]): (
            "{count} متطوع",
            "متطوع واحد",
            "متطوعان",
            "{count} متطوعين",
            "{count} متطوعًا",
            "{count} متطوع",
        ),
        (None, "Hello %(name)s"): "مرحبا %(name)s",
    },
}

AR = "locales/ar/LC_MESSAGES/messages.po"
IT = "locales/it/LC_MESSAGES/messages.po"


def write_source(root: Path, extra: str = "") -> None:
    (root / "bot").mkdir(exist_ok=True)
    (root / "bot" / "texts.py").write_text(SOURCE + extra, encoding="utf-8")


def set_translation(
    root: Path, language: str, msgid: str, string: str | tuple[str, ...], context: str | None = None
) -> None:
    """Change one entry of a catalog, the way a translator would (the .mo is not recompiled)."""
    path = catalogs.po_path(root, language)
    catalog = catalogs.load(root, path, language)
    message = catalog.get(msgid, context)
    assert message is not None
    message.string = string
    path.write_bytes(catalogs.render_po(catalog))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A source tree with complete, compiled en/it/ar catalogs."""
    write_source(tmp_path)
    catalogs.extract(tmp_path)
    for language, strings in TRANSLATIONS.items():
        catalogs.init(tmp_path, language)
        for (context, msgid), string in strings.items():
            set_translation(tmp_path, language, msgid, string, context)
    catalogs.compile_all(tmp_path)
    return tmp_path


def test_clean_catalogs_pass(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert catalogs.check(root) == []
    assert catalogs.main(["--root", str(root), "check", "--languages", "it,en,ar"]) == 0
    assert capsys.readouterr().out == "catalogs OK: 3 languages, 6 messages\n"


def test_extract_is_sorted_without_line_numbers(root: Path) -> None:
    text = catalogs.pot_path(root).read_text(encoding="utf-8")
    assert "#: bot/texts.py\n" in text
    assert "bot/texts.py:" not in text
    assert "Project-Id-Version: Sportello" in text
    assert "#. the number of a help request\n" in text
    assert text.index('msgid "Case {number}"') < text.index('msgid "Hello %(name)s"')


def test_extract_keeps_creation_date_until_messages_change(root: Path) -> None:
    pot = catalogs.pot_path(root)
    old = "POT-Creation-Date: 2020-01-01 00:00+0000"
    text = pot.read_text(encoding="utf-8")
    pot.write_text(re.sub(r"POT-Creation-Date: [^\\]*", old, text), encoding="utf-8")
    assert catalogs.extract(root) == (False, 6)
    assert old in pot.read_text(encoding="utf-8")
    write_source(root, 'EXTRA = N_("Thank you")\n')
    assert catalogs.extract(root) == (True, 7)
    assert old not in pot.read_text(encoding="utf-8")


def test_init_arabic_uses_six_plural_forms(root: Path) -> None:
    text = catalogs.po_path(root, "ar").read_text(encoding="utf-8")
    assert "nplurals=6;" in text
    assert 'msgstr[5] "{count} حالة مفتوحة"' in text
    assert catalogs.main(["--root", str(root), "init", "ar"]) == 1
    assert catalogs.main(["--root", str(root), "init", "xx"]) == 1


def test_init_chinese_gives_each_plural_entry_its_one_form(root: Path) -> None:
    """The template has two forms per plural entry; Chinese has one."""
    catalogs.init(root, "zh")
    catalog = catalogs.load(root, catalogs.po_path(root, "zh"), "zh")
    plural = [message for message in catalog if message.id and message.pluralizable]
    assert catalog.num_plurals == 1 and plural
    assert all(message.string == ("",) for message in plural)


def test_update_keeps_translations_and_adds_new_ones_untranslated(root: Path) -> None:
    write_source(root, 'EXTRA = N_("Thank you for waiting")\n')
    catalogs.extract(root)
    assert catalogs.update(root) == ["ar", "en", "it"]
    catalog = catalogs.load(root, catalogs.po_path(root, "it"), "it")
    assert catalog.get("Case {number}") is not None
    assert catalog["Case {number}"].string == "Pratica {number}"
    assert catalog["Thank you for waiting"].string == ""
    assert f'{IT}: msgid "Thank you for waiting": untranslated' in catalogs.check(root)
    assert catalogs.update(root) == []


def test_update_fuzzy_guess_fails_the_check(root: Path) -> None:
    (root / "bot" / "texts.py").write_text(
        SOURCE.replace("Housing help", "Housing help!"), encoding="utf-8"
    )
    catalogs.extract(root)
    catalogs.update(root)
    catalogs.compile_all(root)
    line = f'{IT}: msgid "Housing help!": fuzzy (review it, then remove the fuzzy flag)'
    assert line in catalogs.check(root)


def test_compile_is_deterministic_and_loadable(root: Path) -> None:
    mo = catalogs.po_path(root, "ar").with_suffix(".mo")
    first = mo.read_bytes()
    mo.unlink()
    assert catalogs.compile_all(root) == ["ar"]
    assert mo.read_bytes() == first
    assert catalogs.compile_all(root) == []
    with mo.open("rb") as fileobj:
        arabic = gettext.GNUTranslations(fileobj)
    assert arabic.ngettext(*CASES, 2) == "حالتان مفتوحتان"
    assert arabic.ngettext(*CASES, 7) == "{count} حالات مفتوحة"
    assert arabic.npgettext("volunteer", *PEOPLE, 15) == "{count} متطوعًا"
    assert arabic.npgettext("volunteer", *PEOPLE, 101) == "{count} متطوع"
    italian = gettext.GNUTranslations(catalogs.po_path(root, "it").with_suffix(".mo").open("rb"))
    assert italian.npgettext("volunteer", *PEOPLE, 1_000_000) == "{count} volontari"


def test_a_newer_babel_does_not_make_the_mo_stale(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The .mo is compared by what it says, not by the Generated-By line of the tool's version."""
    mo = catalogs.po_path(root, "it").with_suffix(".mo")
    written = mo.read_bytes()
    monkeypatch.setattr(babel.messages.catalog, "VERSION", "99.0.0")
    catalog = catalogs.load(root, catalogs.po_path(root, "it"), "it")
    assert catalogs.render_mo(catalog) != written
    assert catalogs.check(root) == []
    assert catalogs.compile_all(root) == []
    assert mo.read_bytes() == written


def test_unreadable_mo_is_stale(root: Path) -> None:
    catalogs.po_path(root, "en").with_suffix(".mo").write_bytes(b"not a catalog")
    assert catalogs.check(root, ["en"]) == [
        "locales/en/LC_MESSAGES/messages.mo: out of date with messages.po (run compile)"
    ]
    assert catalogs.compile_all(root) == ["en"]
    assert catalogs.check(root, ["en"]) == []


def test_language_without_catalog(root: Path) -> None:
    assert catalogs.check(root, ["it", "fr"]) == [
        "locales/fr/LC_MESSAGES/messages.po: no catalog for language 'fr' (run init fr)"
    ]


def test_message_missing_from_catalog(root: Path) -> None:
    write_source(root, 'EXTRA = N_("Thank you")\n')
    catalogs.extract(root)
    assert catalogs.check(root, ["it"]) == [
        f'{IT}: msgid "Thank you": missing from the catalog (run update)'
    ]


def test_untranslated_and_empty_plural_form(root: Path) -> None:
    set_translation(root, "it", "Housing help", "")
    set_translation(root, "ar", CASES[0], ("", "واحدة", "", "{count}", "{count}", "{count}"))
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{AR}: msgid "{{count}} open case" plural form 0: empty',
        f'{AR}: msgid "{{count}} open case" plural form 2: empty',
        f'{IT}: msgid "Housing help": untranslated',
    ]


def test_fuzzy_entry(root: Path) -> None:
    path = catalogs.po_path(root, "it")
    catalog = catalogs.load(root, path, "it")
    message = catalog.get("Open", "button")
    assert message is not None
    message.flags.add("fuzzy")
    path.write_bytes(catalogs.render_po(catalog))
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{IT}: msgid "Open" (context "button"): fuzzy (review it, then remove the fuzzy flag)'
    ]


def test_placeholder_mismatch(root: Path) -> None:
    set_translation(root, "ar", "Case {number}", "الحالة {رقم}")
    set_translation(root, "it", "Hello %(name)s", "Ciao %(nome)s")
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{AR}: msgid "Case {{number}}": placeholder {{number}} missing in translation',
        f'{AR}: msgid "Case {{number}}": placeholder {{رقم}} not in msgid',
        f'{IT}: msgid "Hello %(name)s": placeholder %(name)s missing in translation',
        f'{IT}: msgid "Hello %(name)s": placeholder %(nome)s not in msgid',
    ]


def test_plural_form_drops_count_only_where_it_covers_one_number(root: Path) -> None:
    forms = ("صفر", "واحدة", "اثنتان", "بضع حالات", "{count} حالة", "{count} حالة")
    set_translation(root, "ar", CASES[0], forms)
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{AR}: msgid "{{count}} open case" plural form 3: placeholder {{count}} missing in '
        "translation"
    ]


def test_french_singular_form_covers_zero_and_one(root: Path) -> None:
    catalogs.init(root, "fr")
    for (context, msgid), string in TRANSLATIONS["it"].items():
        set_translation(root, "fr", msgid, string, context)
    set_translation(
        root, "fr", CASES[0], ("Un cas ouvert", "{count} de cas ouverts", "{count} cas ouverts")
    )
    catalogs.compile_all(root)
    assert catalogs.check(root, ["fr"]) == [
        'locales/fr/LC_MESSAGES/messages.po: msgid "{count} open case" plural form 0: '
        "placeholder {count} missing in translation"
    ]


def test_missing_plural_forms_read_back_as_empty(root: Path) -> None:
    set_translation(root, "ar", CASES[0], ("{count} حالة", "{count} حالات"))
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{AR}: msgid "{{count}} open case" plural form {index}: empty' for index in range(2, 6)
    ]


def test_plural_forms_header_differs_from_babel(root: Path) -> None:
    path = catalogs.po_path(root, "ar")
    catalog = catalogs.load(root, path, "ar")
    catalog.mime_headers = [("Plural-Forms", "nplurals=2; plural=(n != 1);")]
    for message in catalog:
        if isinstance(message.string, tuple):
            message.string = message.string[4:6]
    path.write_bytes(catalogs.render_po(catalog))
    catalogs.compile_all(root)
    expected = catalogs.plural_rule("ar")[1]
    assert catalogs.check(root) == [
        f"{AR}: Plural-Forms has nplurals=2, Babel expects nplurals=6 for 'ar' (plural={expected})",
        f'{AR}: msgid "{{count}} open case": has 2 plural forms, Babel expects 6',
        f'{AR}: msgid "{{count}} volunteer" (context "volunteer"): has 2 plural forms, '
        "Babel expects 6",
    ]


@pytest.mark.parametrize(
    ("language", "rule", "problem"),
    [
        # Babel 2.18's Arabic rule, which swapped CLDR's "many" (11-99) and "other" (100-102).
        (
            "ar",
            "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
            "n%100>=0 && n%100<=2 ? 4 : 5)",
            "picks form 5 for n=11, Babel picks form 4",
        ),
        # Right count, "many" never chosen: a million requests would read the "other" text.
        ("it", "(n == 1 ? 0 : n == 0 ? 1 : 2)", "picks form 1 for n=0, Babel picks form 2"),
    ],
)
def test_plural_rule_differs_from_babel(root: Path, language: str, rule: str, problem: str) -> None:
    path = catalogs.po_path(root, language)
    catalog = catalogs.load(root, path, language)
    nplurals = catalogs.plural_rule(language)[0]
    catalog.mime_headers = [("Plural-Forms", f"nplurals={nplurals}; plural={rule};")]
    path.write_bytes(catalogs.render_po(catalog))
    catalogs.compile_all(root)
    expected = catalogs.plural_rule(language)[1]
    assert catalogs.check(root, [language]) == [
        f"{catalogs.relative(root, path)}: Plural-Forms {problem} for {language!r} "
        f"(plural={expected})"
    ]


def test_more_plural_forms_than_declared(root: Path) -> None:
    path = catalogs.po_path(root, "ar")
    last = 'msgstr[5] "{count} متطوع"\n'
    path.write_text(path.read_text("utf-8").replace(last, last + 'msgstr[6] "x"\n'), "utf-8")
    problems = catalogs.check(root, ["ar"])
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{AR}: invalid PO file (msg has more translations than num_plurals of catalog on "
    )
    assert catalogs.main(["--root", str(root), "compile"]) == 1


def test_missing_and_stale_mo(root: Path) -> None:
    set_translation(root, "it", "Open", "Aprire", "button")
    assert catalogs.check(root) == [
        "locales/it/LC_MESSAGES/messages.mo: out of date with messages.po (run compile)"
    ]
    catalogs.po_path(root, "ar").with_suffix(".mo").unlink()
    assert catalogs.check(root, ["ar"]) == [
        "locales/ar/LC_MESSAGES/messages.mo: missing (run compile)"
    ]


def test_template_out_of_date_with_source(root: Path) -> None:
    source = SOURCE.replace('TITLE = N_("Housing help")', 'TITLE = N_("Food help")')
    (root / "bot" / "texts.py").write_text(source, encoding="utf-8")
    assert catalogs.check(root) == [
        'locales/messages.pot: msgid "Food help": in the source but not in the template '
        "(run extract)",
        'locales/messages.pot: msgid "Housing help": no longer in the source (run extract)',
    ]


def test_unbalanced_braces(root: Path) -> None:
    set_translation(root, "it", "Case {number}", "Pratica {number")
    catalogs.compile_all(root)
    assert catalogs.check(root) == [
        f'{IT}: msgid "Case {{number}}": unbalanced braces in translation '
        "(expected '}' before end of string)"
    ]


def test_cli_reports_one_line_per_problem(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_translation(root, "it", "Housing help", "")
    assert catalogs.main(["--root", str(root), "check", "--languages", "it,ar"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f'{IT}: msgid "Housing help": untranslated',
        "locales/it/LC_MESSAGES/messages.mo: out of date with messages.po (run compile)",
    ]


def test_placeholders() -> None:
    text = "{a.b} {c[0]} {d!r:>{width}} %(e)s %%(f)s {{g}} 100%%"
    assert catalogs.placeholders(text) == {"{a}", "{c}", "{d}", "{width}", "%(e)s"}
    with pytest.raises(ValueError):
        catalogs.placeholders("{oops")


def test_single_number_forms() -> None:
    arabic = catalogs.plural_rule("ar")
    assert catalogs.single_number_forms(arabic[1], arabic[0]) == {0, 1, 2}
    assert catalogs.single_number_forms("(n != 1)", 2) == {0}
    assert catalogs.single_number_forms("(n > 1)", 2) == set()
