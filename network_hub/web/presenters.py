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
            verbs=verbs_for(viewer, item),
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
