"""Generated requests against the demo page's endpoints: whatever the page (or anyone on the
machine) posts, the answer is a result or a line saying what was wrong, never a server error,
and the help desk behind it keeps working."""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.serving import Demo

ENDPOINTS = ("residents", "send", "press", "read", "clock", "upload")
KEYS = ("as", "channel", "chat", "country", "data", "language", "message", "name", "reply_to",
        "step", "text")  # fmt: skip
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
likely = st.one_of(
    st.sampled_from(("wa:201005550101", "tg:910001", "910001", "-1001000000001", "hour", "it")),
    st.integers(min_value=-(2**70), max_value=2**70),
)


@settings(
    max_examples=int(os.environ.get("FUZZ_BODIES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    body=st.one_of(
        st.dictionaries(st.sampled_from(KEYS), st.one_of(likely, values), max_size=6),
        values,
    ),
)
async def test_the_demo_answers_any_request_without_a_server_error(
    endpoint: str, body: Any, demo: Demo
) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{demo.url}/demo/{endpoint}", json=body) as response,
    ):
        assert response.status < 500, await response.text()
