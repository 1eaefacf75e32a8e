"""The national-scale data set of B4, bulk-loaded: every tambon from GeoThai, ~75,086 villages,
150,000 members, 1,000,000 news items and ~2,000,000 deliveries (SQLAlchemy Core executemany on
SQLite, ``COPY`` on PostgreSQL). Deterministic (a seeded RNG), so both databases get the same rows.

The shape: one moderator per tambon, one coordinator per district, reporters spread over the
villages; items over the last two years, denser recently; 0.5 % waiting for approval (the last
three days), a few rejected, returned, failed or withdrawn; every posted item has a delivery to its
province's Telegram channel and Facebook Page, one in 25 also to a national channel.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, text

from network_hub.areas import load_official_areas
from network_hub.db.models import Area, Delivery, Member, NewsItem, Outlet, RoleGrant
from network_hub.hub import Hub

VILLAGES = 75_086
MEMBERS = 150_000
ITEMS = 1_000_000
CATEGORIES = ("development_result", "local_product", "community_charm", "announcement", "event")
STATUS_WEIGHTS = (("published", 965), ("submitted", 5), ("rejected", 10), ("changes_requested", 5),
                  ("failed", 5), ("withdrawn", 5), ("partially_published", 5))
POSTED = {"published", "failed", "withdrawn", "partially_published"}
CHUNK = 20_000


@dataclass
class NationalShape:
    items: int = ITEMS
    members: int = MEMBERS
    villages: int = VILLAGES
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # who to measure as
    moderator_id: int = 0
    moderator_tambon: str = ""
    coordinator_id: int = 0
    coordinator_district: str = ""


def load(hub: Hub, now: datetime, shape: NationalShape, password_hash: str) -> NationalShape:
    engine = hub.engine
    rng = random.Random(20261124)
    t0 = time.perf_counter()
    with hub.transaction() as session:
        load_official_areas(session, now)
    with engine.connect() as conn:
        tambons = [r[0] for r in conn.execute(select(Area.code).where(Area.level == "subdistrict").order_by(Area.code))]
        districts = [r[0] for r in conn.execute(select(Area.code).where(Area.level == "district").order_by(Area.code))]
        provinces = [r[0] for r in conn.execute(select(Area.code).where(Area.level == "province").order_by(Area.code))]
    per_tambon, extra = divmod(shape.villages, len(tambons))
    villages = [f"{t}{m:02d}" for i, t in enumerate(tambons) for m in range(1, per_tambon + 1 + (i < extra))]
    _bulk(engine, Area.__table__, ({"code": v, "level": "village", "name_th": f"บ้านทดสอบ {v[-2:]}", "name_en": "",
                                    "parent_code": v[:6], "is_community": False, "created_at": now}
                                   for v in villages))
    shape.seconds["areas"] = time.perf_counter() - t0
    shape.counts.update(provinces=len(provinces), districts=len(districts), tambons=len(tambons),
                        villages=len(villages))

    # members: moderators (tambon), coordinators (district), reporters (villages, round robin)
    t0 = time.perf_counter()
    roles: list[tuple[str, str]] = [("moderator", t) for t in tambons] + [("coordinator", d) for d in districts]
    reporters = shape.members - len(roles)
    roles += [("reporter", villages[n % len(villages)]) for n in range(reporters)]
    staff = len(tambons) + len(districts)  # moderators and coordinators may sign in to the dashboard
    member_rows = ({"id": n + 1, "name": f"สมาชิก {n + 1}", "phone": f"08{n + 1:08d}",
                    "telegram_user_id": 7_000_000 + n, "language": "th", "status": "active",
                    "password_hash": password_hash if n < staff else None, "created_at": now, "updated_at": now}
                   for n in range(len(roles)))
    _bulk(engine, Member.__table__, member_rows)
    _bulk(engine, RoleGrant.__table__, ({"id": n + 1, "member_id": n + 1, "role": role, "area_code": area,
                                         "created_at": now} for n, (role, area) in enumerate(roles)))
    shape.seconds["members"] = time.perf_counter() - t0
    shape.counts["members"] = len(roles)
    first_reporter = len(tambons) + len(districts) + 1
    reporters_of = lambda v_index: first_reporter + v_index % reporters  # noqa: E731 - a reporter of the village

    # outlets: a Telegram channel and a Facebook Page per province, one national channel
    outlet_rows = []
    for n, p in enumerate(provinces):
        outlet_rows.append({"id": 2 * n + 1, "platform": "telegram", "name": f"ข่าวจังหวัด {p}", "area_code": p,
                            "address": str(-1001000000000 - n), "status": "active", "min_interval_s": 3.0,
                            "created_at": now, "updated_at": now})
        outlet_rows.append({"id": 2 * n + 2, "platform": "facebook", "name": f"เพจจังหวัด {p}", "area_code": p,
                            "address": str(2000000 + n), "token_env": "HUB_BENCH_FB_PAGE_TOKEN", "status": "active",
                            "min_interval_s": 0.0, "created_at": now, "updated_at": now})
    national_id = 2 * len(provinces) + 1
    outlet_rows.append({"id": national_id, "platform": "telegram", "name": "ข่าวชุมชนทั่วประเทศ", "area_code": "TH",
                        "address": "-1009999999999", "status": "active", "min_interval_s": 3.0,
                        "created_at": now, "updated_at": now})
    _bulk(engine, Outlet.__table__, iter(outlet_rows))
    province_index = {p: n for n, p in enumerate(provinces)}

    # items and deliveries
    t0 = time.perf_counter()
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    delivery_count = [0]

    def items() -> Iterator[dict[str, Any]]:
        for n in range(shape.items):
            v_index = rng.randrange(len(villages))
            village = villages[v_index]
            status = statuses[rng.randrange(len(statuses))]
            if status == "submitted":
                created = now - timedelta(hours=rng.uniform(1, 72))
            else:
                created = now - timedelta(days=730 * rng.random() ** 2 + 0.2)
            decided = created + timedelta(hours=2) if status != "submitted" else None
            published = decided + timedelta(minutes=1) if status in ("published", "partially_published") else None
            yield {"id": n + 1, "receipt_no": f"{created.year + 543}-{n + 1:07d}", "village_code": village,
                   "author_id": reporters_of(v_index), "category": CATEGORIES[n % len(CATEGORIES)],
                   "title": f"ข่าวหมู่บ้าน {village} เรื่องที่ {n + 1}",
                   "body": "ชาวบ้านร่วมกันพัฒนาหมู่บ้าน ปลูกต้นไม้ และทำความสะอาดถนนสายหลักของหมู่บ้าน " * 2,
                   "status": status, "pdpa_flags": [], "consent": {}, "version": 2, "submitted_at": created,
                   "decided_at": decided, "published_at": published,
                   "withdrawn_at": decided + timedelta(days=1) if status == "withdrawn" and decided else None,
                   "created_at": created, "updated_at": published or decided or created,
                   "_province": village[:2]}

    def split() -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        for item in items():
            province = item.pop("_province")
            deliveries: list[dict[str, Any]] = []
            if item["status"] in POSTED:
                p = province_index[province]
                outlets = [2 * p + 1, 2 * p + 2] + ([national_id] if item["id"] % 25 == 0 else [])
                for k, outlet_id in enumerate(outlets):
                    state = {"published": "sent", "withdrawn": "cancelled", "failed": "failed"}.get(
                        item["status"], "sent" if k == 0 else "failed")
                    sent = item["published_at"] if state == "sent" else None
                    deliveries.append({"item_id": item["id"], "outlet_id": outlet_id, "state": state,
                                       "due_at": item["decided_at"], "attempts": 1, "fence": 2,
                                       "external_ids": [str(item["id"] * 10 + k)], "sent_at": sent,
                                       "sending_started_at": item["decided_at"],
                                       "created_at": item["decided_at"], "updated_at": sent or item["decided_at"]})
            yield item, deliveries

    pending_deliveries: list[dict[str, Any]] = []

    def item_rows() -> Iterator[dict[str, Any]]:
        for item, deliveries in split():
            pending_deliveries.extend(deliveries)
            yield item

    # Items first (deliveries reference them), in chunks; the chunk's deliveries follow it.
    for chunk in _chunks(item_rows(), CHUNK):
        _insert(engine, NewsItem.__table__, chunk)
        _insert(engine, Delivery.__table__, pending_deliveries)
        delivery_count[0] += len(pending_deliveries)
        pending_deliveries.clear()
    shape.seconds["items_and_deliveries"] = time.perf_counter() - t0
    shape.counts.update(items=shape.items, deliveries=delivery_count[0], outlets=len(outlet_rows))

    t0 = time.perf_counter()
    _finish(engine)
    shape.seconds["analyze_and_sequences"] = time.perf_counter() - t0

    return describe(hub, shape)


def describe(hub: Hub, shape: NationalShape) -> NationalShape:
    """Counts, and whom to measure as: the moderator of the tambon with the most waiting items, and
    that district's coordinator (member ids follow the loader's order)."""
    engine = hub.engine
    with engine.connect() as conn:
        for table in ("areas", "members", "outlets", "news_items", "deliveries"):
            shape.counts.setdefault(table, conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        tambons = [r[0] for r in conn.execute(select(Area.code).where(Area.level == "subdistrict").order_by(Area.code))]
        districts = [r[0] for r in conn.execute(select(Area.code).where(Area.level == "district").order_by(Area.code))]
        tambon = conn.execute(text(
            "SELECT substr(village_code, 1, 6) AS t, count(*) AS n FROM news_items WHERE status = 'submitted' "
            "GROUP BY t ORDER BY n DESC, t LIMIT 1")).one()[0]
    shape.moderator_tambon = tambon
    shape.moderator_id = tambons.index(tambon) + 1
    shape.coordinator_district = tambon[:4]
    shape.coordinator_id = len(tambons) + districts.index(tambon[:4]) + 1
    return shape


def add_missing_indexes(engine: Engine) -> None:
    """Create the models' indexes a previously loaded database lacks, then refresh statistics."""
    from network_hub.db.models import Base

    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bulk(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, CHUNK):
        _insert(engine, table, chunk)


def _insert(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        _copy(engine, table, rows)
        return
    with engine.begin() as conn:
        conn.execute(insert(table), list(rows))


def _copy(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL ``COPY … FROM STDIN`` through psycopg 3 (JSON columns written as JSON text)."""
    # Columns the rows give, plus those with a Python-side default (COPY applies none of them);
    # an id the rows leave out comes from its sequence.
    columns = [c.name for c in table.columns if c.name in rows[0] or c.default is not None]
    json_columns = {c.name for c in table.columns if "JSON" in repr(c.type)}
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                values = [_value(table, c, row) for c in columns]
                copy.write_row([json.dumps(v, ensure_ascii=False) if c in json_columns and v is not None else v
                                for c, v in zip(columns, values, strict=True)])


def _value(table: Any, column: str, row: dict[str, Any]) -> Any:
    """The row's value, or the column's Python-side default (COPY applies none of them)."""
    if column in row:
        return row[column]
    default = table.columns[column].default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    try:
        return default.arg(None)
    except TypeError:
        return default.arg()


def _finish(engine: Engine) -> None:
    """Statistics for the planner; PostgreSQL sequences after explicit ids."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("members", "role_grants", "outlets", "news_items", "deliveries"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
