"""The dashboard's preview of a news item: what residents will read on each platform.

It is built from the same post plan the publishers execute (``publishers.render.plan_*``), with
the post assembled the way the delivery engine assembles it (``outbox.transitions.load_jobs``:
title, body, the village's attribution, the scheduled or decision time), so a moderator sees
exactly the parts, texts and photo groups that will be sent — before approving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from network_hub.areas import attribution
from network_hub.db.models import NewsItem
from publishers.base import Post, PostPhoto
from publishers.plan import PostPlan
from publishers.render import plan_facebook, plan_telegram, visible_text

PLATFORM_LABELS = {"th": {"telegram": "Telegram", "facebook": "Facebook"},
                   "en": {"telegram": "Telegram", "facebook": "Facebook"}}
CALL_LABELS = {
    "th": {"sendMessage": "ข้อความ", "sendPhoto": "รูป 1 รูป พร้อมคำบรรยาย",
           "sendMediaGroup": "อัลบั้ม {n} รูป พร้อมคำบรรยาย", "feed": "โพสต์บนเพจ ({n} รูป)",
           "reply": "ตอบกลับต่อจากโพสต์แรก"},
    "en": {"sendMessage": "Message", "sendPhoto": "1 photo with caption",
           "sendMediaGroup": "Album of {n} photos with caption", "feed": "Page post ({n} photos)",
           "reply": "reply to the first message"},
}


@dataclass(frozen=True)
class PreviewPart:
    label: str
    text: str  # what a resident reads (markup already applied, shown as plain text)


@dataclass(frozen=True)
class PlatformPreview:
    platform: str
    label: str
    messages: int  # what the post costs against the chat's rate limit
    parts: list[PreviewPart]


def item_post(session: Session, item: NewsItem, now: datetime, media_dir: Path) -> Post:
    """The item as the dispatcher will hand it to a publisher."""
    photos = tuple(PostPhoto(sha256=p.sha256, path=media_dir / p.path, telegram_file_id=p.telegram_file_id)
                   for p in item.photos)
    return Post(receipt_no=item.receipt_no, category=item.category, title=item.title, body=item.body,
                attribution=attribution(session, item.village_code),
                published_at=item.scheduled_at or item.decided_at or now, photos=photos)


def _parts(plan: PostPlan, language: str) -> list[PreviewPart]:
    labels = CALL_LABELS.get(language, CALL_LABELS["th"])
    parts = []
    for call in plan.calls:
        if not call.text:
            continue  # a photo upload: nothing a resident reads
        label = labels.get(call.method, call.method).format(n=len(call.photo_indexes))
        if call.method == "sendMessage" and call.index > 0:
            label += f" · {labels['reply']}"
        text = visible_text(call.text) if plan.platform == "telegram" else call.text
        parts.append(PreviewPart(f"{call.index + 1}. {label}", text))
    return parts


def item_previews(post: Post, language: str = "th", *, thai_digits: bool = False) -> list[PlatformPreview]:
    """Telegram and Facebook (the sandbox and feeds show Facebook's text) for one post."""
    names = PLATFORM_LABELS.get(language, PLATFORM_LABELS["th"])
    previews = []
    for plan in (plan_telegram(post, thai_digits=thai_digits), plan_facebook(post, thai_digits=thai_digits)):
        previews.append(PlatformPreview(plan.platform, names[plan.platform], plan.messages, _parts(plan, language)))
    return previews
