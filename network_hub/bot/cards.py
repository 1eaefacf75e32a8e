"""The moderators' card for one news item: what it says and which buttons it carries.

A card is built from ``CardView`` (plain values read in one transaction), so the same function
renders a fresh card, a card after a decision ("approved by … on …") and a card refreshed because
someone decided on the web or the CLI. Buttons carry the item's version: a press on an older card
changes nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from network_hub.areas import ancestors, attribution
from network_hub.bot import callbacks
from network_hub.bot.texts import raw, t
from network_hub.db.models import Area, Member, NewsItem
from network_hub.newsroom.labels import CATEGORY_TH, PDPA_FLAG_TH, status_th
from network_hub.photo_checks.present import card_lines as photo_card_lines
from network_hub.states import ItemStatus
from network_hub.thai import be_datetime, utf16_len
from publishers.render import attribution_line

RETURN_REASONS = (
    "กรุณาเพิ่มรายละเอียด: ใคร ทำอะไร ที่ไหน เมื่อไร",
    "ภาพไม่ชัดหรือไม่เกี่ยวกับข่าว กรุณาส่งภาพใหม่",
    "มีข้อมูลส่วนบุคคล (เลขบัตร เบอร์โทร ภาพเด็ก) กรุณาลบออก",
    "กรุณาตรวจสอบการสะกดคำและข้อเท็จจริงอีกครั้ง",
)
REJECT_REASONS = (
    "ไม่ใช่ข่าวของหมู่บ้านหรือตำบล",
    "ซ้ำกับข่าวที่เผยแพร่แล้ว",
    "ไม่เหมาะสมที่จะเผยแพร่ต่อสาธารณะ",
)
CARD_BODY_BUDGET = 3000  # UTF-16 units of the body on a card (the card itself must stay ≤ 4096)
SLOT_HOURS = (7, 12, 18)
SLOT_MIN_LEAD = timedelta(minutes=15)
# What the moderator decided, whatever happened after (publishing is the engine's, not theirs).
DECISION_OF = {ItemStatus.PUBLISHING: ItemStatus.APPROVED, ItemStatus.PUBLISHED: ItemStatus.APPROVED,
               ItemStatus.PARTIALLY_PUBLISHED: ItemStatus.APPROVED, ItemStatus.FAILED: ItemStatus.APPROVED}


@dataclass(frozen=True)
class CardView:
    item_id: int
    version: int
    receipt_no: str
    status: str
    village_code: str
    place: str
    category: str
    author: str
    title: str
    body: str
    pdpa_flags: tuple[str, ...]
    consent: dict[str, bool]
    photos: tuple[tuple[str | None, str], ...]  # (telegram file id, media path)
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    scheduled_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


def load_card(session: Session, item_id: int) -> CardView | None:
    item = session.get(NewsItem, item_id, populate_existing=True)
    if item is None:
        return None
    author = session.get(Member, item.author_id)
    decider = session.get(Member, item.decided_by) if item.decided_by else None
    return CardView(
        item_id=item.id, version=item.version, receipt_no=item.receipt_no, status=item.status,
        village_code=item.village_code, place=attribution_line(attribution(session, item.village_code)),
        category=item.category, author=author.name if author else "?", title=item.title, body=item.body,
        pdpa_flags=tuple(item.pdpa_flags or []), consent=dict(item.consent or {}),
        photos=tuple((p.telegram_file_id, p.path) for p in item.photos),
        decided_by=decider.name if decider else None, decided_at=item.decided_at,
        reason=item.decision_reason, scheduled_at=item.scheduled_at,
        extra={"photo_checks": "\n".join(photo_card_lines(session, item.id))},  # issue 16: which photo has what
    )


def moderation_chat(session: Session, village_code: str) -> int | None:
    """The moderators' group of the village's area, or of the nearest area above that has one."""
    chain = ancestors(village_code)
    rows = dict(session.execute(select(Area.code, Area.moderation_chat_id).where(Area.code.in_(chain))).all())
    for code in chain:
        if rows.get(code):
            return int(rows[code])
    return None


def _yes(value: object) -> str:
    return "ใช่" if value else "ไม่"


def _clip(text: str, budget: int) -> str:
    if utf16_len(text) <= budget:
        return text
    out = text[: budget - 1]
    while utf16_len(out) > budget - 1:
        out = out[:-1]
    return out + "…"


def card_text(view: CardView) -> str:
    """The card's HTML (Thai: the moderators' group is a shared, Thai-speaking place)."""
    lines = [f"<b>{t('card_title', 'th', receipt=view.receipt_no)}</b>",
             t("card_meta", "th", village=view.place, category=CATEGORY_TH.get(view.category, view.category),
               author=view.author, photos=len(view.photos))]
    if view.pdpa_flags:
        lines.append(t("card_pdpa", "th", flags=", ".join(PDPA_FLAG_TH.get(f, f) for f in view.pdpa_flags)))
    if view.extra.get("photo_checks"):
        lines.append(html.escape(view.extra["photo_checks"], quote=False))
    if view.consent:
        lines.append(t("card_consent", "th", children=_yes(view.consent.get("photos_show_children")),
                       people=_yes(view.consent.get("identifiable_people")),
                       consent=_yes(view.consent.get("consent_given"))))
    body = view.body
    if body.startswith(view.title):
        body = body[len(view.title):].lstrip("\n")
    lines.append("")
    lines.append(f"<b>{html.escape(view.title, quote=False)}</b>")
    if body:
        lines.append(html.escape(_clip(body, CARD_BODY_BUDGET), quote=False))
    lines.append("")
    lines.append(status_line(view))
    return "\n".join(lines)


def status_line(view: CardView) -> str:
    if view.status == ItemStatus.SUBMITTED:
        return f"⏳ {status_th(view.status)}"
    parts = []
    decision = DECISION_OF.get(view.status, view.status)
    if view.decided_by and view.decided_at:
        parts.append(t("card_decided", "th", status=status_th(decision), who=view.decided_by,
                       when=be_datetime(view.decided_at)))
    else:
        parts.append(status_th(view.status))
    if view.scheduled_at and view.status == ItemStatus.SCHEDULED:
        parts.append(t("card_scheduled_for", "th", when=be_datetime(view.scheduled_at)))
    if view.reason and view.status in (ItemStatus.REJECTED, ItemStatus.CHANGES_REQUESTED):
        parts.append(t("card_reason", "th", reason=view.reason))
    icon = {ItemStatus.REJECTED: "⛔", ItemStatus.CHANGES_REQUESTED: "↩️"}.get(ItemStatus(view.status), "✅")
    return f"{icon} " + "\n".join(parts)


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.checked(data))


def main_keyboard(view: CardView) -> InlineKeyboardMarkup | None:
    if view.status != ItemStatus.SUBMITTED:
        return None
    flagged = bool(view.pdpa_flags)
    i, v = view.item_id, view.version
    return InlineKeyboardMarkup([
        [_button(raw("btn_approve_pdpa" if flagged else "btn_approve"), callbacks.mod("a", i, v)),
         _button(raw("btn_schedule_pdpa" if flagged else "btn_schedule"), callbacks.mod("s", i, v))],
        [_button(raw("btn_return"), callbacks.mod("b", i, v)),
         _button(raw("btn_reject"), callbacks.mod("r", i, v))],
    ])


def schedule_slots(now: datetime, tz: ZoneInfo, count: int = 4) -> list[datetime]:
    """The next few sensible publishing times (07:00, 12:00, 18:00 local), at least 15 minutes ahead."""
    local = now.astimezone(tz)
    slots: list[datetime] = []
    day = local.date()
    while len(slots) < count:
        for hour in SLOT_HOURS:
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            if moment >= local + SLOT_MIN_LEAD and len(slots) < count:
                slots.append(moment.astimezone(UTC))
        day = day + timedelta(days=1)
    return slots


def slot_label(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    prefix = {0: "วันนี้", 1: "พรุ่งนี้"}.get(days, be_datetime(local).split(" เวลา")[0])
    return f"{prefix} {local:%H.%M} น."


def schedule_keyboard(view: CardView, now: datetime, tz: ZoneInfo) -> InlineKeyboardMarkup:
    i, v = view.item_id, view.version
    slots = schedule_slots(now, tz)
    rows = [[_button(slot_label(s, now, tz), callbacks.mod("t", i, v, int(s.timestamp() // 60))) for s in slots[:2]],
            [_button(slot_label(s, now, tz), callbacks.mod("t", i, v, int(s.timestamp() // 60))) for s in slots[2:]],
            [_button(raw("btn_typed_time"), callbacks.mod("tt", i, v)),
             _button(raw("btn_back"), callbacks.mod("x", i, v))]]
    return InlineKeyboardMarkup([row for row in rows if row])


def reasons_keyboard(view: CardView, verb: str) -> InlineKeyboardMarkup:
    """``verb`` is ``b`` (return) or ``r`` (reject)."""
    reasons = RETURN_REASONS if verb == "b" else REJECT_REASONS
    i, v = view.item_id, view.version
    rows = [[_button(reason[:60], callbacks.mod(f"{verb}c", i, v, n))] for n, reason in enumerate(reasons)]
    rows.append([_button(raw("btn_typed_reason"), callbacks.mod(f"{verb}t", i, v)),
                 _button(raw("btn_back"), callbacks.mod("x", i, v))])
    return InlineKeyboardMarkup(rows)
