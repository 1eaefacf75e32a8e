"""The calendar of scheduled (and already published) posts, by week or month, in Bangkok days."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import and_, or_, select
from starlette.responses import Response

from network_hub.db.models import NewsItem
from network_hub.errors import InvalidInput
from network_hub.permissions import Action
from network_hub.states import ItemStatus
from network_hub.web.datepicker import BE_OFFSET, month_names, parse_date
from network_hub.web.deps import VIEWER, Viewer, get_hub, now, render, transaction
from network_hub.web.presenters import area_clause

router = APIRouter()
SHOWN = (ItemStatus.SCHEDULED.value, ItemStatus.APPROVED.value, ItemStatus.PUBLISHING.value,
         ItemStatus.PUBLISHED.value, ItemStatus.PARTIALLY_PUBLISHED.value)
THAI_DOW = ("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา.")
EN_DOW = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _period(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last shown, previous anchor, next anchor)."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=7), anchor - timedelta(days=7), anchor + timedelta(days=7)
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = first - timedelta(days=first.weekday())
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    previous = (first - timedelta(days=1)).replace(day=1)
    return start, end, previous, following


@router.get("/calendar")
def calendar_page(request: Request, viewer: Viewer = VIEWER, view: str = "week", day: str = "") -> Response:
    areas = viewer.require_anywhere(Action.VIEW_ITEM)
    tz = get_hub(request).settings.tz
    today = now(request).astimezone(tz).date()
    if view not in ("week", "month"):
        view = "week"
    anchor = _anchor(request.query_params, day, today)
    start, end, previous, following = _period(view, anchor)
    lo = datetime.combine(start, time(), tz)
    hi = datetime.combine(end, time(), tz)
    when = NewsItem.scheduled_at
    with transaction(request) as session:
        items = list(session.scalars(
            select(NewsItem).where(
                NewsItem.status.in_(SHOWN), area_clause(NewsItem.village_code, areas),
                or_(and_(when >= lo, when < hi), and_(NewsItem.published_at >= lo, NewsItem.published_at < hi)),
            ).order_by(NewsItem.id).limit(2000)))
    by_day: dict[date, list[tuple[datetime, NewsItem]]] = defaultdict(list)
    for item in items:
        moment = item.scheduled_at or item.published_at
        if item.published_at is not None and lo <= item.published_at < hi:
            moment = item.published_at
        if moment is not None:
            by_day[moment.astimezone(tz).date()].append((moment, item))
    days = []
    cursor = start
    while cursor < end:
        entries = sorted(by_day.get(cursor, []), key=lambda pair: pair[0])
        days.append({"date": cursor, "entries": entries, "today": cursor == today,
                     "other": view == "month" and cursor.month != anchor.month})
        cursor += timedelta(days=1)
    lang = viewer.language
    return render(request, "calendar.html", view=view, days=days, anchor=anchor, previous=previous,
                  following=following, dow=EN_DOW if lang == "en" else THAI_DOW, tz=tz,
                  heading=_heading(view, anchor, start, end, lang))


def _anchor(fields: Mapping[str, str], day: str, today: date) -> date:
    """The day the view is drawn around: "go to" a Buddhist Era month and year (its first day),
    or ``?day=YYYY-MM-DD`` (the previous/next links), or today."""
    if fields.get("go_month") or fields.get("go_year"):
        picked = parse_date({**fields, "go_day": "1"}, "go", what_th="เดือนที่เลือก")
        if picked is not None:
            return picked
    if not day:
        return today
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(f"{day!r} is not a date (YYYY-MM-DD)", f"'{day}' ไม่ใช่วันที่ (ปปปป-ดด-วว)") from None


def _heading(view: str, anchor: date, start: date, end: date, language: str) -> str:
    """What the calendar shows, in words: "ธันวาคม พ.ศ. 2569" or "23 – 29 พฤศจิกายน พ.ศ. 2569"."""
    months = month_names(language)
    if language == "en":
        if view == "month":
            return f"{months[anchor.month - 1]} {anchor.year}"
        last = end - timedelta(days=1)
        return f"{start.day} {months[start.month - 1]} – {last.day} {months[last.month - 1]} {last.year}"
    if view == "month":
        return f"{months[anchor.month - 1]} พ.ศ. {anchor.year + BE_OFFSET}"
    last = end - timedelta(days=1)
    first = f"{start.day}" if start.month == last.month else f"{start.day} {months[start.month - 1]}"
    if start.year != last.year:
        first += f" พ.ศ. {start.year + BE_OFFSET}"
    return f"{first} – {last.day} {months[last.month - 1]} พ.ศ. {last.year + BE_OFFSET}"
