"""Per-village statistics (set-based SQL on SQLite and PostgreSQL), the page and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from network_hub.errors import InvalidInput
from network_hub.newsroom.moderation import approve_item, reject_item
from network_hub.permissions import load_actor
from network_hub.stats import statistics_csv, village_statistics
from tests.conftest import T0
from tests.web.conftest import WebWorld, approve_and_dispatch, sign_in


def _approve(world: WebWorld, item_id: int) -> None:
    with world.hub.transaction() as session:
        approve_item(session, item_id, actor=load_actor(session, world.people.moderator.id),
                     now=world.hub.clock.now())


def _build_history(world: WebWorld) -> None:
    clock = world.hub.clock
    first = world.submit(body="ข่าวที่หนึ่ง")                       # T0
    clock.advance(hours=1)  # type: ignore[attr-defined]
    second = world.submit(body="ข่าวที่สอง")                        # T0+1h
    third = world.submit(body="ข่าวที่สาม", author="reporter2", village="52010102")
    rejected = world.submit(body="ข่าวที่ไม่ผ่าน")
    clock.advance(hours=1)  # type: ignore[attr-defined]
    approve_and_dispatch(world, first)                              # 2 h after submission, published
    clock.advance(hours=3)  # type: ignore[attr-defined]
    _approve(world, second)                                         # 4 h after submission
    with world.hub.transaction() as session:
        reject_item(session, rejected, actor=load_actor(session, world.people.moderator.id), reason="ซ้ำ",
                    now=clock.now())
    clock.advance(hours=5)  # type: ignore[attr-defined]
    _approve(world, third)                                          # 9 h after submission


def test_numbers_per_village(world: WebWorld) -> None:
    _build_history(world)
    with world.hub.transaction() as session:
        rows = village_statistics(session, area_code="5201", start=T0 - timedelta(days=1),
                                  end=T0 + timedelta(days=1), now=world.hub.clock.now())
    by_code = {r.village_code: r for r in rows}
    assert set(by_code) == {"52010101", "52010102", "52010201"}
    north = by_code["52010101"]
    assert (north.submitted, north.approved, north.published) == (3, 2, 1)
    assert north.median_hours_to_approve == 3.0  # median of 2 h and 4 h
    assert north.days_since_last_news == 0
    assert by_code["52010102"].median_hours_to_approve == 9.0
    quiet = by_code["52010201"]
    assert (quiet.submitted, quiet.approved, quiet.days_since_last_news) == (0, 0, None)


def test_a_period_before_the_news_counts_nothing(world: WebWorld) -> None:
    _build_history(world)
    with world.hub.transaction() as session:
        rows = village_statistics(session, area_code="520101", start=T0 - timedelta(days=10),
                                  end=T0 - timedelta(days=1), now=world.hub.clock.now())
    assert [(r.submitted, r.approved, r.published, r.days_since_last_news) for r in rows] == [
        (0, 0, 0, None), (0, 0, 0, None)]


def test_days_since_last_news_counts_from_the_period_end(world: WebWorld) -> None:
    world.submit()
    world.hub.clock.advance(days=20)  # type: ignore[attr-defined]
    with world.hub.transaction() as session:
        rows = village_statistics(session, area_code="52010101", start=T0, end=T0 + timedelta(days=30),
                                  now=world.hub.clock.now())
    assert rows[0].days_since_last_news == 20


def test_bad_periods_and_codes_are_refused(world: WebWorld) -> None:
    with world.hub.transaction() as session, pytest.raises(InvalidInput):
        village_statistics(session, area_code="5201", start=T0, end=T0, now=T0)
    with world.hub.transaction() as session, pytest.raises(InvalidInput):
        village_statistics(session, area_code="52x", start=T0, end=T0 + timedelta(days=1), now=T0)


def test_csv_is_utf8_with_bom_and_formula_safe(world: WebWorld) -> None:
    _build_history(world)
    with world.hub.transaction() as session:
        rows = village_statistics(session, area_code="5201", start=T0 - timedelta(days=1),
                                  end=T0 + timedelta(days=1), now=world.hub.clock.now())
    data = statistics_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][:4] == ["รหัสหมู่บ้าน", "หมู่บ้าน", "ตำบล", "ส่งข่าว"]
    assert table[1][:6] == ["52010101", "หมู่ที่ 1 บ้านเวียงเหนือ", "เวียงเหนือ", "3", "2", "1"]


def test_stats_page_and_export(client: TestClient, world: WebWorld) -> None:
    _build_history(world)
    sign_in(client, world.people.coordinator.phone)
    page = client.get("/stats?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    assert "หมู่ที่ 1 บ้านเวียงเหนือ" in page.text and "stats.csv?area=5201" in page.text
    export = client.get("/stats.csv?area=5201&start=2026-11-01&end=2026-11-30")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert 'filename="stats-5201-2026-11-01-2026-11-30.csv"' in export.headers["content-disposition"]
    assert export.content.startswith(b"\xef\xbb\xbf")
    assert client.get("/stats?start=2026-12-01&end=2026-11-01").status_code == 400
    assert client.get("/stats?start=yesterday").status_code == 400
