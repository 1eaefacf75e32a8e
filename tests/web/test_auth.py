"""Sign-in by password and one-time link, sign-out, rate limiting kept in the database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from network_hub.db.models import KeyValue
from network_hub.web import ratelimit
from network_hub.web.login_links import create_login_link
from tests.web.conftest import PASSWORD, WebWorld, csrf_of, sign_in


def _attempt(client: TestClient, account: str, password: str) -> int:
    token = csrf_of(client)
    return client.post("/login", data={"account": account, "password": password, "csrf_token": token}).status_code


def test_pages_need_sign_in_and_remember_where_you_were_going(client: TestClient) -> None:
    response = client.get("/queue?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fqueue%3Fx%3D1"


def test_password_sign_in_by_phone_then_sign_out(client: TestClient, world: WebWorld) -> None:
    sign_in(client, "0812345603")  # the moderator's phone, typed the Thai way
    assert client.get("/queue").status_code == 200
    token = csrf_of(client, "/queue")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/queue").status_code == 303


def test_wrong_password_and_unknown_account_get_the_same_answer(client: TestClient, world: WebWorld) -> None:
    wrong = client.post("/login", data={"account": world.people.moderator.phone, "password": "nope-nope-nope",
                                        "csrf_token": csrf_of(client)})
    unknown = client.post("/login", data={"account": "0899999999", "password": PASSWORD,
                                          "csrf_token": csrf_of(client)})
    assert wrong.status_code == unknown.status_code == 401
    assert "รหัสผ่านไม่ถูกต้อง" in wrong.text and "รหัสผ่านไม่ถูกต้อง" in unknown.text
    assert client.get("/queue").status_code == 303


def test_suspended_member_cannot_sign_in_and_is_signed_out(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    with world.hub.transaction() as session:
        session.merge(world.people.moderator).status = "suspended"
    assert client.get("/queue").status_code == 303
    assert _attempt(client, world.people.moderator.phone, PASSWORD) == 401


def test_five_failures_lock_the_account_from_that_address_even_for_the_right_password(
    client: TestClient, world: WebWorld,
) -> None:
    phone = world.people.moderator.phone
    for _ in range(ratelimit.MAX_PER_ACCOUNT_IP):
        assert _attempt(client, phone, "wrong-password-123") == 401
    locked = client.post("/login", data={"account": phone, "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert locked.status_code == 429
    assert "ลองเข้าสู่ระบบผิดหลายครั้งเกินไป" in locked.text
    # The counter lives in the database, so every hub process sees the same lock.
    with world.hub.transaction() as session:
        subject = ratelimit.subject(world.people.moderator, phone)
        assert ratelimit.lockout(session, subject, "testclient", world.hub.clock.now()) is not None
        rows = session.scalar(select(func.count()).select_from(KeyValue)
                              .where(KeyValue.namespace == ratelimit.NAMESPACE))
        assert rows == 2  # the account+address pair and the account
    world.hub.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert _attempt(client, phone, PASSWORD) == 303


def test_a_success_clears_the_failures_of_that_address(client: TestClient, world: WebWorld) -> None:
    phone = world.people.moderator.phone
    for _ in range(ratelimit.MAX_PER_ACCOUNT_IP - 1):
        _attempt(client, phone, "wrong-password-123")
    assert _attempt(client, phone, PASSWORD) == 303
    client.cookies.clear()
    for _ in range(ratelimit.MAX_PER_ACCOUNT_IP - 1):
        assert _attempt(client, phone, "wrong-password-123") == 401
    assert _attempt(client, phone, PASSWORD) == 303


def test_one_time_link_signs_in_once(client: TestClient, world: WebWorld) -> None:
    with world.hub.transaction() as session:
        link = create_login_link(session, world.people.coordinator.id, world.hub.clock.now(),
                                 settings=world.hub.settings)
    path = link.removeprefix(world.hub.settings.public_base_url)
    assert path.startswith("/login/link/")
    page = client.get(path)  # a link preview fetching the page does not use the link up
    assert page.status_code == 200 and world.people.coordinator.name in page.text
    token = csrf_of(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    assert client.get("/stats").status_code == 200
    client.cookies.clear()
    again = client.post(path, data={"csrf_token": csrf_of(client)})
    assert again.status_code == 400
    assert client.get("/stats").status_code == 303


def test_expired_or_forged_links_are_refused(client: TestClient, world: WebWorld) -> None:
    with world.hub.transaction() as session:
        link = create_login_link(session, world.people.coordinator.id, world.hub.clock.now(),
                                 settings=world.hub.settings)
    path = link.removeprefix(world.hub.settings.public_base_url)
    assert client.get(path[:-3] + "abc").status_code == 400
    world.hub.clock.advance(minutes=20)  # type: ignore[attr-defined]
    assert client.get(path).status_code == 400


def test_next_never_leaves_the_site(client: TestClient, world: WebWorld) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"account": world.people.moderator.phone, "password": PASSWORD,
                                            "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["location"] == "/"


def test_language_switch_keeps_english_for_the_session(client: TestClient, world: WebWorld) -> None:
    sign_in(client, world.people.moderator.phone)
    token = csrf_of(client, "/queue")
    client.post("/lang", data={"csrf_token": token, "language": "en", "next": "/queue"})
    page = client.get("/queue")
    assert "Queue" in page.text and 'lang="en"' in page.text
