"""Request body limits per route, enforced in the app (not only at a proxy): too large → 413.

A form post is a few kilobytes; before this, a 60 MB form posted to ``/login`` before sign-in was
parsed and held in memory (security review, finding 5). The middleware answers 413 from the
``Content-Length`` header without reading anything, and counts the bytes of a streamed (chunked)
body, stopping the route as soon as it passes the limit.

Every route gets ``DEFAULT_LIMIT``; routes that take photos or platform callbacks register a
larger one with ``allow_body(pattern, max_bytes)`` (a regular expression on the path, matched
in full), e.g. ``allow_body(r"/items/\\d+/photos", PHOTO_UPLOAD_LIMIT)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LIMIT = 64 * 1024  # every form of the dashboard, with room to spare
MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 20 * 1024 * 1024
PHOTO_UPLOAD_LIMIT = MAX_PHOTOS * MAX_PHOTO_BYTES + DEFAULT_LIMIT  # ten photos and the form around them
MESSAGE_TH = "ข้อมูลที่ส่งมีขนาดใหญ่เกินกำหนด กรุณาลดขนาดหรือจำนวนรูปภาพแล้วลองใหม่"
MESSAGE_EN = "Request body too large"


@dataclass(frozen=True)
class BodyRule:
    pattern: re.Pattern[str]
    max_bytes: int


_RULES: list[BodyRule] = []


def allow_body(pattern: str, max_bytes: int) -> None:
    """Let requests whose path fully matches ``pattern`` carry up to ``max_bytes`` (idempotent)."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    compiled = re.compile(pattern)
    _RULES[:] = [r for r in _RULES if r.pattern.pattern != pattern]
    _RULES.append(BodyRule(compiled, max_bytes))


def limit_for(path: str) -> int:
    for rule in _RULES:
        if rule.pattern.fullmatch(path):
            return rule.max_bytes
    return DEFAULT_LIMIT


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` so the route stops reading; FastAPI lets HTTPExceptions through."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=MESSAGE_EN)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send)
            return
        seen = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                return  # whatever the route answered, the client gets the 413 below
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            exceeded = True
        if exceeded and not response_started:
            await _refuse(send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send) -> None:
    body = f"{MESSAGE_TH}\n{MESSAGE_EN}\n".encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
