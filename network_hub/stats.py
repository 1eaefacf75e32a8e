"""Per-village statistics for a period, for evaluation meetings (dashboard table, chart, CSV export).

For every village under an area, for the period ``[start, end)``:

- ``submitted``: items first submitted in the period (``created_at``);
- ``approved``: items approved in the period (``decided_at`` of an item that went on to be
  approved, scheduled, published, failed or withdrawn — a rejection or a return is not counted);
- ``published``: items whose first post went out in the period (``published_at``);
- ``median_hours_to_approve``: median of (approval − latest submission) over the approved ones;
- ``days_since_last_news``: whole days from the village's latest submission before ``end``
  (or ``now`` when the period runs past it) — ``None`` for a village that never sent news.

Each figure is one set-based ``GROUP BY`` query over ``news_items`` (the median uses window
functions), so the cost grows with the number of items in the period, not with one query per
village, and stays usable with a million items. The same SQL runs on SQLite and PostgreSQL; only
the "seconds between two timestamps" expression differs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, true
from sqlalchemy.orm import Session

from network_hub.areas import validate_code, village_label
from network_hub.db.models import Area, NewsItem
from network_hub.errors import InvalidInput
from network_hub.permissions import ROOT_AREA
from network_hub.states import AreaLevel, ItemStatus

APPROVED_STATUSES = (
    ItemStatus.APPROVED.value, ItemStatus.SCHEDULED.value, ItemStatus.PUBLISHING.value,
    ItemStatus.PUBLISHED.value, ItemStatus.PARTIALLY_PUBLISHED.value, ItemStatus.FAILED.value,
    ItemStatus.WITHDRAWN.value,
)
CSV_COLUMNS = ("village_code", "village", "tambon", "submitted", "approved", "published",
               "median_hours_to_approve", "days_since_last_news")
CSV_HEADER_TH = ("รหัสหมู่บ้าน", "หมู่บ้าน", "ตำบล", "ส่งข่าว", "อนุมัติ", "เผยแพร่",
                 "เวลาอนุมัติมัธยฐาน (ชม.)", "จำนวนวันที่ไม่มีข่าว")


@dataclass(frozen=True)
class VillageStats:
    village_code: str
    village: str
    tambon: str
    submitted: int
    approved: int
    published: int
    median_hours_to_approve: float | None
    days_since_last_news: int | None

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CSV_COLUMNS}


def _in_area(column: Any, area_code: str) -> ColumnElement[bool]:
    """Codes under ``area_code`` as a range, not ``LIKE 'x%' ESCAPE``: SQLite cannot use an index
    for that LIKE, which made a district's statistics scan all news items (bench B4). Codes are
    digits (``validate_code``), so the character after the last digit bounds the range."""
    if area_code == ROOT_AREA:
        return true()
    upper = area_code[:-1] + chr(ord(area_code[-1]) + 1)
    return and_(column >= area_code, column < upper)


def _seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _counts(session: Session, column: Any, area_code: str, start: datetime, end: datetime,
            *extra: ColumnElement[bool]) -> dict[str, int]:
    query = (select(NewsItem.village_code, func.count())
             .where(_in_area(NewsItem.village_code, area_code), column >= start, column < end, *extra)
             .group_by(NewsItem.village_code))
    return {code: int(n) for code, n in session.execute(query).all()}


def _median_hours(session: Session, area_code: str, start: datetime, end: datetime) -> dict[str, float]:
    seconds = _seconds_between(session, NewsItem.decided_at, NewsItem.submitted_at)
    ranked = (
        select(
            NewsItem.village_code.label("village_code"),
            seconds.label("seconds"),
            func.row_number().over(partition_by=NewsItem.village_code, order_by=seconds).label("rn"),
            func.count().over(partition_by=NewsItem.village_code).label("n"),
        )
        .where(_in_area(NewsItem.village_code, area_code), NewsItem.decided_at >= start,
               NewsItem.decided_at < end, NewsItem.status.in_(APPROVED_STATUSES))
        .subquery()
    )
    # The middle row (odd count) or the two middle rows (even count), averaged.
    query = (select(ranked.c.village_code, func.avg(ranked.c.seconds))
             .where(ranked.c.rn.in_([(ranked.c.n + literal(1)) // 2, (ranked.c.n + literal(2)) // 2]))
             .group_by(ranked.c.village_code))
    return {code: round(float(avg) / 3600.0, 1) for code, avg in session.execute(query).all() if avg is not None}


def village_statistics(session: Session, *, area_code: str, start: datetime, end: datetime,
                       now: datetime) -> list[VillageStats]:
    """One row per village under ``area_code`` (itself if it is a village), by village code."""
    area_code = validate_code(area_code)
    if end <= start:
        raise InvalidInput("the period ends before it starts; choose a later end date",
                           "วันที่สิ้นสุดต้องอยู่หลังวันที่เริ่มต้น")
    villages = list(session.scalars(
        select(Area).where(Area.level == AreaLevel.VILLAGE.value, _in_area(Area.code, area_code))
        .order_by(Area.code)))
    tambon_codes = {v.code[:6] for v in villages}
    tambons = dict(session.execute(select(Area.code, Area.name_th).where(Area.code.in_(tambon_codes))).all()) \
        if tambon_codes else {}
    submitted = _counts(session, NewsItem.created_at, area_code, start, end)
    approved = _counts(session, NewsItem.decided_at, area_code, start, end, NewsItem.status.in_(APPROVED_STATUSES))
    published = _counts(session, NewsItem.published_at, area_code, start, end)
    medians = _median_hours(session, area_code, start, end)
    last_news = dict(session.execute(
        select(NewsItem.village_code, func.max(NewsItem.created_at))
        .where(_in_area(NewsItem.village_code, area_code), NewsItem.created_at < end)
        .group_by(NewsItem.village_code)).all())
    reference = min(end, now)
    rows = []
    for village in villages:
        last = last_news.get(village.code)
        if last is not None and last.tzinfo is None:  # SQLite's MAX() returns the stored text
            last = last.replace(tzinfo=reference.tzinfo)
        rows.append(VillageStats(
            village_code=village.code,
            village=village_label(village),
            tambon=tambons.get(village.code[:6], ""),
            submitted=submitted.get(village.code, 0),
            approved=approved.get(village.code, 0),
            published=published.get(village.code, 0),
            median_hours_to_approve=medians.get(village.code),
            days_since_last_news=max(0, (reference - last).days) if last is not None else None,
        ))
    return rows


def statistics_csv(rows: list[VillageStats], *, thai_header: bool = True) -> bytes:
    """UTF-8 with a BOM (so Excel shows Thai), one row per village; a Thai header row by default."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER_TH if thai_header else CSV_COLUMNS)
    for row in rows:
        writer.writerow([_formula_safe(row.village_code), _formula_safe(row.village), _formula_safe(row.tambon),
                         row.submitted, row.approved, row.published,
                         "" if row.median_hours_to_approve is None else row.median_hours_to_approve,
                         "" if row.days_since_last_news is None else row.days_since_last_news])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _formula_safe(cell: str) -> str:
    """A name starting with = + - @ would run as a formula in Excel: prefix it with a quote."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell
