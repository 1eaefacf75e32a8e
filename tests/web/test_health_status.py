"""``/healthz`` (200 only when the database answers and a scheduler ticked lately) and the status page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs.heartbeat import beat
from tests.web.conftest import WebWorld, sign_in


def test_healthz_is_503_without_a_ticking_scheduler(client: TestClient, world: WebWorld) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"ok": False}
    sign_in(client, world.people.admin.phone)
    detailed = client.get("/status.json")
    assert detailed.status_code == 503
    assert detailed.json()["database"] is True and detailed.json()["scheduler_alive"] is False


def test_healthz_is_200_after_a_tick_and_503_once_it_goes_stale(client: TestClient, world: WebWorld) -> None:
    with world.hub.transaction() as session:
        beat(session, "host:1:abc", ["dispatcher", "scheduler", "web"], world.hub.clock.now())
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert ok.headers["cache-control"] == "no-store"
    world.hub.clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert client.get("/healthz").status_code == 503


def test_healthz_is_503_when_the_database_is_gone(client: TestClient, world: WebWorld) -> None:
    from sqlalchemy import create_engine

    from network_hub.db.engine import make_session_factory

    broken = create_engine("sqlite:////nonexistent-dir/for/sure/hub.sqlite3")
    world.hub.sessions = make_session_factory(broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"ok": False}


def test_status_page_shows_processes(client: TestClient, world: WebWorld) -> None:
    with world.hub.transaction() as session:
        beat(session, "district-pc:4242:x1", ["dispatcher", "scheduler"], world.hub.clock.now())
    sign_in(client, world.people.admin.phone)
    page = client.get("/status")
    assert page.status_code == 200 and "district-pc:4242:x1" in page.text
