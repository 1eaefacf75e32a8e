"""Finding 6: signing out, a password change or a suspension ends the session, copied cookies included."""

from __future__ import annotations

from fastapi import Request
from fastapi.testclient import TestClient

from network_hub.db.models import Member
from network_hub.permissions import system_actor
from network_hub.roster.members import resume_member, set_password, suspend_member
from network_hub.web.app import create_app
from network_hub.web.deps import keep_this_session, transaction
from network_hub.web.security import SESSION_COOKIE, SessionCodec, WebSession
from tests.web.conftest import PASSWORD, WebWorld, csrf_of, sign_in


def _replay(world: WebWorld, cookie: str) -> TestClient:
    thief = TestClient(create_app(world.hub), follow_redirects=False)
    thief.cookies.set(SESSION_COOKIE, cookie)
    return thief


def _copy_of(client: TestClient, world: WebWorld) -> TestClient:
    return _replay(world, client.cookies[SESSION_COOKIE])


def test_a_copied_cookie_fails_after_logout(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    stolen = client.cookies[SESSION_COOKIE]
    assert _replay(world, stolen).get("/queue").status_code == 200  # the copy works while the session lives
    assert client.post("/logout", data={"csrf_token": csrf_of(client, "/queue")}).status_code == 303
    refused = _replay(world, stolen).get("/queue")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    sign_in(client, world.people.moderator.phone)  # signing in again is a new session; the copy stays dead
    assert client.get("/queue").status_code == 200
    assert _replay(world, stolen).get("/queue").status_code == 303


def test_a_password_change_ends_other_sessions(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    thief = _copy_of(client, world)
    with world.hub.transaction() as session:
        set_password(session, world.people.moderator.id, "a-brand-new-password-2569", now=world.hub.clock.now())
    assert thief.get("/queue").status_code == 303
    assert client.get("/queue").status_code == 303


def test_suspension_ends_the_session_and_resuming_does_not_revive_it(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.coordinator.phone)
    thief = _copy_of(client, world)
    with world.hub.transaction() as session:
        suspend_member(session, world.people.coordinator.id, now=world.hub.clock.now(), actor=system_actor())
    with world.hub.transaction() as session:
        resume_member(session, world.people.coordinator.id, now=world.hub.clock.now(), actor=system_actor())
    assert thief.get("/stats").status_code == 303
    client.cookies.clear()
    sign_in(client, world.people.coordinator.phone, PASSWORD)
    assert client.get("/stats").status_code == 200


def test_a_cookie_without_a_generation_is_not_accepted(client: TestClient, world: WebWorld) -> None:
    codec = SessionCodec(world.hub.settings.ensure_secret_key())
    old_style = codec._serializer.dumps({"m": world.people.admin.id, "c": "x" * 32, "l": None})
    assert codec.load(old_style) == WebSession(member_id=world.people.admin.id, csrf="x" * 32)
    client.cookies.set(SESSION_COOKIE, old_style)
    assert client.get("/outlets").status_code == 303


def test_keep_this_session_survives_the_members_own_password_change(client: TestClient, world: WebWorld) -> None:
    app = client.app

    @app.post("/test-only/change-my-password")  # type: ignore[attr-defined]
    def change(request: Request) -> dict[str, bool]:
        with transaction(request) as session:
            member = set_password(session, world.people.moderator.id, "another-new-password-2569",
                                  now=world.hub.clock.now())
            assert isinstance(member, Member)
            keep_this_session(request, member)
        return {"ok": True}

    sign_in(client, world.people.moderator.phone)
    other_device = _copy_of(client, world)
    token = csrf_of(client, "/queue")
    assert client.post("/test-only/change-my-password", data={"csrf_token": token}).status_code == 200
    assert client.get("/queue").status_code == 200  # this browser goes on
    assert other_device.get("/queue").status_code == 303  # the other one is signed out
