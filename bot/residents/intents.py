"""What a resident's commands do, whatever channel they type them on."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable

from bot import i18n
from bot.activities import agenda
from bot.cases import casework
from bot.outgoing import Response
from bot.residents import commands, dialogue
from bot.residents.conversation import Conversation

Intent = Callable[[Conversation], Awaitable[Response]]

BY_COMMAND: dict[str, Intent] = {
    "start": dialogue.start,
    "language": dialogue.choose_language,
    "help": commands.help_command,
    "status": commands.status,
    "activities": agenda.activities_command,
    "stop": agenda.stop,
    "cancel": dialogue.cancel,
    "mydata": commands.my_data,
    "delete": commands.delete_request,
}


def command_named(word: str, language: str) -> Intent | None:
    """The command a typed word names, in English or in `language`."""
    word = _plain(word.strip().removeprefix("/"))
    if not word or any(space.isspace() for space in word):
        return None
    if word in BY_COMMAND:
        return BY_COMMAND[word]
    with i18n.locale(language):
        for command, english in commands.WORDS.items():
            if word == _plain(i18n._(english)):
                return BY_COMMAND[command]
    return None


# Arabic as people type it on a phone: often without the hamza or madda on alif (each read as
# a plain alif here), and without vowels.
_ALIF = str.maketrans(dict.fromkeys("\u0623\u0625\u0622", "\u0627"))
_VOWELS = re.compile("[\u064b-\u065f\u0670]")


# Latin letters as people type them on a phone: often without their accents ("activites",
# "stergere"). Only marks on a Latin letter go: in other scripts a mark can be a vowel.
_LATIN_MARKS = re.compile("(?<=[a-z])[\u0300-\u036f]+")


def _plain(word: str) -> str:
    word = unicodedata.normalize("NFKC", word).casefold().translate(_ALIF)
    word = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", word))
    return unicodedata.normalize("NFC", _VOWELS.sub("", word))


def typed(text: str) -> Intent:
    """A resident's typed message: a command, given with "/" or as its word alone; the number
    of a choice just offered; or else an answer. While a volunteer follows their case, a bare
    word or number goes to the volunteer ("help" is for them), and only "/" names a
    command."""

    async def intent(convo: Conversation) -> Response:
        word = text.strip()
        if word.startswith("/"):
            name = word.split(maxsplit=1)[0].split("@")[0]
            return await (command_named(name, convo.language) or commands.unknown_command)(convo)
        chosen, command = _typed_choice(convo, word), command_named(word, convo.language)
        if (chosen or command) and not await _talking_with_volunteer(convo):
            if chosen is not None:
                return await dialogue.press(convo, chosen)
            if command is not None:
                return await command(convo)
        return await dialogue.answer_text(convo, text)

    return intent


def _typed_choice(convo: Conversation, word: str) -> str | None:
    """The choice last offered whose number was typed (a question of an intake or a sign-up
    reads its own numbers)."""
    resident = convo.resident
    if resident is None or not resident.choices or convo.intake is not None or resident.signup:
        return None
    if not (word.isascii() and word.isdigit() and 1 <= int(word) <= len(resident.choices)):
        return None
    return resident.choices[int(word) - 1]


async def _talking_with_volunteer(convo: Conversation) -> bool:
    if convo.resident is None or convo.intake is not None:
        return False
    return await casework.open_case_of(convo.session, convo.resident) is not None
