"""The bot's Telegram plumbing: its HTTP client, its update ordering, the real `helpdesk run`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from sqlmodel import select
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from db.models import Intake
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.telegram.request import AiohttpRequest
from tests.conftest import TOKEN, Bot
from tests.stories import consent_in_english
from tests.transcript import Person


async def test_an_unreachable_api_is_a_network_error() -> None:
    async with AiohttpRequest(connect_timeout=1) as request:
        with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError"):
            await request.do_request("http://127.0.0.1:9/bot1:x/getMe", "POST")


async def test_a_silent_api_is_a_timeout() -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", silent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with AiohttpRequest(read_timeout=0.2) as request:
            with pytest.raises(TimedOut):
                await request.do_request(
                    f"http://127.0.0.1:{port}/bot1:x/getMe", "POST", RequestData()
                )
    finally:
        await runner.cleanup()


async def test_two_quick_messages_from_one_resident_apply_in_order(
    telegram: EmulatedBotAPI, live_bot: Bot, sessions
) -> None:
    ada = Person(telegram, 4001, "en")
    await consent_in_english(ada)
    await ada.taps("Food aid")
    await ada.hears("How many people")
    ada.says("3")  # typed before the bot could answer the first
    ada.says("2")
    await ada.hears("children under 18")
    await ada.hears("How old are the children?")
    async with sessions() as session:
        intake = (await session.exec(select(Intake))).one()
    assert intake.answers == {"household": 3, "children": 2}


async def test_helpdesk_run_answers_a_resident_and_keeps_the_token_out_of_its_log(
    telegram: EmulatedBotAPI, tmp_path: Path
) -> None:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - the bot must run beside the fake, not block it
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ada = Person(telegram, 4002, "it")
        ada.says("/start")
        await ada.hears("Che lingua vuoi usare?")
        await ada.taps("Italiano")
        await ada.hears("Prima di iniziare")
    finally:
        process.send_signal(signal.SIGINT)
        log, _ = process.communicate(timeout=30)
    assert process.returncode == 0, log
    assert TOKEN not in log and "TEST-TOKEN" not in log
    assert (tmp_path / "desk.db").exists()
