"""What a resident's commands do, whatever channel they type them on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.activities import agenda
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
