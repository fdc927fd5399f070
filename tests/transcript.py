"""A person in a private chat with the bot, so that dialogue tests read as transcripts."""

from __future__ import annotations

import json

from bot import i18n
from bot.i18n import _
from handlers.emulation.telegram import EmulatedBotAPI, SentMessage, User


class Person:
    def __init__(
        self, telegram: EmulatedBotAPI, user_id: int, language_code: str | None = "en"
    ) -> None:
        self.telegram = telegram
        self.user = User(user_id, first_name=f"Person {user_id}", language_code=language_code)
        self.notices: list[str | None] = []

    @property
    def chat_id(self) -> int:
        return self.user.id

    # -- what the person does ---------------------------------------------------------------

    def says(self, text: str, reply_to: SentMessage | None = None) -> None:
        """Write; with `reply_to`, as a reply to that message of the bot's."""
        self.telegram.push_text(self.user, text, reply_to=reply_to)

    async def is_ready(self, language: str) -> None:
        """Start the bot, pick `language` and accept the privacy notice, up to the menu."""
        self.says("/start")
        await self.hears(said(language, "Hello! Which language do you want to use?"))
        await self.taps(i18n.language_name(language))
        await self.hears(
            said(language, "Before we start, a few words about your data."),
            said(language, "Do you agree?"),
        )
        await self.taps(said(language, "Yes, I agree"))
        await self.hears(said(language, "What do you need help with?"))

    def sends_sticker(self) -> None:
        self.telegram.push_sticker(self.user)

    def sends_photo(self) -> None:
        self.telegram.push_photo(self.user)

    def sends_voice(self, reply_to: SentMessage | None = None) -> None:
        self.telegram.push_voice(self.user, reply_to=reply_to)

    async def taps(self, label: str, on: SentMessage | None = None) -> None:
        """Press the button whose label contains `label`, on the latest message with buttons."""
        message = on or self.latest_with_buttons()
        data = next((b["callback_data"] for b in _buttons(message) if label in b["text"]), None)
        assert data is not None, f"no button {label!r} in {[b['text'] for b in _buttons(message)]}"
        await self._press(message, data)

    async def presses_data(self, data: str, on: SentMessage | None = None) -> None:
        """Send a button press with any data at all, as a forged client could."""
        await self._press(on or self.latest_with_buttons(), data)

    async def _press(self, message: SentMessage, data: str) -> None:
        start = len(self.telegram.calls)
        self.telegram.push_callback(self.user, message, data)
        answer = await self.telegram.wait_for_call(
            "answerCallbackQuery",
            lambda call: call.params.get("callback_query_id") is not None,
            after=start,
        )
        self.notices.append(answer.params.get("text"))

    # -- what the person sees ---------------------------------------------------------------

    async def hears(self, fragment: str, *fragments: str) -> SentMessage:
        """The next message from the bot, which must contain every fragment: at least one, so
        that each step of a transcript says what the person reads."""
        message = await self.telegram.next_message(self.chat_id)
        text = message.text or message.caption or ""
        for expected in (fragment, *fragments):
            assert expected in text, f"expected {expected!r} in the bot's message:\n{text}"
        return message

    async def hears_file(self, filename: str) -> bytes:
        """The next message, which must be a file of that name; its content."""
        message = await self.telegram.next_message(self.chat_id)
        assert message.document is not None, f"expected a document, got {message.text!r}"
        assert message.document.filename == filename
        return bytes(message.document.data)

    async def hears_document(self, filename: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(await self.hears_file(filename))
        return loaded

    async def hears_nothing_more(self) -> None:
        await self.telegram.assert_no_message(self.chat_id)

    def latest_with_buttons(self) -> SentMessage:
        for message in reversed(self.telegram.chats[self.chat_id]):
            if message.reply_markup and not message.deleted:
                return message
        raise AssertionError("the bot sent no message with buttons")

    def buttons(self, message: SentMessage | None = None) -> list[str]:
        return [b["text"] for b in _buttons(message or self.latest_with_buttons())]

    def data_of(self, label: str, message: SentMessage) -> str:
        """What the button of that label sends: to press it again once it is gone."""
        [data] = [b["callback_data"] for b in _buttons(message) if b["text"] == label]
        return data


def said(language: str, message: str) -> str:
    """A message id as a person of that language reads it."""
    with i18n.locale(language):
        return _(message)


def _buttons(message: SentMessage) -> list[dict[str, str]]:
    markup = message.reply_markup or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]
