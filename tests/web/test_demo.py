"""`helpdesk demo`: the real help desk on the emulated Bot API, seeded, behind the page's calls.

Each test runs the demo's app as the command does (build_demo on a seeded SQLite file, served by
uvicorn) and acts through the page's endpoints, as the page does.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import func, select

from bot import cli
from bot.config import ConfigError
from bot.demo import seed
from db.models import Resident
from db.session import create_engine, session_factory
from tests.transcript import said
from tests.web.serving import Demo, free_port, next_event, prepared

MARCO, SARA = seed.VOLUNTEERS[0].user_id, seed.VOLUNTEERS[1].user_id
ROSA = seed.RESIDENTS[1].user_id


async def test_the_demo_starts_with_its_people_groups_and_the_card_waiting(demo: Demo) -> None:
    world = await demo.get("/demo/world", lang="en")
    roles = {(p["name"], p["role"]) for p in world["people"]}
    assert {("Giulia", "organiser"), ("Marco", "volunteer"), ("Amina", "resident")} <= roles
    groups = [c["title"] for c in world["chats"] if c["kind"] == "group"]
    assert groups == ["Sportello casa", "Spesa solidale"]
    assert world["strings"]["plus_hour"] == "+1 hour" and world["direction"] == "ltr"
    card = await demo.reads(seed.FOOD_GROUP, "SP-00001")
    assert card.reply_markup is not None
    assert demo.telegram.webhook_url == f"{demo.url}/telegram"


async def test_the_page_follows_each_change_live(demo: Demo) -> None:
    """The events: a snapshot of every chat first, then each message as it comes."""
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{demo.url}/demo/events", params={"lang": "it"}) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        snapshot = await next_event(stream)
        assert snapshot["type"] == "snapshot" and snapshot["world"]["language"] == "it"
        [card] = snapshot["chats"][str(seed.FOOD_GROUP)]
        assert "SP-00001" in card["text"] and card["reply_markup"]["inline_keyboard"]
        await demo.says(ROSA, "/status")
        mine = await next_event(stream)
        assert mine["type"] == "message" and mine["message"]["text"] == "/status"
        answer = await next_event(stream)
        assert answer["chat"] == ROSA and answer["message"]["from"]["is_bot"]


async def test_a_new_resident_asks_for_food_and_a_volunteer_takes_it(demo: Demo) -> None:
    status, made = await demo.call("/demo/residents", {"name": "Nour", "language": "ar"})
    assert status == 200 and made["person"]["language"] == "ar"
    nour = made["person"]["id"]
    await demo.says(nour, "/start")
    picker = await demo.reads(nour, said("ar", "Hello! Which language do you want to use?"))
    await demo.taps(nour, "العربية", picker)
    notice = await demo.reads(nour, said("ar", "Do you agree?"))
    await demo.taps(nour, said("ar", "Yes, I agree"), notice)
    menu = await demo.reads(nour, said("ar", "What do you need help with?"))
    await demo.taps(nour, said("ar", "Food aid"), menu)
    await demo.reads_until(nour, "1 من 5")
    await demo.says(nour, "2")  # people in the household
    await demo.reads_until(nour, "2 من 5")
    await demo.says(nour, "0")  # children
    diet = await demo.reads_until(nour, "3 من 5")
    before = len(demo.telegram.calls)
    await demo.taps(nour, "1.", diet)  # halal, ticked: the keyboard changes
    await demo.telegram.wait_for_call("editMessageText", after=before)
    await demo.taps(nour, said("ar", "Done ✓"), diet)
    await demo.reads_until(nour, "4 من 5")
    await demo.says(nour, "1")  # the district
    await demo.reads_until(nour, "5 من 5")
    await demo.says(nour, "1")  # how soon
    summary = await demo.reads_until(nour, said("ar", "Is everything right?"))
    await demo.taps(nour, said("ar", "Confirm and send"), summary)
    await demo.reads(nour, "SP-00005")
    await demo.reads(seed.FOOD_GROUP, "SP-00001")  # the seeded card, posted at start
    card = await demo.reads(seed.FOOD_GROUP, "SP-00005")
    await demo.taps(MARCO, said("it", "Claim"), card, chat=seed.FOOD_GROUP)
    await demo.reads(MARCO, "SP-00005")


async def test_what_the_page_may_not_do_is_refused_in_its_language_and_changes_nothing(
    demo: Demo,
) -> None:
    pushed = len(demo.telegram.webhook_calls)
    card = await demo.reads(seed.FOOD_GROUP, "SP-00001")
    refused = [
        # Writing in someone else's private chat, or as nobody the demo knows.
        await demo.call("/demo/send", {"as": ROSA, "chat": MARCO, "text": "hi"}),
        await demo.call("/demo/send", {"as": 123, "chat": 123, "text": "hi"}),
        # A resident in a volunteers' group.
        await demo.call("/demo/send", {"as": ROSA, "chat": seed.FOOD_GROUP, "text": "hi"}),
        await demo.call("/demo/send", {"as": ROSA, "chat": ROSA, "text": "  "}),
        await demo.call("/demo/send", {"as": ROSA, "chat": ROSA, "text": "x" * 4097}),
        await demo.call("/demo/send", {"as": "9" * 40, "chat": ROSA, "text": "hi"}),
        await demo.call("/demo/send", b"not json"),
        # A button that is not on the card (forged), and a card that does not exist.
        await demo.call(
            "/demo/press",
            {"as": MARCO, "chat": seed.FOOD_GROUP, "message": card.message_id, "data": "x:1"},
        ),
        await demo.call(
            "/demo/press", {"as": MARCO, "chat": seed.FOOD_GROUP, "message": 999, "data": "x"}
        ),
        await demo.call("/demo/upload", b"", **{"as": ROSA, "chat": ROSA, "kind": "photo"}),
        await demo.call("/demo/clock", {"step": "year"}),
        await demo.call("/demo/residents", {"name": "   ", "language": "ar"}),
    ]
    assert [status for status, _ in refused] == [400] * len(refused)
    # In the page's language: the deployment's by default (Italian), or the one asked for.
    assert refused[0][1] == {"error": "Scegli chi scrive."}
    english = await demo.call("/demo/send", {"as": ROSA, "chat": ROSA, "text": ""}, lang="en")
    assert english == (400, {"error": "Write a message first."})
    await asyncio.sleep(0.2)
    assert len(demo.telegram.webhook_calls) == pushed
    world = await demo.get("/demo/world")
    residents = [p for p in world["people"] if p["role"] == "resident"]
    assert len(residents) == len(seed.RESIDENTS) + len(seed.WHATSAPP_RESIDENTS)


async def test_files_go_both_ways(demo: Demo) -> None:
    photo = b"\xff\xd8\xff\xe0" + bytes(2000)
    status, _ = await demo.call(
        "/demo/upload", photo, **{"as": ROSA, "chat": ROSA, "kind": "photo", "name": "a.jpg"}
    )
    assert status == 200
    await demo.says(ROSA, "/mydata")
    await demo.reads(ROSA)
    export = await demo.telegram.next_message(ROSA)
    while export.document is None:
        export = await demo.telegram.next_message(ROSA)
    assert export.file_id is not None
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{demo.url}/demo/files/{export.file_id}") as response,
    ):
        assert response.status == 200
        assert "attachment" in response.headers["content-disposition"]
        assert json.loads(await response.read()) == json.loads(export.document.data)
    [sent] = [m for m in demo.telegram.history(ROSA) if "photo" in m]
    assert demo.telegram.file(sent["photo"][-1]["file_id"]) is not None


async def test_the_clock_brings_the_escalation_and_the_reminders(demo: Demo) -> None:
    giulia = seed.ORGANISER.user_id
    await demo.reads(seed.FOOD_GROUP, "SP-00001")
    status, moved = await demo.call("/demo/clock", {"step": "day"}, lang="en")
    assert status == 200 and moved["said"].startswith("Moved forward to")
    # Nobody took Amina's request in a day: the organiser hears of it, the card is posted again.
    escalation = await demo.reads(giulia, "Nessun volontario ha preso queste richieste", "SP-00001")
    # Dated in the demo's time, as the page shows it.
    assert escalation.date >= time.time() + 23 * 3600
    status, moved = await demo.call("/demo/clock", {"step": "reminder"})
    assert status == 200
    # Amina, Rosa and John have places: the reminder of the first activity ahead reaches its own.
    signed_up = [r.user_id for r in seed.RESIDENTS[:3]]
    for _ in range(100):
        if any(demo.telegram.chats[chat] for chat in signed_up):
            break
        await asyncio.sleep(0.05)
    reminders = [m.text or "" for chat in signed_up for m in demo.telegram.chats[chat]]
    assert reminders, "no reminder reached the residents who signed up"


async def test_a_kept_database_is_seeded_once_and_its_residents_come_back(tmp_path: Path) -> None:
    settings = prepared(tmp_path)
    first = await cli._prepare_demo(settings)
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as session, session.begin():
        session.add(Resident(channel="telegram", channel_user_id="920001", language="ar"))
    await engine.dispose()
    again = await cli._prepare_demo(settings)
    assert sorted(again) == sorted([*first, seed.Known("telegram", "920001", "ar")])
    engine = create_engine(settings.database_url)
    async with session_factory(engine)() as session:
        residents = (await session.exec(select(func.count()).select_from(Resident))).one()
    await engine.dispose()
    assert residents == len(seed.RESIDENTS) + len(seed.WHATSAPP_RESIDENTS) + 1


def test_the_demo_says_so_when_its_port_is_taken() -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}.*--port"):
            cli._check_port("127.0.0.1", port)
