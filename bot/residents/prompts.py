"""What the bot asks a resident next, wherever they left off: the language, the consent, the
intake's question, a sign-up's question, or the menu."""

from __future__ import annotations

from bot import i18n
from bot.activities import signup
from bot.buttons import ChooseLanguage, LanguagePage, StartFlow
from bot.i18n import _
from bot.intake import questions
from bot.intake.flows import FLOWS
from bot.outgoing import Button, Reply, Response
from bot.residents import privacy
from bot.residents.conversation import Conversation


async def next_prompt(convo: Conversation) -> Reply:
    """What the resident has to do next, wherever they left off."""
    resident = convo.resident
    if resident is None or resident.language is None:
        return language_picker(convo)
    if not await privacy.has_consented(convo.session, resident):
        return privacy.notice()
    current = convo.intake
    if current is not None:
        return questions.render(current)
    if resident.signup is not None:
        question = await signup.current_question(convo)
        if question is not None:
            return question
    return menu()


# A WhatsApp list holds ten rows: beyond ten languages, the picker shows the likeliest nine and
# "Other languages", which shows the rest.
PICKER_ROWS = 10


def language_picker(convo: Conversation, page: str = "first") -> Reply:
    """The enabled languages, each named in its own script, the one the resident's phone
    suggests marked and on the first page; two to a row when they are many."""
    chosen = convo.resident.language if convo.resident else None
    languages = list(convo.settings.languages)
    turn: Button | None = None
    if len(languages) > PICKER_ROWS:
        first = languages[: PICKER_ROWS - 1]
        if chosen in languages and chosen not in first:
            first = [chosen, *first[:-1]]
        if page == "first":
            languages = first
            turn = Button(_("Other languages ›"), LanguagePage("others").pack())
        else:
            languages = [code for code in languages if code not in first]
            turn = Button(_("« Back"), LanguagePage("first").pack())
    choices = [
        Button(
            ("✓ " if code == chosen else "") + i18n.language_name(code), ChooseLanguage(code).pack()
        )
        for code in languages
    ]
    if turn is not None:
        choices.append(turn)
    width = 2 if len(choices) > 4 else 1
    rows = tuple(tuple(choices[i : i + width]) for i in range(0, len(choices), width))
    return Reply(_("Hello! Which language do you want to use?"), rows)


def menu() -> Reply:
    return Reply(
        _("What do you need help with?"),
        tuple(
            (Button(f"{i}. {_(flow.title)}", StartFlow(flow.key).pack()),)
            for i, flow in enumerate(FLOWS.values(), 1)
        ),
    )


def stale(prompt: Reply) -> Response:
    return Response(
        replies=[prompt], notice=_("This button is no longer active."), close_buttons=True
    )
