"""Findings 2 and 4: the sign-in limit counts per resolved member, and every attempt costs one argon2 hash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from network_hub.db.models import Member
from network_hub.roster import passwords
from network_hub.web import ratelimit
from tests.web.conftest import PASSWORD, WebWorld, csrf_of


def _attempt(client: TestClient, account: str, password: str) -> int:
    token = csrf_of(client)
    return client.post("/login", data={"account": account, "password": password, "csrf_token": token}).status_code


def _spellings(world: WebWorld) -> list[str]:
    local = "0" + world.people.moderator.phone.removeprefix("+66")  # 0812345603
    thai = local.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    return [world.people.moderator.phone, world.people.moderator.phone.removeprefix("+"),
            f"{local[:3]}-{local[3:6]}-{local[6:]}", thai, f" {local} ", str(world.people.moderator.id)]


def test_different_spellings_of_one_phone_share_one_lock_out(client: TestClient, world: WebWorld) -> None:
    spellings = _spellings(world)
    for account in spellings[: ratelimit.MAX_PER_ACCOUNT_IP]:
        assert _attempt(client, account, "wrong-password-123") == 401
    # The right password through yet another spelling is refused while the lock holds.
    assert _attempt(client, spellings[-1], PASSWORD) == 429
    assert _attempt(client, world.people.moderator.phone, PASSWORD) == 429
    world.hub.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert _attempt(client, spellings[3], PASSWORD) == 303


def test_spellings_of_an_unknown_phone_share_one_lock_out(client: TestClient, world: WebWorld) -> None:
    unknown = ["0899999999", "+66899999999", "089-999-9999", "๐๘๙๙๙๙๙๙๙๙", "66 89 999 9999"]
    for account in unknown:
        assert _attempt(client, account, "wrong-password-123") == 401
    assert _attempt(client, "(089) 999 9999", "wrong-password-123") == 429


def test_the_lock_for_everyone_counts_spellings_from_many_addresses(world: WebWorld) -> None:
    with world.hub.transaction() as session:
        moderator = session.get(Member, world.people.moderator.id)
        for number, account in enumerate(_spellings(world) * 4):
            ratelimit.record_failure(session, ratelimit.subject(moderator, account), f"10.0.0.{number}",
                                     world.hub.clock.now())
        assert ratelimit.lockout(session, ratelimit.subject(moderator, "0812345603"), "10.9.9.9",
                                 world.hub.clock.now()) is not None


class _CountingHasher(PasswordHasher):
    calls = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        type(self).calls += 1
        return super().verify(hash, password)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_CountingHasher]]:
    _CountingHasher.calls = 0
    monkeypatch.setattr(passwords, "_hasher", _CountingHasher())
    yield _CountingHasher


def test_every_attempt_costs_exactly_one_hash(client: TestClient, world: WebWorld,
                                              counting: type[_CountingHasher]) -> None:
    with world.hub.transaction() as session:
        session.get(Member, world.people.reporter2.id).password_hash = None  # most volunteers have none
        session.get(Member, world.people.outsider.id).status = "suspended"
    cases = [
        (world.people.moderator.phone, "wrong-password-123"),  # member, wrong password
        (world.people.reporter2.phone, "any-password-123"),  # member without a password
        ("0899999998", "any-password-123"),  # nobody
        (world.people.outsider.phone, PASSWORD),  # suspended member, right password
        (world.people.coordinator.phone, ""),  # empty password
        (world.people.admin.phone, "x" * (passwords.MAX_PASSWORD_LENGTH + 5)),  # overlong
        ("not a phone at all", "any-password-123"),
    ]
    for account, password in cases:
        before = counting.calls
        assert _attempt(client, account, password) == 401, account
        assert counting.calls - before == 1, f"{account!r} cost {counting.calls - before} hashes"
    before = counting.calls
    assert _attempt(client, world.people.moderator.phone, PASSWORD) == 303
    assert counting.calls - before == 1
