"""A city deployment on one machine: several `helpdesk serve` workers, each its own process as
deployed, on one PostgreSQL database, behind a reverse proxy (handlers.emulation.balancer) that
Telegram's and Meta's webhooks reach them through, with the Bot API and the Graph API emulated
in this process. What bench.scale measures and the tests of several workers run.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from db import migrate
from db.session import create_engine
from handlers.emulation.balancer import Balancer
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI

SECRET = "cluster-webhook-secret"
VERIFY = "cluster-verify-token"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
STARTS_WITHIN = 60.0  # seconds for a worker to answer /healthz (imports, migrations check)


class ClusterError(Exception):
    """A worker did not start, or the cluster did not settle."""


@asynccontextmanager
async def postgres_database(prefix: str = "helpdesk_cluster") -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database for the block, dropped after it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await migrate.upgrade(url)
        yield url
    finally:
        await admin(f'DROP DATABASE "{name}" WITH (FORCE)')


async def admin(statement: str) -> None:
    """A statement outside any transaction (CREATE DATABASE), on the server's own database."""
    engine = create_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@dataclass
class Worker:
    """One `helpdesk serve` process."""

    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.returncode is None


@dataclass
class Cluster:
    """Workers started with `start_worker`, all behind `balancer`, which `telegram` (and
    `graph`, when given) post their webhooks to."""

    folder: Path
    database_url: str
    telegram: EmulatedBotAPI
    graph: EmulatedGraphAPI | None = None
    config: str = ""  # the workers' helpdesk.toml
    balancer: Balancer = field(default_factory=Balancer)
    workers: list[Worker] = field(default_factory=list)

    @property
    def public_url(self) -> str:
        return self.balancer.base_url

    async def start(self) -> None:
        await self.balancer.start()
        (self.folder / "helpdesk.toml").write_text(self.config, encoding="utf-8")
        if self.graph is not None:
            self.graph.webhook_url = f"{self.public_url}/whatsapp"

    async def close(self) -> None:
        for worker in self.workers:
            if worker.alive():
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 15)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()
        await self.balancer.stop()

    def environment(self) -> dict[str, str]:
        keep = ("TELEGRAM_", "HELPDESK_", "WHATSAPP_", "DATABASE_URL", "PUBLIC_URL")
        env = {k: v for k, v in os.environ.items() if not k.startswith(keep)}
        env |= {
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_API_URL": self.telegram.base_url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_URL": self.public_url,
            "DATABASE_URL": self.database_url,
            "HELPDESK_CONFIG": str(self.folder / "helpdesk.toml"),
        }
        if self.graph is not None:
            env |= {
                "WHATSAPP_PHONE_ID": self.graph.phone_id,
                "WHATSAPP_TOKEN": self.graph.token,
                "WHATSAPP_APP_SECRET": self.graph.app_secret,
                "WHATSAPP_VERIFY_TOKEN": VERIFY,
                "WHATSAPP_API_URL": self.graph.base_url,
            }
        return env

    async def start_worker(self) -> Worker:
        """One more worker, behind the balancer once it answers /healthz."""
        port = free_port()
        log = self.folder / f"worker-{port}.log"
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot.cli", "serve", "--port", str(port)),
                env=self.environment(),
                cwd=self.folder,
                stdout=output,
                stderr=output,
            )
        worker = Worker(port, process, log)
        self.workers.append(worker)
        deadline = time.monotonic() + STARTS_WITHIN
        while await self.health(worker) is None:
            if not worker.alive() or time.monotonic() > deadline:
                raise ClusterError(f"worker on {port} did not start:\n{self.tail(worker)}")
            await asyncio.sleep(0.1)
        self.balancer.upstreams.append(worker.url)
        return worker

    async def health(self, worker: Worker) -> dict[str, Any] | None:
        """What the worker's /healthz says, or None when it does not answer."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client,
                client.get(f"{worker.url}/healthz") as answer,
            ):
                return dict(await answer.json()) if answer.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def leader(self, within: float = 30.0, besides: Worker | None = None) -> Worker:
        """The one live worker whose /healthz says it leads (waiting for one to), other than
        `besides` (one stopping, which may still say so)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            live = [w for w in self.workers if w.alive() and w is not besides]
            said = [await self.health(worker) for worker in live]
            leading = [w for w, h in zip(live, said, strict=True) if h and h["leader"]]
            if len(leading) > 1:
                raise ClusterError(f"{len(leading)} workers lead at once")
            if leading:
                return leading[0]
            await asyncio.sleep(0.1)
        raise ClusterError(f"no worker leads after {within} s")

    async def kill(self, worker: Worker) -> None:
        """SIGKILL: no clean stop, the lease left to lapse."""
        worker.process.send_signal(signal.SIGKILL)
        await worker.process.wait()

    def freeze(self, worker: Worker) -> None:
        """SIGSTOP: alive but doing nothing (a machine that stalls), until `thaw`."""
        worker.process.send_signal(signal.SIGSTOP)

    def thaw(self, worker: Worker) -> None:
        worker.process.send_signal(signal.SIGCONT)

    async def metrics(self, worker: Worker) -> str:
        async with aiohttp.ClientSession() as client, client.get(f"{worker.url}/metrics") as got:
            return await got.text()

    def tail(self, worker: Worker, lines: int = 30) -> str:
        return "\n".join(worker.log.read_text(errors="replace").splitlines()[-lines:])


@asynccontextmanager
async def cluster(
    folder: Path,
    database_url: str,
    telegram: EmulatedBotAPI,
    graph: EmulatedGraphAPI | None = None,
    config: str = "",
) -> AsyncIterator[Cluster]:
    """A cluster with no worker yet (see Cluster.start_worker), stopped after the block."""
    running = Cluster(folder, database_url, telegram, graph, config)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


async def until(
    check: Callable[[], bool], within: float, waiting_for: str, every: float = 0.05
) -> None:
    """Return once `check()` is true, looking `every` s; ClusterError after `within` s."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise ClusterError(f"no {waiting_for} after {within} s")
        await asyncio.sleep(every)


# Below the kernel's ephemeral ports (32768 and up on Linux): the emulations bind port 0 after
# a server's port is chosen, and the kernel could hand them that very port before the server
# binds it.
SERVER_PORTS = range(20_000, 32_000)


def free_port() -> int:
    """A port nothing listens on now, outside the range the kernel hands out for port 0."""
    for _ in range(100):
        port = random.choice(SERVER_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ClusterError("no free port")
