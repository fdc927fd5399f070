"""The bot's one error handler: log with a reference, tell the person in their language."""

from __future__ import annotations

import logging
import uuid

from telegram import Update

from bot import i18n
from bot.i18n import _
from bot.residents.conversation import language_of
from handlers.telegram.context import Context, desk, sender_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the failure without personal data and apologise to the person who was affected."""
    reference = uuid.uuid4().hex[:8]
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    # Only the type and the traceback: messages and names stay out of the log.
    log.error(
        "update %s failed, reference %s: %s",
        update_id,
        reference,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if not isinstance(update, Update) or update.effective_user is None:
        return
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    language = await _language_of(update, context)
    with i18n.locale(language):
        text = _(
            "Sorry, something went wrong on our side and your last message was not handled "
            "(reference {reference}). Your earlier answers are safe: please send it again."
        ).format(reference=i18n.isolate(reference))
    try:
        await context.bot.send_message(chat.id, text)
    except Exception:  # the apology itself failed: the log above is all we can do
        log.warning("could not tell the resident about failure %s", reference)


async def _language_of(update: Update, context: Context) -> str:
    services = desk(context)
    return await language_of(services.sessions, services.settings, sender_of(update))
