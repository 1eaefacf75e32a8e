""""แชร์ไปยัง LINE": a ``line.me/R/share`` link a person taps to share a published item.

A share made by a person is sent as that person, so it costs the Official Account nothing (only
pushes and broadcasts count against the monthly quota). The text is the title, a short excerpt and
the item's public page, which carries the photos and the whole text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

SHARE_BASE = "https://line.me/R/share?text="
EXCERPT_CHARS = 180
PUBLIC_STATUSES = ("published", "partially_published")


def share_text(title: str, body: str, page_url: str) -> str:
    text = " ".join(body.split())
    if title.strip() and text.startswith(title.strip()):
        text = text[len(title.strip()):].strip()
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
    return "\n".join(p for p in (title.strip(), excerpt, page_url) if p)


def share_url(title: str, body: str, page_url: str) -> str:
    """The one-tap share link (percent-encoded UTF-8, as LINE's URL scheme expects)."""
    return SHARE_BASE + quote(share_text(title, body, page_url), safe="")


def item_share_url(item: object, public_base_url: str) -> str | None:
    """The share link of a published item (None before it is public: its page would not open)."""
    if getattr(item, "status", None) not in PUBLIC_STATUSES:
        return None
    page = f"{public_base_url.rstrip('/')}/news/{item.receipt_no}"  # type: ignore[attr-defined]
    return share_url(item.title, item.body, page)  # type: ignore[attr-defined]


def counted_share_path(item: object, public_base_url: str = "") -> str | None:
    """The hub's own link that counts the share, then sends the person on to LINE's share screen."""
    if getattr(item, "status", None) not in PUBLIC_STATUSES:
        return None
    return f"/news/{item.receipt_no}/line-share"  # type: ignore[attr-defined]


# -- how often items were shared (the one-tap link goes through the hub, which counts it) ----------
SHARES_NAMESPACE = "line_shares"


def record_share(session: Any, receipt_no: str, now: Any) -> int:
    from network_hub.db.models import KeyValue

    row = session.get(KeyValue, (SHARES_NAMESPACE, receipt_no))
    if row is None:
        session.add(KeyValue(namespace=SHARES_NAMESPACE, key=receipt_no, value={"count": 1}, updated_at=now))
        return 1
    count = int(row.value.get("count", 0)) + 1
    row.value, row.updated_at = {"count": count}, now
    return count


def least_shared(session: Any, area: str, start: Any, end: Any, limit: int = 3) -> list[dict[str, Any]]:
    """Items of ``area`` published in [start, end), fewest LINE shares first (for the weekly digest)."""
    from sqlalchemy import select

    from network_hub.db.models import KeyValue, NewsItem

    query = select(NewsItem.receipt_no, NewsItem.title).where(
        NewsItem.status.in_(PUBLIC_STATUSES), NewsItem.published_at >= start, NewsItem.published_at < end)
    if area != "TH":
        query = query.where(NewsItem.village_code.startswith(area, autoescape=True))
    items = session.execute(query.limit(500)).all()
    if not items:
        return []
    counts = {row.key: int(row.value.get("count", 0)) for row in session.scalars(
        select(KeyValue).where(KeyValue.namespace == SHARES_NAMESPACE,
                               KeyValue.key.in_([r for r, _ in items])))}
    ranked = sorted(items, key=lambda it: (counts.get(it[0], 0), it[0]))
    return [{"receipt_no": r, "title": t, "shares": counts.get(r, 0)} for r, t in ranked[:limit]]
