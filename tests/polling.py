"""Running a real PTB Application on long polling against the Bot API emulation, in a block."""

from __future__ import annotations

import contextlib
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from telegram.ext import Application

AppT = TypeVar("AppT", bound=Application[Any, Any, Any, Any, Any, Any])


@contextlib.asynccontextmanager
async def running(app: AppT, *, poll_timeout: float = 1.0) -> AsyncIterator[AppT]:
    """Run a PTB Application with long polling for the duration of the block, then tear down.

    The lifecycle hooks run where `Application.run_polling` runs them.
    """
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            assert app.updater is not None, "build the Application with an Updater"
            await app.updater.start_polling(
                poll_interval=0.0, timeout=dtm.timedelta(seconds=poll_timeout)
            )
            try:
                yield app
            finally:
                if app.updater.running:
                    await app.updater.stop()
        finally:
            if app.running:
                await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
