"""Reading a webhook's body as a stranger may send it: within a size, only if it says it is
JSON, and only if it is."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

MAX_BODY = 1024 * 1024  # Telegram's updates and Meta's notifications are a few kilobytes


def is_json(request: Request) -> bool:
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return declared == "application/json"


async def within(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The body, or None once it is longer than `limit` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def parsed(body: bytes) -> Any:
    """The body as JSON proper: ValueError for anything else, NaN and Infinity included
    (Python reads them, but they are not JSON and PostgreSQL refuses to store them)."""

    def refused(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(body, parse_constant=refused)
