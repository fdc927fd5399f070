"""The eleven languages added to Italian, English and Arabic, each as its residents meet it: the
picker with their language marked from their phone's setting, the privacy notice, the first
question of an intake, an activity's date in their locale and its places counted in each of the
language's plural forms. Urdu reads right to left as Arabic does."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n
from bot.i18n import catalogs, ngettext
from bot.residents import commands
from bot.residents.intents import BY_COMMAND, command_named
from db.models import Activity, ActivityKind
from handlers.emulation.telegram import EmulatedBotAPI
from tests.clock import Clock
from tests.conftest import Bot
from tests.transcript import Person, said

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"

# What each language's phone says (Telegram's language_code), where it is not the code itself.
PHONE = {"fil": "tl", "zh": "zh-hans", "es": "es-PE", "fr": "fr-MA", "ur": "ur-PK"}
# The first date of the activities, 2030-11-26 16:30 in Rome, as each locale writes it (CLDR).
DATES = {
    "zh": "2030年11月26日星期二 16:30",
    "es": "martes, 26 de noviembre de 2030, 16:30",
    "fil": "Martes, Nobyembre 26, 2030, 4:30\u202fPM",
    "si": "2030 ඉල් 26, අඟහරුවාදා 16:30",
    "ta": "செவ்வாய், 26 நவம்பர், 2030, 4:30 PM",
    "ro": "marți, 26 noiembrie 2030, 16:30",
    "uk": "вівторок, 26 листопада 2030\u202fр., 16:30",  # noqa: RUF001 - the Cyrillic abbreviation of "year"
    "bn": "মঙ্গলবার, 26 নভেম্বর, 2030 4:30 PM",
    "sq": "e martë, 26 nëntor 2030, 4:30\u202fm.d.",
    "fr": "mardi 26 novembre 2030, 16:30",
    "ur": "منگل، 26 نومبر، 2030 4:30 PM",
}
# A number of places in each plural form, in the order of the language's forms (CLDR): e.g.
# Ukrainian 1 місце, 2 місця, 5 місць; Romanian 1 loc, 2 locuri, 20 de locuri; French and
# Spanish have a form for millions; Filipino's second form is for numbers ending in 4, 6, 9.
FORMS = {
    "zh": (5,),
    "es": (1, 1_000_000, 5),
    "fil": (1, 4),
    "si": (1, 2),
    "ta": (1, 5),
    "ro": (1, 2, 20),
    "uk": (1, 2, 5),
    "bn": (1, 2),
    "sq": (1, 5),
    "fr": (1, 1_000_000, 5),
    "ur": (1, 5),
}
NEW = tuple(DATES)
ROOT = catalogs.ROOT
CANCEL = "Do you want to cancel? Your answers will be discarded and nothing will be sent."
FIRST = datetime(2030, 11, 26, 16, 30)


def title(places: int) -> str:
    return f"Lab-{places}#"


async def activities(session: AsyncSession) -> None:
    """One event for each number of places the languages' forms need, nobody signed up yet."""
    for places in sorted({n for numbers in FORMS.values() for n in numbers}):
        session.add(
            Activity(
                kind=ActivityKind.EVENT,
                title=title(places),
                place="Via Padova 1",
                starts_local=FIRST,
                repeat="none",
                duration_minutes=60,
                capacity=places,
            )
        )


def places_in(language: str, form: int, count: int) -> str:
    """The text of that plural form as the translator wrote it, filled in: what the resident
    must read."""
    catalog = catalogs.load(ROOT, catalogs.po_path(ROOT, language), language)
    forms = catalog["{count} place left."].string
    assert isinstance(forms, tuple)
    return forms[form].format(count=count)


@pytest.mark.parametrize("language", NEW)
def test_each_form_of_a_count_is_the_languages_own(language: str) -> None:
    with i18n.locale(language):
        for form, count in enumerate(FORMS[language]):
            shown = ngettext("{count} place left.", "{count} places left.", count)
            assert shown.format(count=count) == places_in(language, form, count)
            assert shown != "{count} places left."  # translated, not the English


async def test_a_resident_of_each_language_starts_in_it(
    telegram: EmulatedBotAPI, bot: Bot, sessions: Any
) -> None:
    async with sessions() as session, session.begin():
        await activities(session)
    clock = Clock("2030-11-20T10:00")
    async with bot.running(clock=clock):
        for n, language in enumerate(NEW):
            resident = Person(telegram, 6100 + n, PHONE.get(language, language))
            await starts_an_intake(resident, language)
            await reads_the_activities(resident, language)


async def starts_an_intake(resident: Person, language: str) -> None:
    resident.says("/start")
    picker = await resident.hears(said(language, "Hello! Which language do you want to use?"))
    mark = f"✓ {i18n.language_name(language)}"
    assert mark in resident.buttons(picker)  # on the first page, whichever it is
    await resident.taps(mark)
    notice = await resident.hears(said(language, "Before we start, a few words about your data."))
    if language == "ur":  # commands stay readable inside right-to-left text
        assert f"{LRI}/mydata{PDI}" in (notice.text or "")
    await resident.taps(said(language, "Yes, I agree"))
    await resident.hears(said(language, "What do you need help with?"))
    await resident.taps(said(language, "Housing help"))
    await resident.hears(said(language, "Which of these best describes your situation?"))
    resident.says("/cancel")
    await resident.hears(said(language, CANCEL))
    await resident.taps(said(language, "Yes, cancel"))
    await resident.hears(said(language, "Cancelled. Nothing was sent."))
    await resident.hears(said(language, "What do you need help with?"))


async def reads_the_activities(resident: Person, language: str) -> None:
    for form, places in enumerate(FORMS[language]):
        resident.says("/activities")
        listing = await resident.hears(said(language, "What is on in the coming weeks:"))
        assert DATES[language] in (listing.text or "")
        await resident.taps(title(places), on=listing)
        page = await resident.hears(title(places), places_in(language, form, places))
        if language == "ur":
            assert f"{FSI}{title(places)}{PDI}" in (page.text or "")


async def test_the_picker_shows_the_likeliest_languages_in_two_columns_then_the_others(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    """A phone in French: French is not among the first nine, so it comes first."""
    samba = Person(telegram, 6200, "fr-SN")
    samba.says("/start")
    picker = await samba.hears(said("fr", "Hello! Which language do you want to use?"))
    rows = (picker.reply_markup or {})["inline_keyboard"]
    assert [len(row) for row in rows] == [2, 2, 2, 2, 2]
    assert samba.buttons(picker) == [
        "✓ Français", "Italiano", "English", "العربية", "中文", "Español", "Filipino", "සිංහල",
        "தமிழ்", said("fr", "Other languages ›"),
    ]  # fmt: skip
    await samba.taps(said("fr", "Other languages ›"), on=picker)
    assert samba.buttons(picker) == [  # the same message, now with the others
        "Română", "Українська", "বাংলা", "Shqip", "اردو", said("fr", "« Back"),
    ]  # fmt: skip
    await samba.taps(said("fr", "« Back"), on=picker)
    assert samba.buttons(picker)[0] == "✓ Français"
    await samba.taps("Français", on=picker)
    await samba.hears(said("fr", "Before we start, a few words about your data."))


def test_every_language_the_help_desk_knows_has_its_catalog() -> None:
    assert catalogs.present_languages(ROOT) == sorted(i18n.KNOWN_LANGUAGES)


@pytest.mark.parametrize("language", i18n.KNOWN_LANGUAGES)
def test_each_command_has_its_own_word_which_works_without_accents(language: str) -> None:
    """A resident may type "activites" for "activités", "stergere" for "ștergere"."""
    with i18n.locale(language):
        words = {command: i18n._(english) for command, english in commands.WORDS.items()}
    assert all(word and not any(c.isspace() for c in word) for word in words.values()), words
    for command, word in words.items():
        bare = "".join(
            c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
        )
        typed = bare if bare.isascii() else word
        assert command_named(typed, language) is BY_COMMAND[command], (command, typed)


async def test_the_command_menu_is_set_in_every_language(
    telegram: EmulatedBotAPI, live_bot: Bot
) -> None:
    """Telegram names Filipino "tl"; a phone in a language not offered gets the default menu."""
    menus = {}
    for call in telegram.calls:
        if call.method == "setMyCommands" and "scope" not in call.params:
            commands = call.params["commands"]
            listed = json.loads(commands) if isinstance(commands, str) else commands
            menus[call.params.get("language_code")] = {
                c["command"]: c["description"] for c in listed
            }
    codes = {"fil": "tl"}
    assert set(menus) == {None, *(codes.get(code, code) for code in i18n.KNOWN_LANGUAGES)}
    for language in i18n.KNOWN_LANGUAGES:
        menu = menus[codes.get(language, language)]
        assert menu["status"] == said(language, "See your requests")
    assert menus[None]["status"] == said("it", "See your requests")
