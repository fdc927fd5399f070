"""The resident's plain commands: /status, /help, /mydata, /delete and its confirmation, and
what an unknown command gets."""

from __future__ import annotations

from bot import i18n
from bot.cases import opening as cases
from bot.i18n import N_, _, isolate, ngettext
from bot.intake.flows import FLOWS
from bot.outgoing import Reply, Response
from bot.residents import privacy
from bot.residents.conversation import Conversation
from bot.residents.prompts import next_prompt, stale

# The resident's commands, for /help and for the menu Telegram shows next to the text box.
COMMANDS = (
    ("start", N_("Begin, or continue where you left off")),
    ("status", N_("See your requests")),
    ("activities", N_("See activities and sign up")),
    ("language", N_("Change language")),
    ("cancel", N_("Stop filling in your request")),
    ("mydata", N_("See everything we keep about you")),
    ("delete", N_("Delete your data")),
    ("stop", N_("Stop reminders and notices")),
    ("help", N_("What this bot does")),
)


# What a resident may type instead of a command, for a channel without a command menu
# (WhatsApp): the word in their language, or the English one, alone in the message, with or
# without a "/". Many people type rather than tap, and "/" is hard to find on some keyboards.
WORDS: dict[str, str] = {
    # TRANSLATORS: a word a resident types instead of /start: one short word, lowercase.
    "start": N_("start"),
    # TRANSLATORS: a word a resident types instead of /language: one short word, lowercase.
    "language": N_("language"),
    # TRANSLATORS: a word a resident types instead of /help: one short word, lowercase.
    "help": N_("help"),
    # TRANSLATORS: a word a resident types instead of /status (see their requests): one short
    # word, lowercase.
    "status": N_("status"),
    # TRANSLATORS: a word a resident types instead of /activities: one short word, lowercase.
    "activities": N_("activities"),
    # TRANSLATORS: a word a resident types instead of /stop (no more reminders or notices):
    # one short word, lowercase.
    "stop": N_("stop"),
    # TRANSLATORS: a word a resident types instead of /cancel (stop the current questions):
    # one short word, lowercase.
    "cancel": N_("cancel"),
    # TRANSLATORS: a word a resident types instead of /mydata (see what we keep about them):
    # one short word, lowercase.
    "mydata": N_("mydata"),
    # TRANSLATORS: a word a resident types instead of /delete (erase their data): one short
    # word, lowercase.
    "delete": N_("delete"),
}


async def status(convo: Conversation) -> Response:
    """/status: the resident's cases and where each one is."""
    resident = convo.resident
    found = await cases.cases_of(convo.session, resident) if resident else []
    if not found:
        return Response().say(Reply(_("You have no requests yet.")), await next_prompt(convo))
    lines = [
        ngettext("You have {count} request:", "You have {count} requests:", len(found)).format(
            count=len(found)
        )
    ]
    for case in found:
        lines.append(
            _("• {number} · {kind} · {status} · sent on {date}").format(
                number=isolate(case.number),
                kind=_(FLOWS[case.kind].title),
                status=_(cases.STATUS_LABELS.get(case.status, case.status)),
                date=i18n.format_day(i18n.local_date(case.created_at, convo.settings.timezone)),
            )
        )
    return Response().say(Reply("\n".join(lines)))


def _typed_too(name: str) -> str:
    """The word that may be typed for the command, where the language has its own."""
    word = _(WORDS[name])
    return f" ({isolate(word)})" if word != name else ""


def help_text() -> Reply:
    return Reply(
        "\n".join(
            [
                _("This is the help desk of the neighbourhood's mutual-aid space."),
                _("Answer a few questions and a volunteer will write to you here."),
                "",
                *(
                    f"/{name}{_typed_too(name)} – {_(description)}"
                    for name, description in COMMANDS
                ),
            ]
        )
    )


async def help_command(convo: Conversation) -> Response:
    return Response().say(help_text())


async def unknown_command(convo: Conversation) -> Response:
    return Response().say(Reply(_("I don't know that command.")), help_text())


async def my_data(convo: Conversation) -> Response:
    if convo.resident is None:
        return Response().say(Reply(_("We keep nothing about you.")))
    return Response().say(
        await privacy.export(convo.session, convo.resident, convo.settings.timezone)
    )


async def delete_request(convo: Conversation) -> Response:
    if convo.resident is None:
        return Response().say(Reply(_("We keep nothing about you.")))
    return Response().say(privacy.ask_erase())


async def erase(convo: Conversation, answer: str) -> Response:
    assert convo.resident is not None
    if answer == "no":
        return Response(chosen=_("No, keep it"), close_buttons=True).say(
            Reply(_("Nothing was deleted.")), await next_prompt(convo)
        )
    if answer != "yes":
        return stale(await next_prompt(convo))
    await privacy.erase(convo.session, convo.resident, convo.clock())
    convo.resident = None
    convo.intake = None
    # Their places in activities may have gone to people on the waiting list, who are told.
    done = Response(chosen=_("Yes, delete my data"), close_buttons=True, outbox_news=True)
    return done.say(
        Reply(
            _(
                "Done: everything we kept about you has been deleted. If you need us again, "
                "send /start."
            )
        )
    )
