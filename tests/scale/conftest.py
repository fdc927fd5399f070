"""Several `helpdesk serve` workers in their own processes on the machine's PostgreSQL (see
bench.cluster); skipped where PostgreSQL is not reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.cluster import Cluster, cluster, postgres_database
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI
from tests.conftest import POSTGRES_REACHABLE
from tests.stories import FOOD_GROUP, HOUSING_GROUP, ORGANISER

pytestmark = pytest.mark.skipif(not POSTGRES_REACHABLE, reason="PostgreSQL is not reachable")

CONFIG = f"""
default_language = "en"
languages = ["it", "en", "ar"]
organisers = [{ORGANISER}]
quiet_hours = ""  # reminders due now, whatever the hour the tests run at

[queues.housing]
chat_id = {HOUSING_GROUP}

[queues.food]
chat_id = {FOOD_GROUP}
"""


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    if not POSTGRES_REACHABLE:
        pytest.skip("PostgreSQL is not reachable")
    async with postgres_database("helpdesk_workers") as url:
        yield url


@pytest.fixture
async def deployment(
    tmp_path: Path, postgres_url: str, telegram: EmulatedBotAPI, graph: EmulatedGraphAPI
) -> AsyncIterator[Cluster]:
    """The balancer on one database, Telegram and WhatsApp both, no worker started yet."""
    async with cluster(tmp_path, postgres_url, telegram, graph, CONFIG) as running:
        yield running


@pytest.fixture
async def workers(deployment: Cluster) -> AsyncIterator[Cluster]:
    """Two workers behind the balancer."""
    await deployment.start_worker()
    await deployment.start_worker()
    yield deployment
