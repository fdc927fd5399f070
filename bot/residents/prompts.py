"""What the bot asks a resident next, wherever they left off: the language, the consent, the
intake's question, a sign-up's question, or the menu."""

from __future__ import annotations

from bot import i18n
from bot.activities import signup
from bot.buttons import ChooseLanguage, StartFlow
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


def language_picker(convo: Conversation) -> Reply:
    chosen = convo.resident.language if convo.resident else None
    buttons = tuple(
        (
            Button(
                ("✓ " if code == chosen else "") + i18n.language_name(code),
                ChooseLanguage(code).pack(),
            ),
        )
        for code in convo.settings.languages
    )
    return Reply(_("Hello! Which language do you want to use?"), buttons)


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
