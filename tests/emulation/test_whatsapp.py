"""The Graph API emulation against the real pywa_async client: its requests, and its webhook
parsing of what the emulation posts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from pywa_async.client import WhatsApp
from pywa_async.errors import WhatsAppError
from pywa_async.handlers import (
    CallbackButtonHandler,
    CallbackSelectionHandler,
    MessageHandler,
    MessageStatusHandler,
)
from pywa_async.types.callback import (
    Button,
    CallbackButton,
    CallbackSelection,
    Section,
    SectionList,
    SectionRow,
)
from pywa_async.types.message import Message
from pywa_async.types.message_status import MessageStatus
from pywa_async.types.templates import BodyText, QuickReplyButton, TemplateLanguage

from handlers.emulation.whatsapp import (
    Change,
    EmulatedGraphAPI,
    OutgoingMessage,
    WaUser,
    encode_body,
    sign,
)
from tests.web.serving import free_port

ADA = WaUser("393331112222", "Ada")
BEA = WaUser("393334445555", "Bea", bsuid="IT.12345678901234567")
CARLO = WaUser("393337778888", "Carlo")
VERIFY_TOKEN = "verify-me"
# pywa declares BodyText.params without `self`, which type checkers read as a method.
body_params: Any = BodyText.params


class GraphTransport(httpx.AsyncHTTPTransport):
    """Sends what pywa addresses to graph.facebook.com to the emulation instead: pywa sets that
    base URL on the session itself, so rewriting at the transport is the one way in."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.facebook.com":
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await super().handle_async_request(request)


@contextlib.asynccontextmanager
async def pywa_client(graph: EmulatedGraphAPI, token: str | None = None) -> AsyncIterator[WhatsApp]:
    """The real client, as the help desk builds it (no server of its own), on the emulation."""
    transport = GraphTransport(graph.port)
    async with httpx.AsyncClient(transport=transport, timeout=10) as session:
        yield WhatsApp(
            phone_id=graph.phone_id,
            token=token or graph.token,
            session=session,
            server=None,
            app_secret=graph.app_secret,
            verify_token=VERIFY_TOKEN,
            waba_id=graph.waba_id,
        )


class Receiver:
    """The bot's end of the webhook: pywa checks each signature and parses each update."""

    def __init__(self, wa: WhatsApp) -> None:
        self.wa = wa
        self.updates: list[Any] = []
        self.answers: list[int] = []  # statuses to answer with before handling normally
        self.delay = 0.0
        self.in_flight = 0
        self.most_in_flight = 0
        wa.add_handlers(
            MessageHandler(self._got),
            CallbackButtonHandler(self._got),
            CallbackSelectionHandler(self._got),
            MessageStatusHandler(self._got),
        )

    async def _got(self, _: Any, update: Any) -> None:
        self.updates.append(update)

    async def post(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.answers:
                return web.Response(status=self.answers.pop(0))
            signature = request.headers.get("X-Hub-Signature-256")
            refused = await self.wa.webhook_update_validator(body, signature)
            if refused is not None:
                return web.Response(text=refused[0], status=refused[1])
            text, status = await self.wa.webhook_update_handler(body)
            return web.Response(text=text, status=status)
        finally:
            self.in_flight -= 1

    async def get(self, request: web.Request) -> web.Response:
        challenge, status = await self.wa.webhook_challenge_handler(
            request.query.get("hub.verify_token"), request.query.get("hub.challenge")
        )
        return web.Response(text=challenge or "", status=status)

    def of(self, kind: type[Any]) -> list[Any]:
        return [u for u in self.updates if type(u) is kind]


async def until(check: Callable[[], object], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def wa(graph: EmulatedGraphAPI) -> AsyncIterator[WhatsApp]:
    async with pywa_client(graph) as client:
        yield client


@pytest.fixture
async def receiver(graph: EmulatedGraphAPI, wa: WhatsApp) -> AsyncIterator[Receiver]:
    bot = Receiver(wa)
    app = web.Application()
    app.router.add_post("/webhook", bot.post)
    app.router.add_get("/webhook", bot.get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    graph.webhook_url = f"http://127.0.0.1:{port}/webhook"
    yield bot
    await runner.cleanup()


async def refused(call: Any) -> WhatsAppError:
    with pytest.raises(WhatsAppError) as caught:
        await call
    return caught.value


# ---- sending ---------------------------------------------------------------------------------


async def test_text_is_answered_and_recorded_as_graph_does(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.push_text(ADA, "ciao")
    sent = await wa.send_message("+39 333 111 2222", "Hello Ada")
    assert sent.input == "+39 333 111 2222"
    assert sent.chat.id == ADA.wa_id
    assert sent.id.startswith("wamid.")
    msg = await graph.next_message(ADA)
    assert (msg.id, msg.to, msg.type, msg.text) == (sent.id, ADA.wa_id, "text", "Hello Ada")
    assert msg.payload["text"] == {"body": "Hello Ada", "preview_url": False}
    assert msg.statuses == ["sent", "delivered"]
    await graph.assert_no_message(ADA, within=0.05)
    call = await graph.wait_for_call("messages")
    assert call.path == f"/v26.0/{graph.phone_id}/messages"
    assert call.response == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+39 333 111 2222", "wa_id": ADA.wa_id}],
        "messages": [{"id": sent.id}],
    }


async def test_a_reply_by_bsuid_reaches_the_same_person(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.push_text(BEA, "ciao")
    sent = await wa.send_message(BEA.user_id, "Hello Bea")
    assert sent.chat.id == "IT.12345678901234567"
    assert (await graph.next_message(BEA.wa_id)).text == "Hello Bea"
    call = await graph.wait_for_call("messages")
    assert call.response is not None
    assert call.response["contacts"] == [{"input": BEA.user_id, "user_id": BEA.user_id}]


async def test_reply_buttons_and_a_list_show_their_ids_and_titles(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.push_text(ADA, "ciao")
    await wa.send_message(
        ADA.wa_id,
        "Need anything?",
        header="Sportello",
        footer="Reply below",
        buttons=[Button("Yes", "yes"), Button("No thanks", "no")],
    )
    menu = SectionList(
        "Choose",
        [
            Section(
                "Help", [SectionRow("Groceries", "g", "We bring them"), SectionRow("Ride", "r")]
            ),
            Section("Other", [SectionRow("Talk", "t")]),
        ],
    )
    await wa.send_message(ADA.wa_id, "What do you need?", buttons=menu)
    buttons, listed = await graph.next_message(ADA), await graph.next_message(ADA)
    assert buttons.interactive == "button"
    assert (buttons.text, buttons.header, buttons.footer) == (
        "Need anything?",
        "Sportello",
        "Reply below",
    )
    assert buttons.buttons == (("yes", "Yes"), ("no", "No thanks"))
    assert (listed.interactive, listed.list_button) == ("list", "Choose")
    assert listed.button_ids == ["g", "r", "t"]


async def test_a_document_uploaded_and_sent_can_be_downloaded(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.push_text(ADA, "the form, please")
    await wa.send_document(ADA.wa_id, b"%PDF-1.4 form", filename="form.pdf", caption="Here")
    msg = await graph.next_message(ADA)
    assert (msg.type, msg.text, msg.filename) == ("document", "Here", "form.pdf")
    assert msg.media_id is not None
    assert graph.file(msg.media_id) == ("form.pdf", "application/pdf", b"%PDF-1.4 form")

    media = await wa.get_media_url(msg.media_id)
    assert (media.mime_type, media.file_size) == ("application/pdf", 13)
    assert media.url.startswith(graph.base_url)
    assert await wa.get_media_bytes(media.url) == b"%PDF-1.4 form"
    async with aiohttp.ClientSession() as http, http.get(media.url) as anonymous:
        assert anonymous.status == 401  # the download needs the token too
    assert (await wa.delete_media(msg.media_id)).success
    assert (await refused(wa.get_media_url(msg.media_id))).code == 100


async def test_a_template_goes_out_any_time_with_its_parameters(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.register_template("case_update", "it", 2, body="Ciao {{1}}, la richiesta {{2}} è chiusa")
    sent = await wa.send_template(
        CARLO.wa_id,
        "case_update",
        TemplateLanguage.ITALIAN,
        params=[body_params("Carlo", "SP-7")],
    )
    assert sent.status is not None and sent.status.value == "accepted"
    msg = await graph.next_message(CARLO)
    assert (msg.type, msg.text) == ("template", "Ciao Carlo, la richiesta SP-7 è chiusa")
    assert msg.statuses == ["sent", "delivered"]


async def test_a_templates_quick_replies_carry_the_payloads_the_message_set(
    graph: EmulatedGraphAPI, wa: WhatsApp, receiver: Receiver
) -> None:
    graph.register_template(
        "reminder", "it", 1, body="Promemoria: {{1}}", quick_replies=("Vengo", "Non posso")
    )
    await wa.send_template(
        ADA.wa_id,
        "reminder",
        TemplateLanguage.ITALIAN,
        params=[
            body_params("Teatro, lunedì 16:30"),
            QuickReplyButton.params(callback_data="rsvp:yes", index=0),
            QuickReplyButton.params(callback_data="rsvp:no", index=1),
        ],
    )
    reminder = await graph.next_message(ADA)
    assert reminder.text == "Promemoria: Teatro, lunedì 16:30"
    assert reminder.buttons == (("rsvp:yes", "Vengo"), ("rsvp:no", "Non posso"))
    with pytest.raises(AssertionError, match="not a quick reply"):
        graph.push_quick_reply(ADA, reminder, "rsvp:maybe")
    graph.push_quick_reply(ADA, reminder, "rsvp:no")
    await graph.wait_delivered()
    [tapped] = receiver.of(CallbackButton)
    assert (tapped.data, tapped.title) == ("rsvp:no", "Non posso")


@pytest.mark.parametrize(
    ("value", "code"),
    [("two\nlines", 132018), ("a\ttab", 132018), ("wide     gap", 132018), ("x" * 1100, 132005)],
)
async def test_a_template_parameter_follows_metas_rules(
    graph: EmulatedGraphAPI, wa: WhatsApp, value: str, code: int
) -> None:
    graph.register_template("notice", "it", 1, body="Avviso: {{1}}")
    error = await refused(
        wa.send_template(ADA.wa_id, "notice", TemplateLanguage.ITALIAN, params=[body_params(value)])
    )
    assert error.code == code
    assert graph.sent == []


async def test_media_places_and_reactions_are_recorded(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    asked = graph.push_text(ADA, "ciao")
    await wa.send_image(ADA.wa_id, b"\xff\xd8 photo", caption="the map", mime_type="image/jpeg")
    await wa.send_voice(ADA.wa_id, b"OggS answer", mime_type="audio/ogg")
    await wa.send_sticker(ADA.wa_id, b"RIFF sticker", mime_type="image/webp")
    await wa.send_location(ADA.wa_id, 45.46, 9.19, name="Sportello", address="Via Roma 1")
    await wa.send_reaction(ADA.wa_id, "👍", asked)
    kinds = [(m.type, m.text) for m in graph.chats[ADA.wa_id]]
    assert kinds == [
        ("image", "the map"),
        ("audio", None),
        ("sticker", None),
        ("location", "Sportello"),
        ("reaction", "👍"),
    ]
    image, voice = graph.chats[ADA.wa_id][:2]
    assert image.media_id is not None and voice.media_id is not None
    assert graph.file(image.media_id) == ("image.jpg", "image/jpeg", b"\xff\xd8 photo")
    assert voice.payload["audio"]["voice"] is True

    unsupported = wa.send_document(
        ADA.wa_id, b"MZ", filename="x.exe", mime_type="application/x-exe"
    )
    assert "Param file must be a file" in (await refused(unsupported)).message


# ---- WhatsApp's limits -----------------------------------------------------------------------


def _rows(n: int) -> SectionList:
    return SectionList(
        "Choose", [Section("All", [SectionRow(f"Row {i}", f"r{i}") for i in range(n)])]
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "details"),
    [
        ({"text": "x" * 4096}, None, None),
        ({"text": "x" * 4097}, 100, None),
        ({"buttons": [Button(f"B{i}", f"b{i}") for i in range(4)]}, 131009, "buttons count"),
        ({"buttons": [Button("x" * 21, "b")]}, 131009, "Button title length invalid"),
        ({"buttons": [Button("A", "same"), Button("B", "same")]}, 131009, "Duplicate"),
        ({"buttons": [Button("A", "x" * 257)]}, 131009, "Button id length invalid"),
        ({"buttons": _rows(11)}, 131009, "Total row count exceed"),
        ({"buttons": _rows(10)}, None, None),
        ({"buttons": [Button("A", "a")], "text": "x" * 1025}, 100, None),
        ({"buttons": [Button("A", "a")], "header": "h" * 61}, 100, None),
        ({"buttons": SectionList("x" * 21, [Section("S", [SectionRow("R", "r")])])}, 100, None),
        ({"buttons": SectionList("Go", [Section("S", [SectionRow("x" * 25, "r")])])}, 131009, None),
        (
            {"buttons": SectionList("Go", [Section("S", [SectionRow("R", "r", "d" * 73)])])},
            131009,
            "Row description",
        ),
    ],
)
async def test_limits_are_refused_with_graphs_codes(
    graph: EmulatedGraphAPI,
    wa: WhatsApp,
    kwargs: dict[str, Any],
    code: int | None,
    details: str | None,
) -> None:
    graph.push_text(ADA, "ciao")
    send = wa.send_message(ADA.wa_id, **({"text": "Pick one"} | kwargs))
    if code is None:
        await send
        assert len(graph.sent) == 1
        return
    error = await refused(send)
    assert error.code == code
    assert error.status_code == 400
    assert details is None or details in str(error.details)
    assert graph.sent == []
    call = await graph.wait_for_call("messages")
    assert call.response is not None
    assert call.response["error"]["type"] == "OAuthException"
    assert call.response["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert call.response["error"]["message"].startswith(f"(#{code}) ")


async def test_templates_must_be_registered_with_that_many_parameters(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.register_template("reminder", "it", 1)
    unknown = await refused(wa.send_template(ADA.wa_id, "nope", TemplateLanguage.ITALIAN))
    assert unknown.code == 132001
    language = await refused(
        wa.send_template(ADA.wa_id, "reminder", TemplateLanguage.ENGLISH_US, params=[])
    )
    assert language.code == 132001
    count = await refused(
        wa.send_template(ADA.wa_id, "reminder", TemplateLanguage.ITALIAN, params=[])
    )
    assert count.code == 132000
    assert graph.sent == []


async def test_outside_the_window_a_free_form_message_fails_by_webhook(
    graph: EmulatedGraphAPI, wa: WhatsApp, receiver: Receiver
) -> None:
    sent = await wa.send_message(ADA.wa_id, "Are you still there?")  # Meta accepts it...
    msg = await graph.next_message(ADA)
    assert (msg.statuses, msg.error) == (["failed"], 131047)
    await until(lambda: receiver.of(MessageStatus))
    [status] = receiver.of(MessageStatus)  # ...and reports the failure in a status
    assert (status.id, status.status.value, status.error.code) == (sent.id, "failed", 131047)

    graph.window_error = "response"
    assert (await refused(wa.send_message(ADA.wa_id, "Hello?"))).code == 131047


async def test_the_window_closes_24_hours_after_the_persons_last_message() -> None:
    now = [1_700_000_000.0]
    graph = EmulatedGraphAPI(clock=lambda: now[0])
    async with graph, pywa_client(graph) as client:
        graph.push_text(ADA, "ciao")
        now[0] += 24 * 3600 - 1
        await client.send_message(ADA.wa_id, "Still in time")
        now[0] += 2
        await client.send_message(ADA.wa_id, "Too late")
        graph.register_template("reopen", "it")
        await client.send_template(ADA.wa_id, "reopen", TemplateLanguage.ITALIAN)
        assert [m.status for m in graph.chats[ADA.wa_id]] == ["delivered", "failed", "delivered"]
        assert graph.chats[ADA.wa_id][0].timestamp == 1_700_000_000 + 24 * 3600 - 1


async def test_throughput_over_per_second_is_refused_with_130429() -> None:
    async with EmulatedGraphAPI(per_second=2) as graph, pywa_client(graph) as wa:
        for user in (ADA, BEA, CARLO):
            graph.push_text(user, "ciao")
        results = await asyncio.gather(
            *(wa.send_message(u.wa_id, "hi") for u in (ADA, BEA, CARLO)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, WhatsAppError)]
        assert [e.code for e in errors] == [130429]
        assert graph.rejected_rate == 1
        assert len(graph.sent) == 2


async def test_a_burst_to_one_person_hits_the_pair_rate_limit() -> None:
    async with EmulatedGraphAPI(pair_burst=2, pair_seconds=60) as graph, pywa_client(graph) as wa:
        graph.push_text(ADA, "ciao")
        graph.push_text(BEA, "ciao")
        await wa.send_message(ADA.wa_id, "one")
        await wa.send_message(ADA.wa_id, "two")
        assert (await refused(wa.send_message(ADA.wa_id, "three"))).code == 131056
        await wa.send_message(BEA.wa_id, "another person is another pair")
        assert graph.rejected_pair == 1
        assert [m.text for m in graph.chats[ADA.wa_id]] == ["one", "two"]


async def test_injected_failures_and_bad_requests_answer_as_graph(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    graph.push_text(ADA, "ciao")
    graph.fail_next("messages", 500)
    graph.fail_next("messages", 130429)
    server_error = await refused(wa.send_message(ADA.wa_id, "one"))
    assert (server_error.code, server_error.status_code) == (131000, 500)
    assert (await refused(wa.send_message(ADA.wa_id, "two"))).code == 130429
    await wa.send_message(ADA.wa_id, "three")
    assert [m.text for m in graph.sent] == ["three"]

    async with pywa_client(graph, token="WRONG") as intruder:
        unauthorized = await refused(intruder.send_message(ADA.wa_id, "hi"))
    assert (unauthorized.code, unauthorized.status_code) == (190, 401)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {graph.token}"}) as http:
        async with http.get(f"{graph.base_url}/v26.0/{graph.phone_id}/nothing") as got:
            assert got.status == 400
            assert (await got.json())["error"]["type"] == "GraphMethodException"
        async with http.get(f"{graph.base_url}/nowhere") as got:
            assert got.status == 404
    assert [c.kind for c in graph.calls[-2:]] == ["unknown", "unknown"]
    assert "/nowhere" in graph.dump()


# ---- the people's side: webhooks -------------------------------------------------------------


async def test_signed_messages_are_parsed_by_pywa(
    graph: EmulatedGraphAPI, wa: WhatsApp, receiver: Receiver
) -> None:
    text_id = graph.push_text(ADA, "Ho bisogno di aiuto")
    await graph.wait_delivered()
    [message] = receiver.of(Message)
    assert (message.id, message.text) == (text_id, "Ho bisogno di aiuto")
    assert (message.from_user.wa_id, message.from_user.name) == (ADA.wa_id, "Ada")
    assert message.from_user.bsuid == ADA.user_id
    assert message.metadata.phone_number_id == graph.phone_id

    await wa.send_message(ADA.wa_id, "Which one?", buttons=[Button("Food", "food")])
    question = await graph.next_message(ADA)
    with pytest.raises(AssertionError, match="not a reply button"):
        graph.push_button_reply(ADA, question, "rent")
    graph.push_button_reply(ADA, question, "food")
    await wa.send_message(
        ADA.wa_id, "When?", buttons=SectionList("Pick", [Section("Days", [SectionRow("Mon", "1")])])
    )
    days = await graph.next_message(ADA)
    graph.push_list_reply(ADA, days, "1")
    graph.push_text(ADA, "this one", reply_to=question.id)
    await graph.wait_delivered()

    [button] = receiver.of(CallbackButton)
    assert (button.data, button.title, button.reply_to_message.id) == ("food", "Food", question.id)
    [selection] = receiver.of(CallbackSelection)
    assert (selection.data, selection.title, selection.reply_to_message.id) == ("1", "Mon", days.id)
    quoting = receiver.of(Message)[-1]
    assert quoting.reply_to_message is not None and quoting.reply_to_message.id == question.id


async def test_media_and_places_people_send_are_parsed_and_downloadable(
    graph: EmulatedGraphAPI, wa: WhatsApp, receiver: Receiver
) -> None:
    graph.push_voice(ADA, b"OggS voice")
    graph.push_image(ADA, b"\xff\xd8 photo", caption="the leak")
    graph.push_document(ADA, b"%PDF bill", "bill.pdf", caption="my bill")
    graph.push_location(ADA, 45.46, 9.19)
    graph.push_sticker(ADA)
    await graph.wait_delivered()
    voice, image, document, location, sticker = receiver.of(Message)
    assert voice.audio is not None and voice.audio.voice
    assert await voice.audio.get_bytes() == b"OggS voice"
    assert image.image is not None and image.caption == "the leak"
    assert await image.image.get_bytes() == b"\xff\xd8 photo"
    assert document.document is not None and document.document.filename == "bill.pdf"
    assert graph.file(document.document.id) == ("bill.pdf", "application/pdf", b"%PDF bill")
    assert location.location is not None
    assert (location.location.latitude, location.location.longitude) == (45.46, 9.19)
    assert sticker.sticker is not None and not sticker.sticker.animated


async def test_forged_unsigned_and_malformed_posts_are_refused_by_pywa(
    graph: EmulatedGraphAPI, receiver: Receiver
) -> None:
    body = encode_body({"object": "whatsapp_business_account", "entry": []})
    assert await graph.push_raw(body, "sha256=" + "0" * 64) == 403
    assert await graph.push_raw(body, None) == 401
    assert await graph.push_raw(b"{not json", sign(b"{not json", graph.app_secret)) == 400
    assert receiver.updates == []


async def test_bodies_are_signed_over_metas_escaped_bytes(
    graph: EmulatedGraphAPI, receiver: Receiver
) -> None:
    seen: list[bytes] = []

    async def capture(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(body)
        assert request.headers["X-Hub-Signature-256"] == sign(body, graph.app_secret)
        return await receiver.post(request)

    app = web.Application()
    app.router.add_post("/capture", capture)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    graph.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/capture"
    graph.push_image(ADA, b"img", caption="perché ✓")
    await graph.wait_delivered()
    await runner.cleanup()
    [body] = seen
    assert b"perch\\u00e9 \\u2713" in body and b"http:\\/\\/127.0.0.1" in body
    assert json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["image"][
        "caption"
    ] == ("perché ✓")
    assert receiver.of(Message)[0].caption == "perché ✓"


async def test_statuses_reach_the_webhook_as_pywa_reads_them(
    graph: EmulatedGraphAPI, wa: WhatsApp, receiver: Receiver
) -> None:
    graph.push_text(ADA, "ciao")
    sent = await wa.send_message(ADA.wa_id, "Hello", tracker="case-7")
    await graph.wait_delivered()  # two people's posts go side by side: keep this one first
    graph.undeliverable(CARLO.wa_id)
    graph.register_template("hello", "it")
    lost = await wa.send_template(CARLO.wa_id, "hello", TemplateLanguage.ITALIAN)
    await graph.wait_delivered()
    assert graph.read_by(ADA.wa_id) == [sent.id]
    await graph.wait_delivered()

    statuses = [(s.id, s.status.value) for s in receiver.of(MessageStatus)]
    assert statuses == [
        (sent.id, "sent"),
        (sent.id, "delivered"),
        (lost.id, "failed"),
        (sent.id, "read"),
    ]
    delivered = receiver.of(MessageStatus)[1]
    assert delivered.from_user.wa_id == ADA.wa_id and delivered.from_user.bsuid == ADA.user_id
    assert delivered.pricing is not None and delivered.pricing.category.value == "service"
    assert delivered.tracker == "case-7"
    failed = receiver.of(MessageStatus)[2]
    assert failed.error is not None and failed.error.code == 131026
    assert failed.from_user.bsuid is None  # no WhatsApp user behind that number
    assert graph.message(lost.id) is not None and graph.chats[CARLO.wa_id][0].error == 131026

    graph.send_statuses = False
    await wa.send_message(ADA.wa_id, "quiet")
    await graph.wait_delivered()
    assert len(receiver.of(MessageStatus)) == 4


async def test_a_refused_post_is_retried_and_redelivery_is_the_same_bytes(
    graph: EmulatedGraphAPI, receiver: Receiver
) -> None:
    receiver.answers = [500, 502]
    message_id = graph.push_text(ADA, "ciao")
    await graph.wait_delivered()
    assert graph.webhook_calls == [(message_id, 500), (message_id, 502), (message_id, 200)]
    assert len(receiver.of(Message)) == 1

    graph.redeliver(message_id)
    await graph.wait_delivered()
    assert graph.webhook_calls[-1] == (message_id, 200)
    assert len(receiver.of(Message)) == 1  # pywa recognised the same update


async def test_an_unreachable_webhook_is_retried_until_it_answers(
    graph: EmulatedGraphAPI,
) -> None:
    graph.webhook_url = f"http://127.0.0.1:{free_port()}/webhook"
    message_id = graph.push_text(ADA, "ciao")
    await until(lambda: len(graph.webhook_calls) >= 2)
    assert graph.webhook_calls[:2] == [(message_id, 0), (message_id, 0)]
    with pytest.raises(AssertionError, match="not delivered"):
        await graph.wait_delivered(timeout=0.05)


async def test_each_persons_messages_arrive_in_order_people_side_by_side(
    graph: EmulatedGraphAPI, receiver: Receiver
) -> None:
    receiver.delay = 0.03
    receiver.answers = [503]  # the first post fails: order must hold across the retry
    for i in range(4):
        for user in (ADA, BEA, CARLO):
            graph.push_text(user, f"{user.name} {i}")
    await graph.wait_delivered()
    for user in (ADA, BEA, CARLO):
        texts = [m.text for m in receiver.of(Message) if m.from_user.wa_id == user.wa_id]
        assert texts == [f"{user.name} {i}" for i in range(4)]
    assert receiver.most_in_flight > 1


async def test_verify_performs_metas_handshake(graph: EmulatedGraphAPI, receiver: Receiver) -> None:
    assert await graph.verify(graph.webhook_url, VERIFY_TOKEN)
    assert not await graph.verify(graph.webhook_url, "wrong token")


# ---- what the demo's page follows ------------------------------------------------------------


async def test_watchers_and_history_follow_the_conversation(
    graph: EmulatedGraphAPI, wa: WhatsApp
) -> None:
    seen: list[Change] = []
    stop = graph.watch(seen.append)
    inbound = graph.push_text(ADA, "ciao")
    await wa.mark_message_as_read(inbound)
    await wa.indicate_typing(inbound)
    sent = await wa.send_message(ADA.wa_id, "Hello")
    graph.read_by(ADA.wa_id)
    stop()
    graph.push_text(ADA, "unseen by the watcher")
    assert seen == [
        Change("message", ADA.wa_id, inbound),
        Change("read", ADA.wa_id, inbound),
        Change("read", ADA.wa_id, inbound),
        Change("typing", ADA.wa_id, inbound),
        Change("message", ADA.wa_id, sent.id),
        Change("status", ADA.wa_id, sent.id, "sent"),
        Change("status", ADA.wa_id, sent.id, "delivered"),
        Change("status", ADA.wa_id, sent.id, "read"),
    ]
    first, second, third = graph.history(ADA.wa_id)
    assert (first["id"], first["from"], first["text"]) == (inbound, ADA.wa_id, {"body": "ciao"})
    assert (second["id"], second["type"], second["status"]) == (sent.id, "text", "read")
    assert second["text"]["body"] == "Hello"
    assert third["text"] == {"body": "unseen by the watcher"}
    assert graph.wa_ids() == [ADA.wa_id]
    assert inbound in graph.read_by_bot


async def test_a_message_record_reads_as_the_person_sees_it() -> None:
    msg = OutgoingMessage("wamid.x", ADA.wa_id, "interactive", {}, buttons=(("a", "A"),))
    assert (msg.status, msg.button_ids) == ("accepted", ["a"])
