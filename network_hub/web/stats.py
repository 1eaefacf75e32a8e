"""Per-village statistics for a chosen period, with a bar chart and a CSV export (UTF-8 with BOM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from network_hub.areas import validate_code
from network_hub.errors import InvalidInput, PermissionDenied
from network_hub.permissions import Action, require
from network_hub.stats import VillageStats, statistics_csv, village_statistics
from network_hub.web.datepicker import parse_date
from network_hub.web.deps import VIEWER, Viewer, get_hub, now, render, transaction
from network_hub.web.presenters import area_options

router = APIRouter()
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Query:
    area: str
    start_day: date
    end_day: date  # inclusive, as people say "1 to 30 November"

    def bounds(self, tz: object) -> tuple[datetime, datetime]:
        start = datetime.combine(self.start_day, time(), tz)  # type: ignore[arg-type]
        end = datetime.combine(self.end_day + timedelta(days=1), time(), tz)  # type: ignore[arg-type]
        return start, end


def _query(request: Request, viewer: Viewer, area: str) -> Query:
    """The period and area asked for: Buddhist Era pickers (``start_day``/``start_month``/``start_year``)
    or ISO dates (``start=2026-11-01``, for links and the CSV button)."""
    areas = viewer.require_anywhere(Action.VIEW_STATS)
    code = validate_code(area) if area.strip() else areas[0]
    require(viewer.actor, Action.VIEW_STATS, code)
    today = now(request).astimezone(get_hub(request).settings.tz).date()
    fields = request.query_params
    end_day = parse_date(fields, "end", what_th="วันที่สิ้นสุด") or today
    start_day = parse_date(fields, "start", what_th="วันที่เริ่มต้น") or end_day - timedelta(days=29)
    if end_day < start_day:
        raise InvalidInput("the period ends before it starts", "วันที่สิ้นสุดต้องไม่ก่อนวันที่เริ่มต้น")
    if (end_day - start_day).days > MAX_PERIOD_DAYS:
        raise InvalidInput("choose a period of at most three years", "เลือกช่วงเวลาได้ไม่เกิน 3 ปี")
    return Query(code, start_day, end_day)


def _rows(request: Request, query: Query) -> list[VillageStats]:
    start, end = query.bounds(get_hub(request).settings.tz)
    with transaction(request) as session:
        return village_statistics(session, area_code=query.area, start=start, end=end, now=now(request))


@router.get("/stats")
def stats_page(request: Request, viewer: Viewer = VIEWER, area: str = "") -> Response:
    """A wrong area or period shows the form again with the error and the default numbers."""
    error, status_code = None, 200
    try:
        query = _query(request, viewer, area)
    except (InvalidInput, PermissionDenied) as exc:
        error, status_code = exc.message(viewer.language), 403 if isinstance(exc, PermissionDenied) else 400
        today = now(request).astimezone(get_hub(request).settings.tz).date()
        query = Query(viewer.require_anywhere(Action.VIEW_STATS)[0], today - timedelta(days=29), today)
    rows = _rows(request, query)
    peak = max((max(r.submitted, r.approved, r.published) for r in rows), default=0) or 1
    totals = {"submitted": sum(r.submitted for r in rows), "approved": sum(r.approved for r in rows),
              "published": sum(r.published for r in rows)}
    with transaction(request) as session:
        options = area_options(session, viewer.areas(Action.VIEW_STATS))
    return render(request, "stats.html", status_code=status_code, rows=rows, query=query, peak=peak,
                  totals=totals, area_options=options, error=error)


@router.get("/stats.csv")
def stats_csv(request: Request, viewer: Viewer = VIEWER, area: str = "") -> Response:
    query = _query(request, viewer, area)
    body = statistics_csv(_rows(request, query))
    filename = f"stats-{query.area}-{query.start_day.isoformat()}-{query.end_day.isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})
