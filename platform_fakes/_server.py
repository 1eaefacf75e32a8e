"""What both fakes share: an aiohttp server on 127.0.0.1 (random port), run either in the
caller's event loop (``async with``) or in a background thread with its own loop (sync tests,
other processes), plus the fault-injection plumbing (errors, latency, commit-then-drop)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Fault:
    """One scripted misbehaviour for the next ``times`` matching calls.

    ``kind``: ``error`` (answer with ``status`` and ``body``), ``drop`` (close the connection
    without doing anything), ``commit_then_drop`` (do the work, then close the connection without
    answering: the post exists but the client cannot know), ``html`` (an edge proxy's HTML page).
    """

    route: str  # a method name / route key, or "*" for any
    kind: str = "error"
    times: int = 1
    status: int = 400
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, route: str) -> bool:
        return self.route == "*" or self.route.lower() == route.lower()


class FaultBook:
    """The faults scripted for the next calls, consumed in order; plus a fixed latency."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.latency_s: float = 0.0
        self.latency_routes: set[str] | None = None  # None: every route

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(route):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self.latency_s = 0.0
        self.latency_routes = None

    def delay_for(self, route: str) -> float:
        if self.latency_routes is None or route.lower() in self.latency_routes:
            return self.latency_s
        return 0.0


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket without an answer (the client sees a disconnect, never a status)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)  # never reaches the client: the transport is gone


class LoopbackServer(ABC):
    """Runs an aiohttp application on 127.0.0.1 at a random (or given) port."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self.port: int = 0
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @abstractmethod
    def make_app(self) -> web.Application:
        """The fake's aiohttp application (each platform builds its own routes)."""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._requested_port)
        await site.start()
        server = site._server  # aiohttp keeps the listening sockets here
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- a background thread with its own loop (sync tests, benchmarks, other processes) --------
    def start_in_thread(self) -> Self:
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # report start-up failures to the starting thread
                errors.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop_thread(self) -> None:
        if self._thread is None or self._thread_loop is None:
            return
        self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
        self._thread.join(10)
        self._thread = None
        self._thread_loop = None

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()


def serve_forever(make: Callable[[int], LoopbackServer], port: int, describe: Callable[[Any], str]) -> None:
    """``python -m platform_fakes.<platform> --port N``: run until interrupted."""
    server = make(port)

    async def main() -> None:
        await server.start()
        print(describe(server), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
