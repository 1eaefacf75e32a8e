"""The dashboard as a part of ``network-hub run``: uvicorn served inside the service's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn

from network_hub.hub import Hub
from network_hub.web.app import create_app

log = logging.getLogger(__name__)


class WebComponent:
    name = "web"

    def __init__(self, hub: Hub, *, host: str | None = None, port: int | None = None) -> None:
        self.hub = hub
        self.host = host or hub.settings.web_host
        self.port = port if port is not None else hub.settings.web_port
        config = uvicorn.Config(create_app(hub), host=self.host, port=self.port, log_level="warning",
                                # log_config=None: uvicorn's records reach the hub's redacting root handler
                                log_config=None, access_log=False, lifespan="off", proxy_headers=False)
        self.server = uvicorn.Server(config)
        # The service owns SIGTERM/SIGINT; uvicorn must not install its own handlers.
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(), name="web")
        while not self.server.started:
            if self._task.done():  # e.g. the port is taken: surface uvicorn's error now
                self._task.result()
                raise RuntimeError(f"the web dashboard could not listen on {self.host}:{self.port}")
            await asyncio.sleep(0.05)
        log.info("web dashboard listening on http://%s:%s/", self.host, self.port)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
