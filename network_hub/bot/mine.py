"""``/mine``: a reporter's latest items with their status, schedule and links."""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from network_hub.bot.common import Who, hub_of, in_db, member_or_explain, reply
from network_hub.bot.texts import t
from network_hub.db.models import Delivery
from network_hub.newsroom.labels import status_th
from network_hub.newsroom.queries import list_items
from network_hub.states import DeliveryState, ItemStatus
from network_hub.thai import be_datetime

LIMIT = 10


def my_items(session: Session, who: Who, _now: datetime) -> list[str]:
    lines = []
    for item in list_items(session, author_id=who.member_id, limit=LIMIT):
        line = f"• {item.receipt_no} «{item.title[:60]}»\n   {status_th(item.status)}"
        if item.status == ItemStatus.SCHEDULED and item.scheduled_at:
            line += f" — {be_datetime(item.scheduled_at)}"
        if item.status in (ItemStatus.CHANGES_REQUESTED, ItemStatus.REJECTED) and item.decision_reason:
            line += f"\n   เหตุผล: {item.decision_reason[:200]}"
        links = session.scalars(select(Delivery.permalink).where(
            Delivery.item_id == item.id, Delivery.state == DeliveryState.SENT, Delivery.permalink.is_not(None)))
        for link in links:
            line += f"\n   🔗 {link}"
        lines.append(line)
    return lines


async def mine_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    who = await member_or_explain(update, context)
    if who is None:
        return
    lines = await in_db(hub_of(context), lambda s, now: my_items(s, who, now))
    if not lines:
        await reply(update, t("mine_empty", who.language))
        return
    body = "\n".join(html.escape(line, quote=False) for line in lines)
    await reply(update, t("mine_header", who.language, count=len(lines)) + "\n" + body)


def mine_handlers() -> list[object]:
    return [CommandHandler("mine", mine_command)]
