"""Turning news items into what a page shows: labels, names and the buttons the viewer may press.

Names are loaded for a whole page at once (one query for villages, one for authors), never one
query per card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub.areas import village_label
from network_hub.db.models import Area, Member, NewsItem
from network_hub.newsroom.moderation import allowed_verbs
from network_hub.permissions import Action
from network_hub.states import AreaLevel, ItemStatus
from network_hub.web.deps import Viewer

MODERATION_VERBS = frozenset({"edit", "approve", "reschedule", "unschedule", "reject", "return"})
PUBLISHED_VERBS = frozenset({"correct", "withdraw"})


@dataclass
class ItemCard:
    item: NewsItem
    village: str
    tambon: str
    author: str
    verbs: list[str] = field(default_factory=list)
    photos: list[dict[str, Any]] = field(default_factory=list)
    why_not: list[str] = field(default_factory=list)  # why an expected button is not there (Thai/English)


def verbs_for(viewer: Viewer, item: NewsItem) -> list[str]:
    """The lifecycle verbs both the item's status and the viewer's grants allow."""
    may_moderate = viewer.can(Action.MODERATE, item.village_code, author_id=item.author_id)
    may_change = viewer.can(Action.CHANGE_PUBLISHED, item.village_code, author_id=item.author_id)
    may_correct = viewer.can(Action.CORRECT_PUBLISHED, item.village_code, author_id=item.author_id)
    out = []
    for verb in allowed_verbs(item):
        if verb == "correct" and not may_correct:
            continue  # the author's own published item: another moderator corrects it
        if (verb in MODERATION_VERBS and may_moderate) or (verb in PUBLISHED_VERBS and may_change):
            out.append(verb)
    return out


def why_not(viewer: Viewer, item: NewsItem, verbs: list[str]) -> list[str]:
    """Say why a button the viewer might expect is missing, instead of letting it vanish silently."""
    english = viewer.language == "en"
    reasons = []
    own = item.author_id == viewer.member_id
    if own and item.status == ItemStatus.SUBMITTED and "approve" not in verbs \
            and viewer.can(Action.MODERATE, item.village_code):
        reasons.append("Authors cannot approve their own news: another moderator of the area decides it."
                       if english else "ผู้ส่งข่าวอนุมัติข่าวของตนเองไม่ได้ ผู้ตรวจข่าวคนอื่นในพื้นที่จะเป็นผู้พิจารณา")
    if own and item.status == ItemStatus.CHANGES_REQUESTED:
        reasons.append("Returned for changes: fix it and send it again in the Telegram bot (/mine)."
                       if english else "ข่าวนี้ถูกส่งกลับให้แก้ไข: แก้ไขแล้วส่งใหม่ได้ในบอท Telegram (คำสั่ง /mine)")
    if own and item.status in (ItemStatus.PUBLISHED, ItemStatus.PARTIALLY_PUBLISHED) and "correct" not in verbs \
            and viewer.can(Action.MODERATE, item.village_code):
        reasons.append("Another moderator corrects your own published news." if english
                       else "ข่าวที่ท่านเป็นผู้ส่ง ผู้ตรวจข่าวคนอื่นเป็นผู้แก้ไขหลังเผยแพร่")
    return reasons


def area_names(session: Session, codes: set[str]) -> dict[str, str]:
    """Thai names with their level ("ต.เวียงเหนือ", "หมู่ที่ 1 บ้าน…", "ทั้งประเทศ") for area codes."""
    found = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(codes)))} if codes else {}
    names = {}
    for code in codes:
        area = found.get(code)
        names[code] = _area_name(area) if area else code
    return names


PREFIX_TH = {AreaLevel.PROVINCE: "จ.", AreaLevel.DISTRICT: "อ.", AreaLevel.SUBDISTRICT: "ต."}
MAX_AREA_OPTIONS = 400


def _area_name(area: Area) -> str:
    if area.level == AreaLevel.COUNTRY:
        return "ทั้งประเทศ"
    if area.level == AreaLevel.VILLAGE:
        return village_label(area)
    return f"{PREFIX_TH.get(AreaLevel(area.level), '')}{area.name_th}"


def area_options(session: Session, codes: Sequence[str]) -> list[tuple[str, str]]:
    """(code, Thai name) for a filter's select: the viewer's areas and what lies below them, in code
    order, indented by level; villages are left out when a national/provincial viewer would get hundreds."""
    from network_hub.permissions import ROOT_AREA

    if not codes:
        return []
    query = select(Area).order_by(Area.code)
    if ROOT_AREA not in codes:
        query = query.where(area_clause(Area.code, list(codes)))
    rows = list(session.scalars(query.limit(MAX_AREA_OPTIONS + 1)))
    if len(rows) > MAX_AREA_OPTIONS:
        rows = list(session.scalars(query.where(Area.level != AreaLevel.VILLAGE).limit(MAX_AREA_OPTIONS)))
    depth = {AreaLevel.COUNTRY: 0, AreaLevel.PROVINCE: 1, AreaLevel.DISTRICT: 2, AreaLevel.SUBDISTRICT: 3,
             AreaLevel.VILLAGE: 4}
    top = min((depth.get(AreaLevel(a.level), 0) for a in rows), default=0)
    return [(a.code, "\u00a0\u00a0" * (depth.get(AreaLevel(a.level), 0) - top) + _area_name(a)) for a in rows]


def item_cards(session: Session, viewer: Viewer, items: Sequence[NewsItem]) -> list[ItemCard]:
    village_codes = {i.village_code for i in items}
    codes = village_codes | {c[:6] for c in village_codes}
    areas = {a.code: a for a in session.scalars(select(Area).where(Area.code.in_(codes)))} if codes else {}
    author_ids = {i.author_id for i in items}
    names = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(author_ids))).all()) \
        if author_ids else {}
    cards = []
    for item in items:
        village = areas.get(item.village_code)
        tambon = areas.get(item.village_code[:6])
        cards.append(ItemCard(
            item=item,
            village=village_label(village) if village else item.village_code,
            tambon=tambon.name_th if tambon else "",
            author=names.get(item.author_id, f"#{item.author_id}"),
            verbs=(verbs := verbs_for(viewer, item)),
            why_not=why_not(viewer, item, verbs),
            photos=[{"position": p.position, "width": p.width, "height": p.height} for p in item.photos],
        ))
    return cards


def area_clause(column: Any, areas: Sequence[str]) -> Any:
    """SQL: ``column`` (an area code) lies in one of ``areas`` or below (prefix match)."""
    from sqlalchemy import false, or_, true

    from network_hub.permissions import ROOT_AREA

    if ROOT_AREA in areas:
        return true()
    if not areas:
        return false()
    return or_(*(column.startswith(code, autoescape=True) for code in areas))
