"""Reading a webhook's body as a stranger may send it: within a size, and only if it says it
is JSON."""

from __future__ import annotations

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
