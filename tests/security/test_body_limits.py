"""Finding 5: request bodies are limited per route in the app; too large → 413 before any parsing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from network_hub.web import bodylimit
from tests.web.conftest import PASSWORD, WebWorld, csrf_of


def test_a_huge_form_to_login_is_refused_before_parsing(client: TestClient, world: WebWorld) -> None:
    token = csrf_of(client)
    huge = {"account": "x" * (bodylimit.DEFAULT_LIMIT + 1), "password": "p", "csrf_token": token}
    response = client.post("/login", data=huge)
    assert response.status_code == 413
    assert "ขนาดใหญ่เกินกำหนด" in response.text
    # A normal sign-in right after still works (nothing was half-read).
    ok = client.post("/login", data={"account": world.people.moderator.phone, "password": PASSWORD,
                                     "csrf_token": csrf_of(client)})
    assert ok.status_code == 303


def test_a_streamed_body_without_length_is_counted(client: TestClient, world: WebWorld) -> None:
    token = csrf_of(client)

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&account=".encode()
        for _ in range(20):
            yield b"a" * 8192  # 160 KiB in all, no Content-Length (chunked)

    response = client.post("/login", content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_a_registered_route_takes_photos_up_to_its_own_limit() -> None:
    app = FastAPI()

    @app.post("/upload/photos")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/other")
    async def other(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(bodylimit.BodyLimitMiddleware)
    bodylimit.allow_body(r"/upload/photos", 300_000)
    try:
        with TestClient(app) as client:
            assert client.post("/upload/photos", content=b"x" * 200_000).json() == {"bytes": 200_000}
            assert client.post("/upload/photos", content=b"x" * 300_001).status_code == 413
            assert client.post("/other", content=b"x" * 200_000).status_code == 413
            assert client.post("/other", content=b"x" * 1000).json() == {"bytes": 1000}
    finally:
        bodylimit._RULES[:] = [r for r in bodylimit._RULES if r.pattern.pattern != r"/upload/photos"]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        bodylimit.allow_body(r"/x", 0)
    assert bodylimit.limit_for("/login") == bodylimit.DEFAULT_LIMIT
    assert bodylimit.PHOTO_UPLOAD_LIMIT > 10 * 20 * 1024 * 1024
