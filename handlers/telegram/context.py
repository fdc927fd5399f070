"""What a handler finds in the application: the services built by the composition root."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.desk import Desk
from bot.residents.conversation import Sender
from handlers.telegram.membership import Membership


def desk(context: ContextTypes.DEFAULT_TYPE) -> Desk:
    found = context.bot_data["desk"]
    assert isinstance(found, Desk)
    return found


def membership(context: ContextTypes.DEFAULT_TYPE) -> Membership:
    found = context.bot_data.setdefault("membership", Membership())
    assert isinstance(found, Membership)
    return found


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    assert user is not None
    return Sender("telegram", str(user.id), user.language_code)


def wake(context: ContextTypes.DEFAULT_TYPE, service: str) -> None:
    """Tell a background service ("outbox", "reminders") it has news, if it runs (it is started
    after the handlers can already be called)."""
    found = context.bot_data.get(service)
    if found is not None:
        found.wake()
