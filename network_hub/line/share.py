""""แชร์ไปยัง LINE": a ``line.me/R/share`` link a person taps to share a published item.

A share made by a person is sent as that person, so it costs the Official Account nothing (only
pushes and broadcasts count against the monthly quota). The text is the title, a short excerpt and
the item's public page, which carries the photos and the whole text.
"""

from __future__ import annotations

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
