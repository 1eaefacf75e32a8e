"""Joining: ``/start <invite code>`` (the invite's deep link ``t.me/<bot>?start=<code>``).

The flow::

    /start CODE ─► redeem_invite (binds this Telegram account to the invite's role and area)
                ─► welcome + short privacy notice + what to do next
    /start CODE (unknown, expired, used up, revoked) ─► a kind Thai explanation; nothing changes
    /start (no code) ─► members: a short reminder of the commands; others: how to join, and
                        the contact button "แชร์เบอร์โทรศัพท์" for people already on the roster
    (contact)        ─► link_by_phone: only the sender's OWN contact (contact.user_id equals the
                        sender); binds the roster member with that phone, or merges a duplicate

A personal invite (made per roster member by ``roster import --invites`` or the web's invite
sheet) binds that existing member; a generic invite creates a member, and the welcome then offers
the contact button so a volunteer who was already on the roster is folded into it.

Writing to the bot also clears a member's "unreachable" mark (``note_reachable``): they have
started the bot again, so DMs will arrive.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters

from network_hub.areas import get_area, village_label
from network_hub.bot.common import hub_of, in_db, language_of, reply, who_is
from network_hub.bot.texts import raw, role_label, t
from network_hub.db.models import Member
from network_hub.errors import HubError
from network_hub.roster.invites import primary_grant, redeem_invite
from network_hub.roster.linking import link_by_phone
from network_hub.roster.members import mark_reachable
from network_hub.states import AreaLevel, MemberStatus, Role

log = logging.getLogger(__name__)
NEXT_STEP = {Role.REPORTER: "next_reporter", Role.MODERATOR: "next_moderator", Role.ADMIN: "next_moderator",
             Role.COORDINATOR: "next_coordinator"}


def _area_name(session: Session, code: str) -> str:
    area = get_area(session, code)
    if area.level == AreaLevel.VILLAGE:
        return village_label(area)
    prefix = {AreaLevel.SUBDISTRICT: "ต.", AreaLevel.DISTRICT: "อ.", AreaLevel.PROVINCE: "จ."}.get(
        AreaLevel(area.level), "")
    return f"{prefix}{area.name_th}"


def share_phone_keyboard(language: str) -> ReplyKeyboardMarkup:
    """Telegram's contact-request button: Telegram sends the account's own verified number."""
    return ReplyKeyboardMarkup([[KeyboardButton(raw("btn_share_phone", language), request_contact=True)]],
                               resize_keyboard=True, one_time_keyboard=True)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start with or without an invite code."""
    user = update.effective_user
    assert user is not None
    code = (context.args or [""])[0] if context.args else ""
    hub = hub_of(context)
    if not code:
        who = await who_is(context, user.id)
        if who is None:
            language = language_of(None, update)
            await reply(update, t("not_member", language))
            await reply(update, t("share_phone_offer", language), reply_markup=share_phone_keyboard(language))
        else:
            await reply(update, t("already_member", who.language, name=who.name))
        return
    name = " ".join(part for part in (user.first_name, user.last_name) if part)

    def join(session: Session, now: datetime) -> dict[str, str]:
        member, grant = redeem_invite(session, code, telegram_user_id=user.id, name=name, now=now)
        return {"name": member.name, "language": member.language or "th", "role": grant.role,
                "area": _area_name(session, grant.area_code), "has_phone": "1" if member.phone else ""}

    try:
        joined = await in_db(hub, join)
    except HubError as exc:
        language = language_of(None, update)
        await reply(update, t("invite_failed", language, reason=exc.message(language)))
        if await who_is(context, user.id) is None:
            await reply(update, t("share_phone_offer", language), reply_markup=share_phone_keyboard(language))
        return
    language = joined["language"]
    await _welcome(update, joined)
    if not joined["has_phone"]:  # joined by a generic link: they may already be on the roster
        await reply(update, t("share_phone_offer_joined", language), reply_markup=share_phone_keyboard(language))


async def _welcome(update: Update, joined: dict[str, str]) -> None:
    language = joined["language"]
    next_step = raw(NEXT_STEP.get(Role(joined["role"]), "next_reporter"), language)
    await reply(update, t("welcome", language, name=joined["name"], role=role_label(joined["role"], language),
                          area=joined["area"], next=next_step))


async def got_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared contact: link this account to the roster member with that phone (own number only)."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None and message.contact is not None
    contact = message.contact

    def link(session: Session, now: datetime) -> dict[str, str]:
        result = link_by_phone(session, telegram_user_id=user.id, contact_user_id=contact.user_id,
                               phone=contact.phone_number, now=now)
        data = {"outcome": result.outcome, "name": result.name, "language": result.language,
                "role": "", "area": ""}
        if result.outcome in ("linked", "merged"):
            grant = primary_grant(session, result.member_id)
            data.update(role=grant.role, area=_area_name(session, grant.area_code))
        return data

    try:
        linked = await in_db(hub_of(context), link)
    except HubError as exc:
        language = language_of(None, update)
        await reply(update, t("invite_failed", language, reason=exc.message(language)),
                    reply_markup=ReplyKeyboardRemove())
        return
    language = linked["language"]
    done = ReplyKeyboardRemove()
    if linked["outcome"] == "already":
        await reply(update, t("phone_already", language, name=linked["name"]), reply_markup=done)
    elif linked["outcome"] == "phone_saved":
        await reply(update, t("phone_saved", language, name=linked["name"]), reply_markup=done)
    else:
        key = "phone_linked" if linked["outcome"] == "linked" else "phone_merged"
        await reply(update, t(key, language), reply_markup=done)
        await _welcome(update, linked)


async def note_reachable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any private message from a member marked unreachable clears the mark (runs before handlers)."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return

    def clear(session: Session, now: datetime) -> None:
        member_id = session.scalar(select(Member.id).where(Member.telegram_user_id == user.id,
                                                            Member.unreachable_since.is_not(None),
                                                            Member.status == MemberStatus.ACTIVE))
        if member_id is not None:
            mark_reachable(session, member_id, now)

    try:
        await in_db(hub_of(context), clear)
    except Exception:
        log.exception("could not clear the unreachable mark of Telegram user %s", user.id)


def join_handlers() -> list[object]:
    return [CommandHandler("start", start, filters=filters.ChatType.PRIVATE),
            MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, got_contact)]


def reachability_handler() -> TypeHandler[Update, ContextTypes.DEFAULT_TYPE]:
    return TypeHandler(Update, note_reachable)
