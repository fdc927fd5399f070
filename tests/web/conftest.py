"""The demo, served as `helpdesk demo` serves it, for the tests of its endpoints and its page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import cli
from bot.app import build_demo
from tests.web.serving import Demo, free_port, prepared, uvicorn_serving


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    settings = prepared(tmp_path)
    residents = await cli._prepare_demo(settings)
    port = free_port()
    app = build_demo(settings, port, residents)
    async with uvicorn_serving(app, port):
        yield Demo(f"http://127.0.0.1:{port}", app.state.world, tmp_path / "demo.db")
