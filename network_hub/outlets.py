"""Outlets: where residents read (Telegram channels, Facebook Pages, sandbox).

An outlet belongs to an area; routing sends an item to the outlets of its village and the areas
above it. Credentials never enter the database: a Facebook outlet names the environment
variable or file that holds its Page token (read at each use by ``publishers.registry``);
Telegram outlets use the hub's bot token. Pacing per outlet (``min_interval_s``) keeps sends
under the platform's limits: Telegram about 20 messages a minute per chat, so 3 s; Facebook has
no per-post limit worth hitting, but a Page that posts in bursts looks like spam, so 30 s.

Every function validates before it writes (bad input changes nothing) and is audited.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.areas import get_area
from network_hub.db.models import Outlet
from network_hub.errors import Conflict, InvalidInput, NotFound
from network_hub.permissions import Action, Actor, require
from network_hub.states import Category, OutletStatus, Platform

# Telegram allows about 20 messages a minute per channel: 3 s apart (a 2 % margin was tried in
# bench B2 and changed nothing, so none is taken).
TELEGRAM_MIN_INTERVAL_S = 3.0
# LINE: push allows 2,000 requests a second; the cost is money (quota per recipient), not pacing.
MIN_INTERVAL_S = {Platform.TELEGRAM: TELEGRAM_MIN_INTERVAL_S, Platform.FACEBOOK: 30.0, Platform.SANDBOX: 0.0,
                  Platform.LINE: 1.0}
LINE_GROUP_RE = re.compile(r"^C[0-9a-f]{32}$")
LINE_FRIENDS_RE = re.compile(r"^friends(:[A-Za-z0-9_.-]{1,60})?$")
TELEGRAM_CHAT_RE = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
FACEBOOK_PAGE_RE = re.compile(r"^\d{5,25}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
# The same rule as publishers.sandbox.valid_address (the domain does not import publishers).
SANDBOX_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class CheckOutcome(Protocol):
    """What a publisher's ``check`` returns (``publishers.base.CheckResult``)."""

    ok: bool
    verdict: str
    detail: str


def _platform(value: str) -> Platform:
    try:
        return Platform(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown platform {value!r}: use telegram, facebook, line or sandbox",
            f"ไม่รู้จักแพลตฟอร์ม {value!r} (ใช้ telegram, facebook, line หรือ sandbox)",
        ) from None


def _categories(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    known = {c.value for c in Category}
    cleaned = [v.strip() for v in values if v.strip()]
    unknown = [v for v in cleaned if v not in known]
    if unknown:
        raise InvalidInput(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
            f"use {', '.join(sorted(known))}",
            f"ไม่รู้จักหมวดข่าว {', '.join(unknown)}",
        )
    return sorted(set(cleaned)) or None


def _address(platform: Platform, address: str | None, area_code: str) -> str:
    value = (address or "").strip()
    if platform is Platform.TELEGRAM:
        if not TELEGRAM_CHAT_RE.fullmatch(value):
            raise InvalidInput(
                f"Telegram chat {value!r} must be a chat id like -1001234567890 or @channelname",
                "รหัสแชต Telegram ต้องเป็นตัวเลข เช่น -1001234567890 หรือ @ชื่อช่อง",
            )
        return value
    if platform is Platform.FACEBOOK:
        if not FACEBOOK_PAGE_RE.fullmatch(value):
            raise InvalidInput(
                f"Facebook Page id {value!r} must be the Page's numeric id", "รหัสเพจ Facebook ต้องเป็นตัวเลข"
            )
        return value
    if platform is Platform.LINE:
        if not (LINE_GROUP_RE.fullmatch(value) or LINE_FRIENDS_RE.fullmatch(value)):
            raise InvalidInput(
                f"LINE outlet {value!r} must be a group the bot joined (see: network-hub line groups) "
                "or 'friends' for a broadcast to the Official Account's friends",
                "ช่องทาง LINE ต้องเป็นกลุ่มที่บอตเข้าร่วมแล้ว (ดู network-hub line groups) หรือ friends",
            )
        return value
    value = value or f"sandbox-{area_code}"
    if not SANDBOX_NAME_RE.fullmatch(value) or ".." in value:
        raise InvalidInput(
            f"sandbox name {value!r} may hold only letters, digits, '.', '_' and '-'",
            "ชื่อ sandbox ใช้ได้เฉพาะตัวอักษรอังกฤษ ตัวเลข . _ และ -",
        )
    return value


def _credentials(platform: Platform, token_env: str | None, token_file: str | None) -> tuple[str | None, str | None]:
    token_env = (token_env or "").strip() or None
    token_file = (token_file or "").strip() or None
    if platform is Platform.LINE:
        # Optional: the hub's own Official Account (HUB_LINE_CHANNEL_ACCESS_TOKEN) when neither is given.
        if token_env and token_file:
            raise InvalidInput(
                "a LINE outlet takes at most one of --token-env or --token-file (none: the hub's own OA)",
                "ช่องทาง LINE ระบุ --token-env หรือ --token-file ได้อย่างใดอย่างหนึ่ง",
            )
    elif platform is not Platform.FACEBOOK:
        if token_env or token_file:
            raise InvalidInput(
                f"{platform.value} outlets take no token: Telegram uses HUB_TELEGRAM_BOT_TOKEN, the sandbox needs none",
                "ช่องทางนี้ไม่ต้องใช้โทเค็น",
            )
        return None, None
    if platform is Platform.FACEBOOK and bool(token_env) == bool(token_file):
        raise InvalidInput(
            "a Facebook outlet needs exactly one of --token-env VAR or --token-file PATH "
            "(the Page token itself never goes into the database)",
            "เพจ Facebook ต้องระบุ --token-env หรือ --token-file อย่างใดอย่างหนึ่ง",
        )
    if token_env and not ENV_NAME_RE.fullmatch(token_env):
        raise InvalidInput(
            f"{token_env!r} is not an environment variable name (e.g. FB_PAGE_TOKEN_PONGYANGKOK)",
            "ชื่อตัวแปรสภาพแวดล้อมไม่ถูกต้อง",
        )
    if token_file:
        token_file = str(Path(token_file).expanduser().resolve())  # the service may run elsewhere
    return token_env, token_file


def add_outlet(
    session: Session,
    *,
    platform: str,
    area_code: str,
    address: str | None,
    name: str | None = None,
    token_env: str | None = None,
    token_file: str | None = None,
    categories: list[str] | None = None,
    thai_digits: bool = False,
    now: datetime,
    actor: Actor,
) -> Outlet:
    kind = _platform(platform)
    area = get_area(session, area_code)
    require(actor, Action.MANAGE_OUTLETS, area.code)
    where = _address(kind, address, area.code)
    if kind is Platform.LINE and LINE_GROUP_RE.fullmatch(where):
        from network_hub.line.accounts import account_of_bot
        from network_hub.line.groups import require_joined  # the LINE domain; imported where needed

        group = require_joined(session, where)
        name = name or f"LINE {group.name or where}"
        account = account_of_bot(session, group.bot_user_id)  # another OA's bot: post with that OA's token
        if account is not None and not (token_env or token_file):
            token_env, token_file = account.token_env, account.token_file
    env, file = _credentials(kind, token_env, token_file)
    chosen = _categories(categories)
    existing = session.scalar(select(Outlet).where(Outlet.platform == kind.value, Outlet.address == where))
    if existing is not None:
        raise Conflict(
            f"{kind.value} {where} is already outlet {existing.id} ({existing.name})",
            f"ช่องทางนี้มีอยู่แล้ว (หมายเลข {existing.id})",
        )
    label = (name or "").strip() or {
        Platform.TELEGRAM: f"Telegram {where}",
        Platform.FACEBOOK: f"Facebook {where}",
        Platform.SANDBOX: f"Sandbox {area.name_th}",
        Platform.LINE: f"LINE {'เพื่อน OA' if where.startswith('friends') else where}",
    }[kind]
    outlet = Outlet(
        platform=kind.value,
        name=label[:200],
        area_code=area.code,
        address=where,
        token_env=env,
        token_file=file,
        categories=chosen,
        thai_digits=thai_digits,
        status=OutletStatus.ACTIVE.value,
        min_interval_s=MIN_INTERVAL_S[kind],
        created_at=now,
        updated_at=now,
    )
    session.add(outlet)
    session.flush()
    audit.record(
        session,
        at=now,
        action="outlet.added",
        object_type="outlet",
        object_id=outlet.id,
        actor_id=actor.member_id,
        actor_label=_label(actor),
        after={k: v for k, v in outlet_to_dict(outlet).items() if not isinstance(v, datetime)},
    )
    return outlet


def get_outlet(session: Session, outlet_id: int) -> Outlet:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound(
            f"outlet {outlet_id} does not exist (see: network-hub outlet list)", f"ไม่พบช่องทางหมายเลข {outlet_id}"
        )
    return outlet


def list_outlets(
    session: Session, *, area_code: str | None = None, platform: str | None = None, status: str | None = None
) -> list[Outlet]:
    query = select(Outlet).order_by(Outlet.id)
    if area_code:
        query = query.where(Outlet.area_code.startswith(get_area(session, area_code).code, autoescape=True))
    if platform:
        query = query.where(Outlet.platform == _platform(platform).value)
    if status:
        try:
            query = query.where(Outlet.status == OutletStatus(status).value)
        except ValueError:
            raise InvalidInput(
                f"unknown status {status!r}: use active or paused", "สถานะไม่ถูกต้อง (active หรือ paused)"
            ) from None
    return list(session.scalars(query))


def pause_outlet(session: Session, outlet_id: int, *, reason: str | None = None, now: datetime, actor: Actor) -> Outlet:
    """Pause: deliveries to it keep waiting (nothing is lost) until it is resumed."""
    outlet = get_outlet(session, outlet_id)
    require(actor, Action.MANAGE_OUTLETS, outlet.area_code)
    if outlet.status == OutletStatus.PAUSED:
        raise Conflict(
            f"outlet {outlet_id} is already paused ({outlet.paused_reason or 'no reason'})",
            f"ช่องทาง {outlet_id} หยุดไว้อยู่แล้ว",
        )
    before = {"status": outlet.status}
    outlet.status = OutletStatus.PAUSED.value
    outlet.paused_reason = (reason or "paused by an admin").strip()[:1000]
    outlet.updated_at = now
    audit.record(
        session,
        at=now,
        action="outlet.paused",
        object_type="outlet",
        object_id=outlet.id,
        actor_id=actor.member_id,
        actor_label=_label(actor),
        before=before,
        after={"status": outlet.status},
        reason=outlet.paused_reason,
    )
    return outlet


def resume_outlet(session: Session, outlet_id: int, *, now: datetime, actor: Actor) -> Outlet:
    """Resume: its waiting deliveries go out again, paced as usual."""
    outlet = get_outlet(session, outlet_id)
    require(actor, Action.MANAGE_OUTLETS, outlet.area_code)
    if outlet.status == OutletStatus.ACTIVE:
        raise Conflict(f"outlet {outlet_id} is not paused", f"ช่องทาง {outlet_id} ไม่ได้หยุดไว้")
    before = {"status": outlet.status, "paused_reason": outlet.paused_reason}
    outlet.status = OutletStatus.ACTIVE.value
    outlet.paused_reason = None
    outlet.updated_at = now
    audit.record(
        session,
        at=now,
        action="outlet.resumed",
        object_type="outlet",
        object_id=outlet.id,
        actor_id=actor.member_id,
        actor_label=_label(actor),
        before=before,
        after={"status": "active"},
    )
    return outlet


def record_check(session: Session, outlet_id: int, result: CheckOutcome, now: datetime) -> Outlet:
    outlet = get_outlet(session, outlet_id)
    outlet.last_check_at = now
    outlet.last_check_ok = result.ok
    outlet.last_check_verdict = result.verdict[:64]
    outlet.last_check_detail = result.detail[:2000]
    if outlet.platform == "line":  # LINE hook (issue 14): the OA quota the check read (/metrics, outlets page)
        from network_hub.line.quota import record_check_quota

        record_check_quota(session, outlet, result, now)
    return outlet


def token_source(outlet: Outlet) -> str | None:
    """Where the credential is read from (never the credential itself)."""
    if outlet.token_env:
        return f"env:{outlet.token_env}"
    if outlet.token_file:
        return f"file:{outlet.token_file}"
    return None


def outlet_to_dict(outlet: Outlet) -> dict[str, Any]:
    return {
        "id": outlet.id,
        "platform": outlet.platform,
        "name": outlet.name,
        "area_code": outlet.area_code,
        "address": outlet.address,
        "token_source": token_source(outlet),
        "categories": list(outlet.categories) if outlet.categories else None,
        "thai_digits": bool(outlet.thai_digits),
        "status": outlet.status,
        "paused_reason": outlet.paused_reason,
        "min_interval_s": outlet.min_interval_s,
        "next_allowed_at": outlet.next_allowed_at,
        "blocked_until": outlet.blocked_until,
        "blocked_reason": outlet.blocked_reason,
        "last_check_at": outlet.last_check_at,
        "last_check_ok": outlet.last_check_ok,
        "last_check_verdict": outlet.last_check_verdict,
        "last_check_detail": outlet.last_check_detail,
        "created_at": outlet.created_at,
    }


def _label(actor: Actor) -> str:
    return "cli" if actor.member_id == 0 else f"member:{actor.member_id}"
