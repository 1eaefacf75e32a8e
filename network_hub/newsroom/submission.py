"""Submitting news: validation (nothing is written unless everything is right), then the item.

Limits: body 1..20,000 UTF-16 units (what Telegram counts), title ≤ 200 characters (the first
line of the body when not given), a known category, an existing village (8 digits) the author
holds a grant over, 0–10 photos (see ``photos``). Text is normalised (``text.normalize_text``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from network_hub.db.models import Area, Member, NewsItem
from network_hub.errors import InvalidInput, NotFound
from network_hub.newsroom import pdpa, receipts
from network_hub.newsroom.labels import CATEGORY_TH
from network_hub.newsroom.photos import PhotoInput, attach_photos, prepare_photos
from network_hub.newsroom.records import record_change, tell_author
from network_hub.newsroom.text import TITLE_MAX, default_title, is_derived_title, normalize_line, normalize_text
from network_hub.notifications import NotificationKind
from network_hub.permissions import Action, Actor, load_actor, require
from network_hub.states import AreaLevel, Category, ItemStatus, MemberStatus
from network_hub.thai import utf16_len

BODY_MAX_UTF16 = 20_000


def clean_body(body: str) -> str:
    text = normalize_text(body)
    if not text:
        raise InvalidInput("the news text is empty; write what happened", "กรุณาพิมพ์เนื้อหาข่าว (ข้อความว่างเปล่า)")
    length = utf16_len(text)
    if length > BODY_MAX_UTF16:
        raise InvalidInput(
            f"the news text is {length:,} characters (UTF-16 units); the limit is {BODY_MAX_UTF16:,}",
            f"เนื้อหาข่าวยาว {length:,} ตัวอักษร เกินกำหนด {BODY_MAX_UTF16:,} ตัวอักษร กรุณาตัดให้สั้นลง",
        )
    return text


def clean_title(title: str | None, body: str) -> str:
    """The given title (normalised, ≤ 200 characters) or the first line of the body."""
    if title is None or not normalize_line(title):
        return default_title(body)
    text = normalize_line(title)
    if len(text) > TITLE_MAX:
        raise InvalidInput(
            f"the title is {len(text)} characters; the limit is {TITLE_MAX}",
            f"หัวข้อข่าวยาว {len(text)} ตัวอักษร เกินกำหนด {TITLE_MAX} ตัวอักษร",
        )
    return text


def clean_category(category: str) -> Category:
    try:
        return Category((category or "").strip().lower())
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        choices_th = ", ".join(f"{c.value} ({CATEGORY_TH[c]})" for c in Category)
        raise InvalidInput(
            f"{category!r} is not a category; choose one of: {choices}",
            f"'{category}' ไม่ใช่หมวดข่าว เลือกได้จาก: {choices_th}",
        ) from None


def village_area(session: Session, code: str) -> Area:
    code = (code or "").strip()
    if not re.fullmatch(r"\d{8}", code):
        raise InvalidInput(
            f"{code!r} is not a village code: 8 digits (tambon code + หมู่ที่), e.g. 52010101",
            f"'{code}' ไม่ใช่รหัสหมู่บ้าน ต้องเป็นตัวเลข 8 หลัก (รหัสตำบล + หมู่ที่) เช่น 52010101",
        )
    area = session.get(Area, code)
    if area is None or area.level != AreaLevel.VILLAGE:
        raise NotFound(
            f"village {code} is not known (add it with: network-hub village add {code} --name NAME)",
            f"ไม่พบหมู่บ้านรหัส {code} ในระบบ",
        )
    return area


def title_after_text_change(item: NewsItem, new_body: str, new_title: str | None) -> str:
    """A new title when given; else the old one, unless it was only the body's first line."""
    if new_title is not None and normalize_line(new_title):
        return clean_title(new_title, new_body)
    if is_derived_title(item.title, item.body):
        return default_title(new_body)
    return item.title


def submit_item(
    session: Session,
    *,
    actor: Actor,
    author_id: int,
    village_code: str,
    category: str,
    body: str,
    title: str | None = None,
    photos: Sequence[PhotoInput] = (),
    consent: pdpa.Consent | None = None,
    now: datetime,
    media_dir: Path,
    via: str = "cli",
) -> NewsItem:
    """Create a ``submitted`` item with its receipt number, PDPA flags and photos.

    ``actor`` is who submits: the author themselves, or a moderator/admin entering it on the
    author's behalf (then the author must still hold a grant over the village).
    """
    clean = clean_body(body)
    clean_head = clean_title(title, clean)
    cat = clean_category(category)
    village = village_area(session, village_code)
    author = session.get(Member, author_id)
    if author is None:
        raise NotFound(f"member {author_id} does not exist", f"ไม่พบสมาชิกหมายเลข {author_id}")
    if author.status != MemberStatus.ACTIVE:
        raise InvalidInput(f"member {author_id} is {author.status} and cannot submit news",
                           "บัญชีผู้ส่งข่าวถูกระงับการใช้งาน")
    require(load_actor(session, author_id), Action.SUBMIT, village.code)
    if actor.member_id != author_id:
        require(actor, Action.MODERATE, village.code)
    prepared = prepare_photos(photos)  # every photo validated before anything is written

    consent_answers = consent or pdpa.Consent()
    flags = pdpa.detect_flags(f"{clean_head}\n{clean}", consent_answers)
    item = NewsItem(
        receipt_no=receipts.placeholder(), village_code=village.code, author_id=author_id,
        category=cat.value, title=clean_head, body=clean, status=ItemStatus.SUBMITTED.value,
        pdpa_flags=[f.value for f in flags], consent=consent.to_dict() if consent else {},
        version=1, submitted_at=now, created_at=now, updated_at=now,
    )
    session.add(item)
    session.flush()
    item.receipt_no = receipts.receipt_number(item.id, now)
    attach_photos(item, prepared, media_dir, now)
    session.flush()
    record_change(session, item, action="submit", actor=actor, via=via, now=now, before=None, with_text=True,
                  extra={"receipt_no": item.receipt_no, "village": item.village_code, "category": item.category})
    tell_author(session, item, NotificationKind.ITEM_RECEIVED, now=now, actor=actor)
    return item
