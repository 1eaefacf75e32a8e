"""``network-hub demo`` builds a living sandbox network; the web component serves inside an event loop."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from config.settings import Settings
from network_hub.db.models import Area, Base, Delivery, Member, NewsItem, Outlet
from network_hub.demo import DEMO_PASSWORD, NEWS, PEOPLE, build_demo, demo_settings
from network_hub.hub import Hub
from network_hub.roster.members import verify_password
from network_hub.web.component import WebComponent
from tests.conftest import T0


def test_demo_builds_every_state_on_real_lampang_areas(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "demo", port=18181)
    network = build_demo(settings, now=T0)
    assert network.items == len(NEWS) == 12
    hub = Hub.from_settings(settings)
    try:
        with hub.transaction() as session:
            statuses = Counter(session.scalars(select(NewsItem.status)))
            assert statuses == {"published": 4, "withdrawn": 1, "scheduled": 2, "submitted": 3,
                                "changes_requested": 1, "rejected": 1}
            tambon = session.scalar(select(func.count()).select_from(Area).where(Area.level == "subdistrict"))
            assert tambon is not None and tambon > 90  # every tambon of Lampang from GeoThai
            assert session.scalar(select(Area.name_th).where(Area.code == "5201")) == "เมืองลำปาง"
            members = list(session.scalars(select(Member)))
            assert len(members) == len(PEOPLE)
            assert all(verify_password(m, DEMO_PASSWORD) for m in members)
            assert {o.platform for o in session.scalars(select(Outlet))} == {"sandbox"}
            sent = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "sent"))
            assert sent and sent >= 4
    finally:
        hub.close()
    assert any((settings.sandbox_dir / "mueang-lampang").glob("*.json"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_web_component_starts_and_stops_inside_the_loop(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    hub = Hub.from_settings(settings)
    Base.metadata.create_all(hub.engine)
    component = WebComponent(hub, host="127.0.0.1", port=_free_port())
    await component.start()
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{component.port}/healthz")
        assert response.status_code == 503  # no scheduler has ticked in this test
        assert response.json() == {"ok": False}  # the public answer carries no details (issue 10)
    finally:
        await component.stop()
    assert component.server.should_exit
    hub.close()
