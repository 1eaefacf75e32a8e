"""Web fixtures: a seeded hub (SQLite and PostgreSQL), the app under TestClient, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from network_hub.hub import Hub
from network_hub.newsroom.submission import submit_item
from network_hub.outlets import add_outlet
from network_hub.permissions import load_actor, system_actor
from network_hub.web.app import create_app
from tests.factories import People, seed_network

PASSWORD = "demo-password-2569"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A real argon2id hash with small cost parameters (verification reads them from the hash)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class WebWorld:
    hub: Hub
    people: People
    outlet_id: int

    def submit(self, body: str = "ชาวบ้านร่วมกันปลูกต้นไม้ริมถนนสายหลักของหมู่บ้าน", *, author: str = "reporter",
               village: str = "52010101", category: str = "community_charm", title: str | None = None) -> int:
        member = getattr(self.people, author)
        with self.hub.transaction() as session:
            item = submit_item(session, actor=load_actor(session, member.id), author_id=member.id,
                               village_code=village, category=category, body=body, title=title,
                               now=self.hub.clock.now(), media_dir=self.hub.settings.resolved_media_dir)
            return item.id


@pytest.fixture
def world(hub: Hub, password_hash: str) -> WebWorld:
    with hub.transaction() as session:
        people = seed_network(session, hub.clock.now())
        for member in (people.reporter, people.reporter2, people.moderator, people.coordinator, people.admin,
                       people.outsider):
            session.merge(member).password_hash = password_hash
        outlet = add_outlet(session, platform="sandbox", area_code="5201", address="lampang-muang",
                            name="ข่าวอำเภอเมืองลำปาง (ทดลอง)", now=hub.clock.now(), actor=system_actor())
        outlet_id = outlet.id
    return WebWorld(hub=hub, people=people, outlet_id=outlet_id)


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with TestClient(create_app(world.hub), follow_redirects=False) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, account: str, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"account": account, "password": password, "csrf_token": token,
                                           "next": "/"})
    assert response.status_code == 303, response.text


@pytest.fixture
def signed_in(client: TestClient, world: WebWorld) -> Callable[[str], TestClient]:
    def as_person(who: str) -> TestClient:
        sign_in(client, getattr(world.people, who).phone)
        return client

    return as_person


def approve_and_dispatch(world: WebWorld, item_id: int) -> None:
    """Approve as the moderator, then one real dispatcher pass through the sandbox publisher."""
    import asyncio

    from jobs.dispatch import Dispatcher
    from network_hub.newsroom.moderation import approve_item
    from publishers.registry import Publishers

    with world.hub.transaction() as session:
        approve_item(session, item_id, actor=load_actor(session, world.people.moderator.id), confirm_pdpa=True,
                     now=world.hub.clock.now(), via="web")

    async def one_pass() -> None:
        publishers = Publishers(world.hub.settings)
        try:
            await Dispatcher(world.hub, publishers).run_once()
        finally:
            await publishers.aclose()

    asyncio.run(one_pass())
