"""The platform fakes as a separate benchmark process, with a small control API.

The measured process must not share its event loop (or its CPU time slice) with the fake, so
benchmarks start this module in its own process::

    python -m bench.fakes --platform telegram --port 0 --ready-file /tmp/tg.json --channels 3
    python -m bench.fakes --platform facebook --port 0 --ready-file /tmp/fb.json --pages 2

When listening it writes a JSON ready file (origin, token(s), chat or page ids). Control routes,
added next to the platform's own routes:

- ``POST /_bench/config``  ``{"latency_s": 0.05, "rate_limits": true, "per_chat_per_minute": 20,
  "per_bot_per_second": 30}`` (Telegram; Facebook takes ``latency_s`` only);
- ``POST /_bench/reset``   forget posted messages and counters (between benchmark rounds);
- ``GET  /_bench/stats``   posts, messages, 429 answers, duplicated receipt numbers, and the
  send times of every message (for achieved-rate windows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram

# The marker every rendered post carries (publishers/render.py): "รหัสข่าว <receipt_no>".
MARKER_RE = re.compile(r"รหัสข่าว (\S+)")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Counters:
    """Answers by status, counted by a middleware so every route (and every fault) is seen."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.started = time.time()

    def reset(self) -> None:
        self.statuses.clear()
        self.started = time.time()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if not request.path.startswith("/_bench/"):
            self.statuses[response.status] += 1
        return response


class BenchTelegram(FakeTelegram):
    def __init__(self, *, port: int, channels: list[int]) -> None:
        super().__init__(port=port)
        self.channel_ids = channels
        self.counters = Counters()
        for chat_id in channels:
            self.add_channel(chat_id)

    def make_app(self) -> web.Application:
        app = super().make_app()
        app.middlewares.append(self.counters.middleware)
        app.router.add_post("/_bench/config", self._config)
        app.router.add_post("/_bench/reset", self._reset)
        app.router.add_get("/_bench/stats", self._stats)
        return app

    async def _config(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "latency_s" in body:
            self.latency(float(body["latency_s"]))
        if "rate_limits" in body:
            self.rate_limits(bool(body["rate_limits"]),
                             per_chat_per_minute=int(body.get("per_chat_per_minute", 20)),
                             per_bot_per_second=int(body.get("per_bot_per_second", 30)))
        return web.json_response({"ok": True})

    async def _reset(self, request: web.Request) -> web.Response:
        for chat in self.chats.values():
            chat.messages.clear()
        self.call_log.clear()
        self.files.clear()
        self._chat_sends.clear()
        self._bot_sends.clear()
        self.counters.reset()
        return web.json_response({"ok": True})

    async def _stats(self, request: web.Request) -> web.Response:
        receipts: Counter[str] = Counter()
        per_chat: dict[str, int] = {}
        times: list[float] = []
        posts = 0
        for chat_id in self.channel_ids:
            messages = self.posts(chat_id)
            per_chat[str(chat_id)] = len(messages)
            groups: set[str] = set()
            for message in messages:
                times.append(message.date_precise)  # type: ignore[attr-defined]
                if message.media_group_id is None or message.media_group_id not in groups:
                    posts += 1
                    if message.media_group_id is not None:
                        groups.add(message.media_group_id)
                text = message.text or message.caption or ""
                receipts.update(f"{chat_id}:{r}" for r in MARKER_RE.findall(text))
        return web.json_response(_summary(posts, sum(per_chat.values()), per_chat, receipts, times,
                                          self.counters))

    def _new_message(self, chat: Any, **fields: Any) -> Any:
        message = super()._new_message(chat, **fields)
        message.date_precise = time.time()  # the fake keeps whole seconds; rate windows need more
        return message


class BenchFacebook(FakeFacebook):
    def __init__(self, *, port: int, pages: list[str]) -> None:
        super().__init__(port=port)
        self.page_ids = pages
        self.counters = Counters()
        self.page_tokens = {page_id: self.add_page(page_id).token for page_id in pages}

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024, middlewares=[self.counters.middleware])
        app.router.add_post("/_bench/config", self._config)
        app.router.add_post("/_bench/reset", self._reset)
        app.router.add_get("/_bench/stats", self._stats)
        app.router.add_route("*", "/{version}/{path:.*}", self._handle)
        app.router.add_route("*", "/{path:.*}", self._unversioned)
        return app

    async def _config(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "latency_s" in body:
            self.latency(float(body["latency_s"]))
        return web.json_response({"ok": True})

    async def _reset(self, request: web.Request) -> web.Response:
        for page in self.pages.values():
            for name in ("posts", "photos"):
                store = getattr(page, name, None)
                if hasattr(store, "clear"):
                    store.clear()
        self.requests_log.clear()
        self.counters.reset()
        return web.json_response({"ok": True})

    async def _stats(self, request: web.Request) -> web.Response:
        receipts: Counter[str] = Counter()
        per_page: dict[str, int] = {}
        times: list[float] = []
        for page_id in self.page_ids:
            posts = self.posts(page_id)
            per_page[page_id] = len(posts)
            for post in posts:
                receipts.update(f"{page_id}:{r}" for r in MARKER_RE.findall(getattr(post, "message", "") or ""))
                created = getattr(post, "created_at", None)
                if isinstance(created, (int, float)):
                    times.append(float(created))
        total = sum(per_page.values())
        return web.json_response(_summary(total, total, per_page, receipts, times, self.counters))


def _summary(posts: int, messages: int, per_target: dict[str, int], receipts: Counter[str],
             times: list[float], counters: Counters) -> dict[str, Any]:
    duplicated = {r: n for r, n in receipts.items() if n > 1}
    return {
        "posts": posts,
        "messages": messages,
        "per_target": per_target,
        "receipts": len(receipts),
        "duplicated_receipts": len(duplicated),
        "duplicate_examples": dict(list(duplicated.items())[:10]),
        "status_counts": {str(k): v for k, v in sorted(counters.statuses.items())},
        "status_429": counters.statuses.get(429, 0),
        "times": sorted(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="A platform fake with a benchmark control API.")
    parser.add_argument("--platform", choices=("telegram", "facebook"), required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--channels", type=int, default=3, help="Telegram channels to create")
    parser.add_argument("--pages", type=int, default=1, help="Facebook pages to create")
    args = parser.parse_args()

    import asyncio

    async def serve() -> None:
        server: BenchTelegram | BenchFacebook
        if args.platform == "telegram":
            server = BenchTelegram(port=args.port, channels=[-1005000000000 - n for n in range(args.channels)])
            ready: dict[str, Any] = {"origin": "", "token": server.token, "channels": server.channel_ids}
        else:
            server = BenchFacebook(port=args.port, pages=[str(1000001 + n) for n in range(args.pages)])
            ready = {"origin": "", "page_tokens": server.page_tokens}
        await server.start()
        ready["origin"] = server.origin
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ready), encoding="utf-8")
        tmp.replace(args.ready_file)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
