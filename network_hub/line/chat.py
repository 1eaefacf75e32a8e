"""Sending news from LINE: the 1:1 chat with the hub's Official Account, step by step.

The same steps as the Telegram bot (``network_hub.bot.submit``), driven by quick-reply postback
buttons and answered with reply messages (free: replies do not count against the quota)::

    (not linked) personal invite code ─► linked to the roster entry
    "ส่งข่าว" ─► village (only when the reporter covers several) ─► category ─► text (first line = title)
              ─► photos (0–10; LINE sends several as an image set) ─► children? ─► people? ─► consent?
              ─► preview (as residents will read it) ─► «ส่งข่าว» ─► receipt number

"ยกเลิก" ends any step and keeps nothing. The draft lives in ``kv_store`` (namespace ``line_draft``),
so a restart loses no step. Photos are downloaded from LINE's content endpoint when they arrive
(LINE deletes them later), re-encoded at once by the newsroom photo pipeline (EXIF and GPS
stripped) and staged under the data directory; «ส่งข่าว» hands them to the same ``submit_item``
the bot, CLI and web use, so a refused submission changes nothing.

``handle`` is pure database work and returns the reply messages; the network (content download
before, the reply after the commit) is done by ``network_hub.line.events``.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from network_hub.areas import attribution
from network_hub.db.models import KeyValue, Member
from network_hub.errors import HubError
from network_hub.line.members import is_invite_code, link_by_invite, member_of_line_user
from network_hub.newsroom.labels import CATEGORY_TH
from network_hub.newsroom.pdpa import Consent
from network_hub.newsroom.photos import MAX_PHOTOS, PhotoInput
from network_hub.newsroom.submission import clean_body, submit_item
from network_hub.newsroom.text import default_title
from network_hub.permissions import load_actor
from publishers.base import Post
from publishers.render import render_plain

DRAFT_NAMESPACE = "line_draft"
START_WORDS = ("ส่งข่าว", "ข่าว", "news", "/news")
CANCEL_WORDS = ("ยกเลิก", "cancel", "/cancel")
LABEL_MAX = 20  # LINE's limit for a quick-reply button label
NOTICE_WORDS = {"แจ้งผลรายวัน": "daily", "ปิดการแจ้งผล": "off"}

T = {
    "greet_unlinked": "สวัสดีครับ 🙏 นี่คือช่องทางส่งข่าวประชาสัมพันธ์ของตำบล\n"
                      "กรุณาพิมพ์รหัสเชิญส่วนตัวที่ได้รับจากผู้ดูแล เพื่อเชื่อมบัญชี LINE กับรายชื่อของท่าน",
    "linked": "✅ เชื่อมบัญชี LINE กับคุณ{name} แล้ว\nกด «ส่งข่าว» เมื่อต้องการส่งข่าว",
    "help": "กด «ส่งข่าว» เพื่อเริ่มส่งข่าว หรือพิมพ์ «ยกเลิก» เพื่อเริ่มใหม่",
    "no_villages": "ท่านยังไม่มีสิทธิ์ส่งข่าวของหมู่บ้านใด กรุณาติดต่อผู้ดูแลตำบล",
    "ask_village": "📍 ข่าวนี้เป็นของหมู่บ้านไหน? กดเลือกด้านล่าง",
    "ask_category": "📂 ข่าว{village} เลือกหมวดข่าว:",
    "ask_text": "✍️ หมวด: {category}\nพิมพ์ข่าวเป็นข้อความ บรรทัดแรกจะเป็นหัวข้อข่าว\nพิมพ์ «ยกเลิก» เพื่อยกเลิก",
    "need_text": "กรุณาพิมพ์ข่าวเป็นข้อความ (ภาพส่งได้ในขั้นถัดไป)",
    "ask_photos": "📷 ส่งภาพได้สูงสุด 10 ภาพ แล้วกด «เสร็จแล้ว»\nถ้าไม่มีภาพ กด «ไม่มีภาพ»",
    "photos_received": "ได้รับภาพแล้ว {count} ภาพ ส่งเพิ่มได้ หรือกด «เสร็จแล้ว»",
    "too_many_photos": "ข่าวหนึ่งเรื่องมีภาพได้ไม่เกิน 10 ภาพ ภาพที่เกินไม่ได้ถูกเก็บไว้ กด «เสร็จแล้ว»",
    "photo_failed": "รับภาพนี้ไม่ได้ ({reason}) กรุณาส่งใหม่อีกครั้ง",
    "ask_children": "👶 ในภาพมีเด็กหรือไม่?",
    "ask_people": "🧑 ในภาพเห็นหน้าบุคคลที่ระบุตัวได้หรือไม่?",
    "ask_consent": "✍️ บุคคลในภาพ (หรือผู้ปกครองของเด็ก) ยินยอมให้เผยแพร่แล้วหรือไม่?",
    "preview_intro": "👀 ตัวอย่างข่าวตามที่ประชาชนจะเห็น:",
    "ask_confirm": "ส่งข่าวนี้ให้ผู้ดูแลพิจารณาหรือไม่?",
    "submitted": "✅ ได้รับข่าวแล้ว เลขที่รับ {receipt}\nผู้ดูแลจะพิจารณา และจะแจ้งผลให้ทราบ",
    "cancelled": "ยกเลิกแล้ว ไม่ได้บันทึกข่าว",
    "use_buttons": "กรุณากดปุ่มด้านล่าง",
    "notices_daily": "จะส่งสรุปผลข่าวของท่านวันละครั้ง (เฉพาะวันที่มีความคืบหน้า) ปิดได้โดยพิมพ์ «ปิดการแจ้งผล»",
    "notices_off": "ปิดการแจ้งผลทาง LINE แล้ว เปิดใหม่ได้โดยพิมพ์ «แจ้งผลรายวัน»",
}


def text_message(text: str, buttons: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """A text reply; ``buttons``: (label, postback data) as quick replies (≤ 13)."""
    message: dict[str, Any] = {"type": "text", "text": text[:5000]}
    if buttons:
        message["quickReply"] = {"items": [
            {"type": "action", "action": {"type": "postback", "label": label[:LABEL_MAX], "data": data,
                                          "displayText": label[:300]}}
            for label, data in buttons[:13]]}
    return message


def _draft(session: Session, user: str) -> dict[str, Any] | None:
    row = session.get(KeyValue, (DRAFT_NAMESPACE, user))
    return dict(row.value) if row is not None else None


def _save(session: Session, user: str, draft: dict[str, Any], now: datetime) -> None:
    row = session.get(KeyValue, (DRAFT_NAMESPACE, user))
    if row is None:
        session.add(KeyValue(namespace=DRAFT_NAMESPACE, key=user, value=draft, updated_at=now))
    else:
        row.value, row.updated_at = draft, now


def _drop(session: Session, user: str, staging: Path) -> None:
    row = session.get(KeyValue, (DRAFT_NAMESPACE, user))
    if row is not None:
        session.delete(row)
    shutil.rmtree(staging / user, ignore_errors=True)


def staging_dir(data_dir: Path) -> Path:
    return data_dir / "line_staging"


def handle(session: Session, event: dict[str, Any], extra: dict[str, Any], *, now: datetime, data_dir: Path,
           media_dir: Path) -> list[dict[str, Any]]:
    """Apply one event from a person's 1:1 chat; returns the reply messages (maybe none)."""
    source = event.get("source") or {}
    user = source.get("userId")
    if source.get("type") != "user" or not user:
        return []
    staging = staging_dir(data_dir)
    kind = event.get("type")
    message = event.get("message") or {}
    text = (message.get("text") or "").strip() if kind == "message" and message.get("type") == "text" else None
    postback = (event.get("postback") or {}).get("data") if kind == "postback" else None
    member = member_of_line_user(session, user)
    if member is None:
        if text:
            try:
                linked = link_by_invite(session, text, line_user_id=user, now=now)
            except HubError as exc:
                return [text_message(exc.message("th"))]
            return [text_message(T["linked"].format(name=linked.name), [("ส่งข่าว", "start")])]
        return [text_message(T["greet_unlinked"])] if kind in ("follow", "message") else []
    if kind == "follow":
        return [text_message(T["linked"].format(name=member.name), [("ส่งข่าว", "start")])]
    if is_invite_code(session, text):  # a linked person sends a personal code: theirs again, or someone else's
        try:
            linked = link_by_invite(session, text or "", line_user_id=user, now=now)
        except HubError as exc:
            return [text_message(exc.message("th"))]
        return [text_message(T["linked"].format(name=linked.name), [("ส่งข่าว", "start")])]
    if text in NOTICE_WORDS:  # the member's choice: a daily summary push (default) or none
        from network_hub.line.notices import set_preference

        set_preference(session, member.id, NOTICE_WORDS[text], now)
        return [text_message(T["notices_" + NOTICE_WORDS[text]])]
    if (text or "").lower() in CANCEL_WORDS or postback == "cancel":
        _drop(session, user, staging)
        return [text_message(T["cancelled"], [("ส่งข่าว", "start")])]
    draft = _draft(session, user)
    if draft is None or (text or "").lower() in START_WORDS or postback == "start":
        if draft is None and not ((text or "").lower() in START_WORDS or postback == "start"):
            return [text_message(T["help"], [("ส่งข่าว", "start")])]
        _drop(session, user, staging)
        return _start(session, member, user, now)
    return _step(session, member, user, draft, kind, message, text, postback, extra, now=now, staging=staging,
                 media_dir=media_dir)


def _villages(session: Session, member: Member) -> list[tuple[str, str]]:
    from network_hub.bot.submit import submit_villages  # the bot's rule for who may send for which village

    return submit_villages(session, load_actor(session, member.id))


def _start(session: Session, member: Member, user: str, now: datetime) -> list[dict[str, Any]]:
    villages = _villages(session, member)
    if not villages:
        return [text_message(T["no_villages"])]
    if len(villages) == 1:
        return _ask_category(session, user, {"village": villages[0][0], "label": villages[0][1]}, now)
    _save(session, user, {"step": "village"}, now)
    return [text_message(T["ask_village"], [(label, f"v={code}") for code, label in villages])]


def _ask_category(session: Session, user: str, draft: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    draft["step"] = "category"
    _save(session, user, draft, now)
    return [text_message(T["ask_category"].format(village=draft["label"]),
                         [(label, f"c={code}") for code, label in CATEGORY_TH.items()])]


def _yes_no(prefix: str) -> list[tuple[str, str]]:
    return [("ใช่", f"{prefix}=yes"), ("ไม่ใช่", f"{prefix}=no")]


def _step(session: Session, member: Member, user: str, draft: dict[str, Any], kind: str | None,
          message: dict[str, Any], text: str | None, postback: str | None, extra: dict[str, Any], *,
          now: datetime, staging: Path, media_dir: Path) -> list[dict[str, Any]]:
    step = draft.get("step")
    if step == "village":
        allowed = dict(_villages(session, member))
        code = (postback or "").removeprefix("v=")
        if postback and postback.startswith("v=") and code in allowed:
            return _ask_category(session, user, {"village": code, "label": allowed[code]}, now)
        return [text_message(T["ask_village"], [(label, f"v={c}") for c, label in allowed.items()])]
    if step == "category":
        code = (postback or "").removeprefix("c=")
        if postback and postback.startswith("c=") and code in CATEGORY_TH:
            draft.update(step="text", category=code)
            _save(session, user, draft, now)
            return [text_message(T["ask_text"].format(category=CATEGORY_TH[code]))]
        return [text_message(T["use_buttons"], [(label, f"c={c}") for c, label in CATEGORY_TH.items()])]
    if step == "text":
        if not text:
            return [text_message(T["need_text"])]
        try:
            clean_body(text)
        except HubError as exc:
            return [text_message(exc.message("th"))]
        draft.update(step="photos", text=text, photos=[])
        _save(session, user, draft, now)
        return [text_message(T["ask_photos"], [("ไม่มีภาพ", "photos=none")])]
    if step == "photos":
        return _photos(session, user, draft, kind, message, postback, extra, now)
    if step in ("children", "people", "consent"):
        answer = (postback or "").partition("=")[2]
        if not postback or not postback.startswith(step + "=") or answer not in ("yes", "no"):
            return [text_message(T[f"ask_{step}"], _yes_no(step))]
        draft.setdefault("consent", {})[step] = answer == "yes"
        if step == "children":
            draft["step"] = "people"
            _save(session, user, draft, now)
            return [text_message(T["ask_people"], _yes_no("people"))]
        if step == "people" and (draft["consent"].get("children") or draft["consent"].get("people")):
            draft["step"] = "consent"
            _save(session, user, draft, now)
            return [text_message(T["ask_consent"], _yes_no("consent"))]
        return _preview(session, user, draft, now)
    if step == "confirm":
        if postback != "send":
            return [text_message(T["ask_confirm"], [("📤 ส่งข่าว", "send"), ("❌ ยกเลิก", "cancel")])]
        return _submit(session, member, user, draft, now=now, staging=staging, media_dir=media_dir)
    return [text_message(T["help"], [("ส่งข่าว", "start")])]


def _photos(session: Session, user: str, draft: dict[str, Any], kind: str | None, message: dict[str, Any],
            postback: str | None, extra: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    photos: list[str] = draft.setdefault("photos", [])
    if kind == "message" and message.get("type") == "image":
        last_of_set = _last_of_set(message)
        if extra.get("error"):
            return [text_message(T["photo_failed"].format(reason=extra["error"]))]
        if len(photos) >= MAX_PHOTOS:
            return [text_message(T["too_many_photos"], [("✅ เสร็จแล้ว", "photos=done")])] if last_of_set else []
        photos.append(str(extra["staged"]))
        _save(session, user, draft, now)
        if not last_of_set:
            return []  # one answer for a whole image set, after its last photo
        return [text_message(T["photos_received"].format(count=len(photos)), [("✅ เสร็จแล้ว", "photos=done")])]
    if postback in ("photos=done", "photos=none"):
        if photos and postback == "photos=done":
            draft["step"] = "children"
            _save(session, user, draft, now)
            return [text_message(T["ask_children"], _yes_no("children"))]
        draft["photos"] = []
        return _preview(session, user, draft, now)
    return [text_message(T["ask_photos"], [("✅ เสร็จแล้ว", "photos=done"), ("ไม่มีภาพ", "photos=none")])]


def _last_of_set(message: dict[str, Any]) -> bool:
    image_set = message.get("imageSet")
    if not isinstance(image_set, dict):
        return True
    return image_set.get("index") == image_set.get("total")


def _consent(draft: dict[str, Any]) -> Consent:
    answers = draft.get("consent") or {}
    return Consent(photos_show_children=bool(answers.get("children")),
                   identifiable_people=bool(answers.get("people")), consent_given=bool(answers.get("consent")))


def _preview(session: Session, user: str, draft: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    draft["step"] = "confirm"
    _save(session, user, draft, now)
    body = clean_body(draft["text"])
    post = Post(receipt_no="(ออกเลขเมื่อส่ง)", category=draft["category"], title=default_title(body), body=body,
                attribution=attribution(session, draft["village"]), published_at=now)
    photos = len(draft.get("photos") or [])
    preview = render_plain(post) + (f"\n\n📷 ภาพ {photos} ภาพ" if photos else "")
    return [text_message(T["preview_intro"]), text_message(preview),
            text_message(T["ask_confirm"], [("📤 ส่งข่าว", "send"), ("❌ ยกเลิก", "cancel")])]


def _submit(session: Session, member: Member, user: str, draft: dict[str, Any], *, now: datetime, staging: Path,
            media_dir: Path) -> list[dict[str, Any]]:
    photos = [PhotoInput(data=Path(p).read_bytes(), filename=Path(p).name) for p in draft.get("photos") or []]
    try:
        item = submit_item(session, actor=load_actor(session, member.id), author_id=member.id,
                           village_code=draft["village"], category=draft["category"], body=draft["text"],
                           photos=photos, consent=_consent(draft) if photos else None, now=now,
                           media_dir=media_dir, via="line")
    except HubError as exc:
        return [text_message(exc.message("th"))]
    _drop(session, user, staging)
    return [text_message(T["submitted"].format(receipt=item.receipt_no))]
