"""The Bot API emulation against the real python-telegram-bot Application and Bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from handlers.emulation.telegram import TOKEN, Call, Change, EmulatedBotAPI, User
from tests.polling import running

ADA = User(1001, "Ada")
BEA = User(1002, "Bea")
KEYBOARD = {"inline_keyboard": [[{"text": "Help", "callback_data": "help"}]]}


@pytest.fixture
async def server() -> AsyncIterator[EmulatedBotAPI]:
    async with EmulatedBotAPI() as srv:
        yield srv


def build_app(server: EmulatedBotAPI, *, rate_limiter: AIORateLimiter | None = None) -> Any:
    builder: Any = Application.builder().token(TOKEN).base_url(server.base_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.bot_data["errors"] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        button = InlineKeyboardButton("Help", callback_data="help")
        await update.effective_message.reply_text(
            "Welcome", reply_markup=InlineKeyboardMarkup([[button]])
        )

    async def doc(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_document(b"hello bytes", filename="hello.txt")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Got it", show_alert=True)
        await query.edit_message_text(f"You pressed {query.data}")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        context.bot_data["errors"].append(context.error)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("doc", doc))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_error_handler(on_error)
    return app


async def test_start_then_button_press_answers_and_edits(server: EmulatedBotAPI) -> None:
    async with running(build_app(server)):
        server.push_text(ADA, "/start")
        msg = await server.next_message(ADA.id)
        assert (msg.text, msg.reply_markup) == ("Welcome", KEYBOARD)

        server.push_callback(ADA, msg, "help")
        answer = await server.wait_for_call("answerCallbackQuery")
        assert answer.params["text"] == "Got it"
        assert answer.params["show_alert"] is True
        edit = await server.wait_for_call("editMessageText", after=answer.index)
        assert edit.ok
        assert msg.text == "You pressed help"
        assert msg.reply_markup is None  # an edit without reply_markup drops the keyboard
        assert msg.history == [("Welcome", KEYBOARD)]
        await server.assert_no_message(ADA.id, within=0.1)  # edits are not new messages
        await server.wait_updates_consumed()


async def test_command_addressed_to_bot_in_supergroup(server: EmulatedBotAPI) -> None:
    async with running(build_app(server)):
        server.push_text(ADA, "/start@sportello_test_bot", chat_id=-100777)
        msg = await server.next_message(-100777)
        assert msg.text == "Welcome"
        call = await server.wait_for_call("sendMessage")
        assert call.params["reply_parameters"]["message_id"] == 1  # reply_text quotes /start
        assert msg.reply_to == 1


async def test_injected_429_is_waited_out_by_rate_limiter(server: EmulatedBotAPI) -> None:
    server.fail_next("sendMessage", 429, retry_after=1)
    async with running(build_app(server, rate_limiter=AIORateLimiter(max_retries=2))):
        server.push_text(ADA, "/start")
        msg = await server.next_message(ADA.id, timeout=5)
        assert msg.text == "Welcome"
    sends = [c for c in server.calls if c.method == "sendMessage"]
    assert [c.ok for c in sends] == [False, True]
    assert sends[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert sends[1].at - sends[0].at >= 1.0


async def test_blocked_user_raises_forbidden_in_handler(server: EmulatedBotAPI) -> None:
    app = build_app(server)
    server.block(ADA.id)
    async with running(app):
        server.push_text(ADA, "/start")
        await server.wait_for_call("sendMessage")
        for _ in range(100):
            if app.bot_data["errors"]:
                break
            await asyncio.sleep(0.01)
    [error] = app.bot_data["errors"]
    assert isinstance(error, Forbidden)
    assert "bot was blocked by the user" in str(error)
    assert server.unread(ADA.id) == []


async def test_document_upload_keeps_name_and_bytes(server: EmulatedBotAPI) -> None:
    async with running(build_app(server)):
        server.push_text(ADA, "/doc")
        msg = await server.next_message(ADA.id)
    assert msg.kind == "document"
    assert msg.document == ("hello.txt", b"hello bytes")


async def test_rate_limit_counts_rejections() -> None:
    async with (
        EmulatedBotAPI(rate_limit_per_second=2) as srv,
        Bot(TOKEN, base_url=srv.base_url) as bot,
    ):
        results = await asyncio.gather(
            *(bot.send_message(ADA.id, f"n{i}") for i in range(5)), return_exceptions=True
        )
        rejected = [r for r in results if isinstance(r, RetryAfter)]
        assert len(rejected) == 3 == srv.rejected_429
        assert len(srv.chats[ADA.id]) == 2


async def test_stopping_app_during_long_poll_is_fast(server: EmulatedBotAPI) -> None:
    def long_poll(call: Call) -> bool:
        return call.params.get("timeout") == 30 and call.response is None

    async with running(build_app(server), poll_timeout=30):
        await server.wait_for_call("getUpdates", long_poll)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0


async def test_server_stop_releases_pending_long_poll() -> None:
    srv = EmulatedBotAPI()
    await srv.start()
    async with aiohttp.ClientSession() as http:
        poll = asyncio.create_task(
            http.post(f"{srv.base_url}{TOKEN}/getUpdates", data={"timeout": "30"})
        )
        await srv.wait_for_call("getUpdates")
        started = time.monotonic()
        await srv.stop()
        response = await poll
        assert await response.json() == {"ok": True, "result": []}
    assert time.monotonic() - started < 2.0


async def test_get_updates_offset_limit_and_wakeup(server: EmulatedBotAPI) -> None:
    url = f"{server.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as http:
        ids = [server.push_text(ADA, f"m{i}") for i in range(3)]
        got = await (await http.post(url, data={"limit": "2"})).json()
        assert [u["update_id"] for u in got["result"]] == ids[:2]
        got = await (await http.post(url, json={"offset": ids[1] + 1, "timeout": 5})).json()
        assert [u["update_id"] for u in got["result"]] == ids[2:]

        # A waiting poll is woken by a push instead of running out its timeout.
        poll = asyncio.create_task(http.post(url, data={"offset": str(ids[2] + 1), "timeout": "5"}))
        await server.wait_for_call("getUpdates", after=len(server.calls))
        started = time.monotonic()
        late = server.push_text(ADA, "late")
        got = await (await poll).json()
        assert [u["update_id"] for u in got["result"]] == [late]
        assert time.monotonic() - started < 1.0
        with pytest.raises(AssertionError, match="not confirmed"):
            await server.wait_updates_consumed(timeout=0.05)
        await http.post(url, data={"offset": str(late + 1)})
        await server.wait_updates_consumed(timeout=0.5)


async def test_unknown_token_and_method_are_rejected(server: EmulatedBotAPI) -> None:
    async with aiohttp.ClientSession() as http:
        bad_token = await http.post(f"{server.base_url}999:NOPE/getMe")
        assert bad_token.status == 401
        unknown = await http.post(f"{server.base_url}{TOKEN}/sendDice", data={"chat_id": "1"})
        assert unknown.status == 404
        assert await unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(InvalidToken):
        async with Bot("999:NOPE", base_url=server.base_url):
            pass


async def test_edit_errors_match_telegram(server: EmulatedBotAPI) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        markup = InlineKeyboardMarkup.from_button(InlineKeyboardButton("x", callback_data="x"))
        sent = await bot.send_message(ADA.id, "hi", reply_markup=markup)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(ADA.id, sent.message_id, reply_markup=markup)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("new", ADA.id, 999)
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(ADA.id, "<b>unclosed", parse_mode="HTML")
        await bot.edit_message_reply_markup(ADA.id, sent.message_id)
        assert server.chats[ADA.id][0].reply_markup is None
        assert await bot.delete_message(ADA.id, sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("new", ADA.id, sent.message_id)


async def test_html_comes_back_as_text_and_entities_as_telegram_echoes_it(
    server: EmulatedBotAPI,
) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        html = 'Request <b>SP-1</b> 👍 <a href="https://x.org/?a=1&amp;b=2">more</a> &lt;3'
        sent = await bot.send_message(ADA.id, html, parse_mode="HTML")
        assert sent.text == "Request SP-1 👍 more <3"
        # Offsets count UTF-16 units: the emoji is two.
        assert [(e.type, e.offset, e.length, e.url) for e in sent.entities] == [
            ("bold", 8, 4, None),
            ("text_link", 16, 4, "https://x.org/?a=1&b=2"),
        ]
        copy = await bot.copy_message(BEA.id, ADA.id, sent.message_id)
        copied = server.message(BEA.id, copy.message_id)
        assert copied is not None and copied["text"] == sent.text
        assert copied["entities"][0] == {"type": "bold", "offset": 8, "length": 4}
        # What the bot sent is kept as it was written, for tests that read it.
        assert server.chats[ADA.id][0].text == html


async def test_watchers_see_each_change_a_person_would_see(server: EmulatedBotAPI) -> None:
    seen: list[Change] = []
    stop = server.watch(seen.append)
    server.titles[-100555] = "Sportello casa"
    markup = InlineKeyboardMarkup.from_button(InlineKeyboardButton("x", callback_data="x"))
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        sent = await bot.send_message(-100555, "card", reply_markup=markup)
        server.push_callback(ADA, server.chats[-100555][0], "x")
        [update] = await bot.get_updates()
        assert update.callback_query is not None and update.callback_query.message is not None
        assert update.callback_query.message.chat.title == "Sportello casa"
        await update.callback_query.answer("Taken")
        await bot.edit_message_text("card, taken", -100555, sent.message_id)
        await bot.delete_message(-100555, sent.message_id)
        server.push_text(ADA, "hello")
    stop()
    server.push_text(ADA, "unseen")
    assert seen == [
        Change("message", -100555, 1),
        Change("toast", -100555, user_id=ADA.id, text="Taken"),
        Change("edit", -100555, 1),
        Change("delete", -100555, 1),
        Change("message", ADA.id, 1),
    ]
    assert [m["text"] for m in server.history(ADA.id)] == ["hello", "unseen"]
    assert server.message(-100555, 1) is None and server.history(-100555) == []


async def test_misc_methods_roundtrip(server: EmulatedBotAPI) -> None:
    server.push_document(ADA, file_name="id.pdf", data=b"%PDF")
    server.push_photo(ADA, caption="look")
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        [upd_doc, upd_photo] = await bot.get_updates()
        assert upd_doc.message and upd_doc.message.document and upd_photo.message
        assert upd_photo.message.caption == "look"
        await bot.send_document(-100555, upd_doc.message.document.file_id)  # re-send by file_id
        assert server.chats[-100555][0].document == ("id.pdf", b"%PDF")
        copy = await bot.copy_message(-100555, ADA.id, upd_photo.message.message_id)
        assert server.chats[-100555][1].copied_from == (ADA.id, upd_photo.message.message_id)
        assert copy.message_id == 2
        await bot.send_photo(ADA.id, b"\x89PNG", caption="pic")
        await bot.send_voice(ADA.id, b"OggS")
        assert await bot.send_chat_action(ADA.id, "typing")
        assert [m.kind for m in server.chats[ADA.id]] == ["photo", "voice"]
        assert await bot.set_my_commands([("start", "Begin")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        assert isinstance(await bot.get_chat_member(-100555, ADA.id), ChatMemberMember)
        server.set_member_status(-100555, ADA.id, "administrator")
        assert isinstance(await bot.get_chat_member(-100555, ADA.id), ChatMemberAdministrator)
        assert (await bot.get_chat(-100555)).type == "supergroup"
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query("nope")


async def test_waiters_time_out_with_a_call_dump(server: EmulatedBotAPI) -> None:
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        await bot.send_message(ADA.id, "first")
    assert (await server.next_message(ADA.id)).text == "first"
    with pytest.raises(AssertionError, match=r"(?s)no new message.*sendMessage"):
        await server.next_message(ADA.id, timeout=0.05)
    with pytest.raises(AssertionError, match="no editMessageText call"):
        await server.wait_for_call("editMessageText", timeout=0.05)


async def test_webhook_posts_chats_side_by_side_and_each_chat_in_order(
    server: EmulatedBotAPI,
) -> None:
    """Up to max_connections posts at once, never two of one chat; a 500 is posted again."""
    in_flight: set[int] = set()
    most = clashes = 0
    seen: list[tuple[int, str]] = []  # (chat, text) in the order the posts arrived
    refused_once = False

    async def receive(request: web.Request) -> web.Response:
        nonlocal most, clashes, refused_once
        message = (await request.json())["message"]
        chat = message["chat"]["id"]
        clashes += chat in in_flight
        in_flight.add(chat)
        most = max(most, len(in_flight))
        await asyncio.sleep(0.02)
        in_flight.discard(chat)
        if message["text"] == "1-b" and not refused_once:
            refused_once = True
            return web.Response(status=500)
        seen.append((chat, message["text"]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        for chat in (1, 2, 3):
            for letter in "abc":
                server.push_text(User(chat), f"{chat}-{letter}")
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", max_connections=2)
        await server.wait_updates_consumed(timeout=5)
    finally:
        await server.stop()
        await runner.cleanup()
    assert most == 2 and clashes == 0
    for chat in (1, 2, 3):
        assert [text for c, text in seen if c == chat] == [f"{chat}-{x}" for x in "abc"]
    assert refused_once and 500 in {status for _, status in server.webhook_calls}
