"""Public, no sign-in: Atom and JSON Feed of an area's published news, one news page, and photos.

A feed holds the published and partially published items of the area and every area below it,
newest first; a withdrawn item leaves it (its photos stop being served too). Machine dates are
RFC 3339 in UTC; the date people read is in Thai Buddhist Era, Asia/Bangkok. Responses carry an
ETag (hash of the body), Last-Modified (the newest change among the items) and a short public
Cache-Control, and answer conditional requests with 304.

Authors are shown as the village and tambon (as on every post), never a volunteer's name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import FileResponse, Response

from network_hub.areas import attribution, get_area, village_label
from network_hub.db.models import NewsItem, Photo
from network_hub.errors import NotFound
from network_hub.newsroom.labels import CATEGORY_TH
from network_hub.newsroom.receipts import parse_receipt
from network_hub.permissions import ROOT_AREA
from network_hub.states import ItemStatus
from network_hub.textclean import strip_controls
from network_hub.thai import be_datetime
from network_hub.web.deps import get_hub, render, transaction

router = APIRouter()
PUBLIC = (ItemStatus.PUBLISHED.value, ItemStatus.PARTIALLY_PUBLISHED.value)
# Photos are also served while an approved item is still going out: LINE fetches a post's images
# from this route itself (there is no upload), possibly before the item's last outlet is done.
MEDIA_PUBLIC = (*PUBLIC, ItemStatus.PUBLISHING.value)
FEED_SIZE = 50
CACHE_CONTROL = "public, max-age=300"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _published_items(session: Session, area_code: str) -> list[NewsItem]:
    query = select(NewsItem).options(selectinload(NewsItem.photos)).where(NewsItem.status.in_(PUBLIC))
    if area_code != ROOT_AREA:
        query = query.where(NewsItem.village_code.startswith(area_code, autoescape=True))
    return list(session.scalars(query.order_by(NewsItem.published_at.desc(), NewsItem.id.desc()).limit(FEED_SIZE)))


def _entry_data(session: Session, item: NewsItem, base: str, tz: Any) -> dict[str, Any]:
    where = attribution(session, item.village_code)
    place = " ".join(p for p in (where["village"], where["tambon"] and f"ต.{where['tambon']}",
                                 where["district"] and f"อ.{where['district']}") if p)
    published = item.published_at or item.updated_at
    return {
        "item": item,
        "url": f"{base}/news/{item.receipt_no}",
        "place": place,
        "published": published,
        "updated": max(item.updated_at, published),
        "displayed_date": be_datetime(published, tz),
        "category_th": CATEGORY_TH.get(item.category, item.category),
        "photos": [{"url": f"{base}/media/{p.path}", "type": p.content_type, "size": p.size_bytes}
                   for p in item.photos],
    }


class FeedData:
    def __init__(self, request: Request, area_code: str) -> None:
        hub = get_hub(request)
        self.base = hub.settings.public_base_url.rstrip("/")
        self.tz = hub.settings.tz
        with transaction(request) as session:
            self.area = get_area(session, area_code)
            self.area_name = self.area.name_th if self.area.level != "village" else village_label(self.area)
            items = _published_items(session, self.area.code)
            self.entries = [_entry_data(session, item, self.base, self.tz) for item in items]
            created = self.area.created_at
        self.updated = max((e["updated"] for e in self.entries), default=created)
        self.title = f"ข่าวประชาสัมพันธ์ {self.area_name}"

    def tag(self, item: NewsItem) -> str:
        host = urlsplit(self.base).hostname or "localhost"
        day = (item.published_at or item.created_at).astimezone(UTC).date().isoformat()
        return f"tag:{host},{day}:{item.receipt_no}"


def _text_content(entry: dict[str, Any]) -> str:
    item: NewsItem = entry["item"]
    return f"{item.body}\n\n{entry['place']}\nเผยแพร่ {entry['displayed_date']} · เลขรับ {item.receipt_no}"


def atom_document(feed: FeedData, self_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "th"})

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        # XML 1.0 forbids most control characters: one stored before textclean would break the feed.
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: strip_controls(v) for k, v in attrs.items()})
        if text is not None:
            element.text = strip_controls(text)
        return element

    sub(root, "id", f"{feed.base}/feeds/{feed.area.code}.atom")
    sub(root, "title", feed.title)
    sub(root, "subtitle", "ข่าวจากเครือข่ายนักประชาสัมพันธ์หมู่บ้านและตำบล")
    sub(root, "updated", rfc3339(feed.updated))
    author = sub(root, "author")
    sub(author, "name", f"เครือข่ายประชาสัมพันธ์ {feed.area_name}")
    sub(root, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(root, "link", rel="alternate", type="application/feed+json", href=f"{feed.base}/feeds/{feed.area.code}.json")
    sub(root, "generator", "Tambon PR Hub")
    sub(root, "rights", "ข้อมูลพื้นที่: GeoThai (CC BY 4.0)")
    for entry in feed.entries:
        item: NewsItem = entry["item"]
        node = sub(root, "entry")
        sub(node, "id", feed.tag(item))
        sub(node, "title", item.title)
        sub(node, "published", rfc3339(entry["published"]))
        sub(node, "updated", rfc3339(entry["updated"]))
        entry_author = sub(node, "author")
        sub(entry_author, "name", entry["place"])
        sub(node, "link", rel="alternate", type="text/html", href=entry["url"])
        for photo in entry["photos"]:
            sub(node, "link", rel="enclosure", type=photo["type"], href=photo["url"], length=str(photo["size"]))
        sub(node, "category", term=item.category, label=entry["category_th"])
        sub(node, "summary", f"{entry['place']} · {entry['displayed_date']}")
        sub(node, "content", _text_content(entry), type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def json_feed_document(feed: FeedData, self_url: str) -> bytes:
    items = []
    for entry in feed.entries:
        item: NewsItem = entry["item"]
        data: dict[str, Any] = {
            "id": feed.tag(item),
            "url": entry["url"],
            "title": item.title,
            "content_text": _text_content(entry),
            "summary": f"{entry['place']} · {entry['displayed_date']}",
            "date_published": rfc3339(entry["published"]),
            "date_modified": rfc3339(entry["updated"]),
            "authors": [{"name": entry["place"]}],
            "tags": [entry["category_th"]],
            "language": "th",
            "_tambon_pr_hub": {"receipt_no": item.receipt_no, "village_code": item.village_code,
                               "category": item.category, "displayed_date": entry["displayed_date"],
                               "status": item.status},
        }
        if entry["photos"]:
            data["image"] = entry["photos"][0]["url"]
            data["attachments"] = [{"url": p["url"], "mime_type": p["type"], "size_in_bytes": p["size"]}
                                   for p in entry["photos"]]
        items.append(data)
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.base,
        "feed_url": self_url,
        "description": "ข่าวจากเครือข่ายนักประชาสัมพันธ์หมู่บ้านและตำบล",
        "language": "th",
        "authors": [{"name": f"เครือข่ายประชาสัมพันธ์ {feed.area_name}"}],
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _cached(request: Request, body: bytes, media_type: str, last_modified: datetime) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    modified = last_modified.astimezone(UTC).replace(microsecond=0)
    headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True), "Cache-Control": CACHE_CONTROL,
               "Access-Control-Allow-Origin": "*"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*":
            return Response(status_code=304, headers=headers)
    elif (since := request.headers.get("if-modified-since")) is not None:
        try:
            if modified <= parsedate_to_datetime(since):
                return Response(status_code=304, headers=headers)
        except (TypeError, ValueError):
            pass
    return Response(body, media_type=media_type, headers=headers)


@router.get("/feeds/{area_code}.atom")
def atom_feed(request: Request, area_code: str) -> Response:
    feed = FeedData(request, area_code)
    body = atom_document(feed, f"{feed.base}/feeds/{feed.area.code}.atom")
    return _cached(request, body, "application/atom+xml; charset=utf-8", feed.updated)


@router.get("/feeds/{area_code}.json")
def json_feed(request: Request, area_code: str) -> Response:
    feed = FeedData(request, area_code)
    body = json_feed_document(feed, f"{feed.base}/feeds/{feed.area.code}.json")
    return _cached(request, body, "application/feed+json; charset=utf-8", feed.updated)


@router.get("/news/{receipt_no}")
def public_item(request: Request, receipt_no: str) -> Response:
    """One published item, for the links in the feeds (what a tambon website links to)."""
    hub = get_hub(request)
    item_id = parse_receipt(receipt_no)
    with transaction(request) as session:
        item = session.scalar(select(NewsItem).options(selectinload(NewsItem.photos))
                              .where(NewsItem.id == item_id, NewsItem.status.in_(PUBLIC))) if item_id else None
        if item is None or item.receipt_no != receipt_no:
            raise NotFound(f"no published news {receipt_no}", "ไม่พบข่าวนี้ หรือข่าวถูกถอนแล้ว")
        entry = _entry_data(session, item, hub.settings.public_base_url.rstrip("/"), hub.settings.tz)
    return render(request, "public_item.html", entry=entry, item=item)


@router.get("/media/{path:path}")
def media(request: Request, path: str) -> Response:
    """A photo of a published item (only those: a photo waiting for approval is not public)."""
    hub = get_hub(request)
    with transaction(request) as session:
        photo = session.scalar(
            select(Photo).join(NewsItem, NewsItem.id == Photo.item_id)
            .where(Photo.path == path, NewsItem.status.in_(MEDIA_PUBLIC)).limit(1))
        if photo is None:
            raise NotFound(f"no public photo at {path}", "ไม่พบภาพนี้")
        content_type = photo.content_type
    root = hub.settings.resolved_media_dir.resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise NotFound(f"media file {path} is missing", "ไม่พบไฟล์ภาพ")
    return FileResponse(file, media_type=content_type, headers={"Cache-Control": "public, max-age=3600"})



