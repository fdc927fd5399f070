"""WhatsApp in `helpdesk demo`: residents on the emulated Graph API, whose messages reach the real
`/whatsapp` webhook signed as Meta signs them, behind the page's calls as the page makes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot import cli
from bot.app import build_demo
from bot.demo import seed
from db.models import Resident
from db.session import create_engine, session_factory
from handlers.web import demo_whatsapp
from tests.transcript import said
from tests.web.serving import Demo, free_port, next_event, prepared, uvicorn_serving

HODA, CARMEN = (f"wa:{person.number}" for person in seed.WHATSAPP_RESIDENTS)
MARCO, ROSA = seed.VOLUNTEERS[0].user_id, seed.RESIDENTS[1].user_id
NOT_ON_IT = "That button is not on this message."


def ar(message: str) -> str:
    return said("ar", message)


async def new_resident(demo: Demo, name: str, country: str) -> dict[str, Any]:
    status, made = await demo.call(
        "/demo/residents", {"name": name, "channel": "whatsapp", "country": country}
    )
    assert status == 200, made
    return dict(made["person"])


async def test_the_world_lists_the_whatsapp_residents_and_their_chats(demo: Demo) -> None:
    world = await demo.get("/demo/world", lang="en")
    assert world["channels"] == ["telegram", "whatsapp"]
    people = {p["id"]: p for p in world["people"]}
    assert people[HODA] | {"role": "resident"} == {
        "id": HODA,
        "name": "Hoda",
        "language": "ar",
        "role": "resident",
        "channel": "whatsapp",
        "number": "+20 1005550101",
    }
    assert people[MARCO]["channel"] == "telegram"
    chats = {c["id"]: c for c in world["chats"]}
    assert chats[CARMEN] == {
        "id": CARMEN,
        "channel": "whatsapp",
        "kind": "private",
        "title": "Carmen",
    }
    assert chats[ROSA]["channel"] == "telegram"  # Telegram's ids are unchanged
    assert {"code": "20", "name": "Egypt"} in world["countries"]
    # Meta's webhook is serve's own route, and the bot has the emulated number's templates.
    assert demo.graph.webhook_url == f"{demo.url}/whatsapp"
    assert ("demo_reminder", "ar") in demo.graph.templates


async def test_a_new_resident_with_an_egyptian_number_taps_buttons_and_list_rows(
    demo: Demo,
) -> None:
    salma = await new_resident(demo, "Salma", "20")
    chat = salma["id"]
    assert chat.startswith("wa:20") and salma["language"] == "ar"  # hinted by the number
    await demo.wa_says(chat, "/start")
    picker = await demo.wa_reads(chat, ar("Hello! Which language do you want to use?"))
    assert picker.interactive == "list"  # fourteen languages: a list of ten rows
    assert "✓ العربية" in [title for _, title in picker.buttons]
    await demo.wa_taps(chat, "العربية", picker)
    notice = await demo.wa_reads(chat, ar("Do you agree?"))
    await demo.wa_taps(chat, ar("Yes, I agree"), notice)
    menu = await demo.wa_reads(chat, ar("What do you need help with?"))
    await demo.wa_taps(chat, ar("Food aid"), menu)
    await demo.wa_reads(chat, "1 من 5")
    await demo.wa_says(chat, "2")
    await demo.wa_reads(chat, "2 من 5")
    await demo.wa_says(chat, "0")
    diet = await demo.wa_reads(chat, "3 من 5")
    assert diet.interactive == "list"
    await demo.wa_taps(chat, "حلال", diet)  # a row of the list
    ticked = await demo.wa_reads(chat, "3 من 5")
    assert any("☑" in title for _, title in ticked.buttons)
    # The row she picked shows in her chat as her answer.
    drawn = [m for m in drawn_chat(demo, chat) if m["from"] == "person"]
    assert drawn[-1]["type"] == "interactive" and "حلال" in drawn[-1]["text"]


def drawn_chat(demo: Demo, chat: str) -> list[dict[str, Any]]:
    """A WhatsApp conversation as the page draws it."""
    return demo_whatsapp.conversation(demo.graph, chat.removeprefix("wa:"))


async def test_only_a_button_or_row_on_that_message_can_be_tapped(demo: Demo) -> None:
    salma = (await new_resident(demo, "Salma", "20"))["id"]
    await demo.wa_says(salma, "/start")
    picker = await demo.wa_reads(salma, ar("Hello! Which language do you want to use?"))
    await demo.wa_says(HODA, "/start")
    hodas = await demo.wa_reads(HODA)
    [real, *_] = picker.button_ids
    pushed = len(demo.graph.incoming)
    refused = [
        # A forged button, and a real one of someone else's message.
        await demo.call(
            "/demo/press", {"as": salma, "chat": salma, "message": picker.id, "data": "x:1"}
        ),
        await demo.call(
            "/demo/press", {"as": HODA, "chat": HODA, "message": picker.id, "data": real}
        ),
        await demo.call(
            "/demo/press", {"as": salma, "chat": salma, "message": "wamid.NONE", "data": real}
        ),
        await demo.call(
            "/demo/press", {"as": salma, "chat": salma, "message": hodas.id, "data": real}
        ),
    ]
    assert refused == [(400, {"error": said("it", NOT_ON_IT)})] * len(refused)
    assert len(demo.graph.incoming) == pushed
    status, _ = await demo.call(
        "/demo/press", {"as": salma, "chat": salma, "message": picker.id, "data": real}
    )
    assert status == 200 and len(demo.graph.incoming) == pushed + 1


async def test_nobody_writes_in_someone_elses_whatsapp_chat(demo: Demo) -> None:
    await demo.wa_says(HODA, "hello")
    pushed = len(demo.graph.incoming)
    [hellos] = [m["id"] for m in demo.graph.history(HODA.removeprefix("wa:"))]
    refused = [
        await demo.call("/demo/send", {"as": HODA, "chat": CARMEN, "text": "hi"}),
        await demo.call("/demo/send", {"as": CARMEN, "chat": HODA, "text": "hi"}),
        await demo.call("/demo/send", {"as": MARCO, "chat": HODA, "text": "hi"}),
        await demo.call("/demo/send", {"as": "wa:391234567", "chat": "wa:391234567", "text": "x"}),
        await demo.call("/demo/send", {"as": "wa:x", "chat": "wa:x", "text": "hi"}),
        await demo.call("/demo/read", {"as": CARMEN, "chat": HODA}),
        await demo.call("/demo/read", {"as": ROSA, "chat": ROSA}),
        await demo.call("/demo/upload", b"\xff\xd8", **{"as": HODA, "chat": CARMEN}),
        # A quote of a message that is not in her conversation.
        await demo.call(
            "/demo/send", {"as": CARMEN, "chat": CARMEN, "text": "hi", "reply_to": hellos}
        ),
        await demo.call("/demo/residents", {"name": "Ana", "channel": "whatsapp", "country": "0"}),
        await demo.call("/demo/residents", {"name": "Ana", "channel": "signal"}),
    ]
    assert [status for status, _ in refused] == [400] * len(refused)
    english = await demo.call(
        "/demo/residents", {"name": "Ana", "channel": "whatsapp", "country": "999"}, lang="en"
    )
    assert english == (400, {"error": "Choose the country of the number."})
    assert len(demo.graph.incoming) == pushed
    world = await demo.get("/demo/world")
    assert "Ana" not in [p["name"] for p in world["people"]]


async def test_files_go_both_ways_on_whatsapp(demo: Demo) -> None:
    """Hoda (seeded: she consented before the demo began) sends a photo, a voice note and a
    document, and downloads what /mydata sends her."""
    number = HODA.removeprefix("wa:")
    photo = b"\xff\xd8\xff\xe0" + bytes(2000)
    for kind, name, data in (
        ("photo", "a.jpg", photo),
        ("voice", "voice.ogg", b"OggS\x00\x02" + bytes(100)),
        ("document", "lease.pdf", b"%PDF-1.4 " + bytes(100)),
    ):
        status, answer = await demo.call(
            "/demo/upload", data, **{"as": HODA, "chat": HODA, "kind": kind, "name": name}
        )
        assert status == 200, answer
    sent = demo.graph.history(number)
    assert [m["type"] for m in sent if "from" in m] == ["image", "audio", "document"]
    assert sent[-1]["document"]["filename"] == "lease.pdf"
    async with aiohttp.ClientSession() as client:
        media_id = sent[0]["image"]["id"]
        async with client.get(f"{demo.url}/demo/files/wa/{media_id}?inline=1") as response:
            assert response.status == 200 and await response.read() == photo
            assert "content-disposition" not in response.headers
    await demo.wa_says(HODA, "/mydata")
    export = await demo.graph.next_message(number)
    while export.type != "document":
        export = await demo.graph.next_message(number)
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{demo.url}/demo/files/wa/{export.media_id}") as response,
    ):
        assert response.status == 200
        assert "attachment" in response.headers["content-disposition"]
        assert '"phone": "+201005550101"' in (await response.read()).decode()
        async with client.get(f"{demo.url}/demo/files/wa/404") as missing:
            assert missing.status == 404


async def test_the_page_follows_a_whatsapp_chat_live_with_its_ticks(demo: Demo) -> None:
    """The snapshot holds the conversations; then each message comes, and each change of its
    ticks as an edit; the resident looking at the chat turns the bot's messages read."""
    await demo.wa_says(CARMEN, "/status")
    await demo.wa_reads(CARMEN, said("it", "What do you need help with?"))
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{demo.url}/demo/events") as stream,
    ):
        snapshot = await next_event(stream)
        mine, *answers = snapshot["chats"][CARMEN]
        assert (mine["from"], mine["text"], mine["seq"]) == ("person", "/status", 0)
        assert [(m["from"], m["status"]) for m in answers] == [("bot", "delivered")] * 2
        menu = answers[-1]
        assert menu["type"] == "interactive" and menu["buttons"][0]["id"] == "flow:housing"
        status, read = await demo.call("/demo/read", {"as": CARMEN, "chat": CARMEN})
        assert status == 200 and read["read"] == [m["message_id"] for m in answers]
        for answer in answers:
            edit = await next_event(stream)
            assert (edit["type"], edit["chat"]) == ("edit", CARMEN)
            assert edit["message"]["message_id"] == answer["message_id"]
            assert edit["message"]["status"] == "read"
        await demo.wa_says(CARMEN, "/help")
        written = await next_event(stream)
        assert written["type"] == "message" and written["message"]["text"] == "/help"
        assert written["message"]["seq"] == 3


async def test_out_of_the_window_the_reminder_comes_as_a_template(demo: Demo) -> None:
    """Hoda wrote a day ago: WhatsApp lets the help desk write to her only with a template; its
    quick replies answer the reminder."""
    await demo.wa_says(HODA, "/status")
    await demo.wa_reads(HODA, ar("What do you need help with?"))
    number = HODA.removeprefix("wa:")
    assert demo.graph.window_open(number)
    status, _ = await demo.call("/demo/clock", {"step": "day"})
    assert status == 200 and not demo.graph.window_open(number)
    status, _ = await demo.call("/demo/clock", {"step": "reminder"})
    assert status == 200
    reminder = await demo.graph.next_message(number, timeout=10)
    assert reminder.type == "template", reminder
    assert reminder.status != "failed" and len(reminder.buttons) == 2
    body = {"as": HODA, "chat": HODA, "message": reminder.id, "data": reminder.button_ids[0]}
    status, answer = await demo.call("/demo/press", body)
    assert status == 200, answer
    [drawn] = [m for m in drawn_chat(demo, HODA) if m["message_id"] == reminder.id]
    assert drawn["template"] == "demo_reminder" and len(drawn["buttons"]) == 2


async def test_a_kept_database_brings_its_whatsapp_residents_back(tmp_path: Path) -> None:
    """Those made on the page come back by their number (not their name, which the help desk
    does not keep); one whose number was erased cannot be written as any more."""
    settings = prepared(tmp_path)
    await cli._prepare_demo(settings)
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as session, session.begin():
        session.add(
            Resident(
                channel="whatsapp", channel_user_id="MA.123", language="ar", phone="+212655500001"
            )
        )
        session.add(Resident(channel="whatsapp", channel_user_id="MA.456", language="ar"))
    await engine.dispose()
    residents = await cli._prepare_demo(settings)
    assert seed.Known("whatsapp", "MA.123", "ar", "212655500001") in residents
    assert [known.user_id for known in residents].count("MA.456") == 0
    port = free_port()
    app = build_demo(settings, port, residents)
    async with uvicorn_serving(app, port):
        demo = Demo(f"http://127.0.0.1:{port}", app.state.world, tmp_path / "demo.db")
        people = {p["id"]: p["name"] for p in (await demo.get("/demo/world"))["people"]}
        assert people["wa:212655500001"] == "+212655500001" and people[HODA] == "Hoda"
        # She writes again with the id WhatsApp gave the help desk for her number before.
        assert demo.graph.users["212655500001"].user_id == "MA.123"
        await demo.wa_says("wa:212655500001", "/help")
        await demo.wa_reads("wa:212655500001", "/start")
