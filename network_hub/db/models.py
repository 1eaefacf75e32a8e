"""SQLAlchemy 2 models: the hub's tables.

All timestamps are UTC (``UTCDateTime``). Area codes are strings. Enumerated columns store the
values of the enums in ``network_hub.states``. The delivery engine's columns (lease, fence,
pacing, blocks) are described where they are declared; the SQL that uses them lives in
``network_hub.outbox.queries``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from network_hub.db.types import JSONType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType,
    }


class Area(Base):
    """Country ``TH``, province (2 digits), district (4), tambon (6), village/community (8)."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    is_community: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # LINE (migration 0005): the member's LINE user id in the hub's Official Account, bound by a personal invite.
    line_user_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="th")
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Web sessions carry the generation they were issued under; bumping it (sign-out, password
    # change, suspension) ends every session of the member at their next request.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when Telegram said the person never started the bot or blocked it; cleared when they write.
    unreachable_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="member", cascade="all, delete-orphan")


class RoleGrant(Base):
    """member × role × area; a grant covers the area and every area below it."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("member_id", "role", "area_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    created_at: Mapped[datetime]

    member: Mapped[Member] = relationship(back_populates="grants")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    # A personal invite names the roster member it binds (one use); None: anyone may join with it.
    # CASCADE, never SET NULL: a personal link must not turn into an open one.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)


class NewsItem(Base):
    __tablename__ = "news_items"
    __table_args__ = (
        Index("ix_news_items_status_village", "status", "village_code"),
        # Covers "last news per village" (the quiet-village reminder rule) without reading the
        # table: 1,000,000 items took 7-23 s by the village_code index alone (bench B4).
        Index("ix_news_items_village_submitted", "village_code", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), index=True)
    pdpa_flags: Mapped[list[Any]] = mapped_column(default=list)
    # {"photos_show_children": bool, "identifiable_people": bool, "consent_given": bool}
    consent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pdpa_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    scheduled_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change; the web and bot send it back so a stale card changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    photos: Mapped[list[Photo]] = relationship(
        back_populates="item", order_by="Photo.position", cascade="all, delete-orphan"
    )


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(300))  # relative to HUB_MEDIA_DIR
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    # The Telegram file_id once the bot has the photo (re-sent by id, not uploaded again).
    telegram_file_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]

    item: Mapped[NewsItem] = relationship(back_populates="photos")


class PhotoCheck(Base):
    """The PDPA text check of one stored photo (issue 16), worked off the request path.

    ``state``: pending → running → done | failed (after retries) | skipped (no Tesseract);
    ``timed_out`` when the approval time limit passed first. A worker claims a check with a lease
    (``lease_owner``/``lease_until``) and bumps ``fence``; it writes the result only where the
    fence is still its own, so a worker that lost its lease changes nothing.
    ``findings``: [{"flag", "label_th", "evidence", "box": [left, top, right, bottom]}].
    """

    __tablename__ = "photo_checks"
    __table_args__ = (Index("ix_photo_checks_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    fence: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    # After "black out and publish": the unredacted file, kept until the item is decided, then deleted.
    original_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    photo: Mapped[Photo] = relationship()


class Outlet(Base):
    """Where residents read. Pacing and blocks live here so every hub process honours them."""

    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    address: Mapped[str] = mapped_column(String(100))  # Telegram chat id / Facebook page id / sandbox name
    token_env: Mapped[str | None] = mapped_column(String(100))
    token_file: Mapped[str | None] = mapped_column(String(500))
    categories: Mapped[list[Any] | None] = mapped_column(JSONType, default=None)  # None = every category
    thai_digits: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # Pacing: the earliest time the next post may start (advanced in the claim transaction).
    next_allowed_at: Mapped[datetime | None]
    min_interval_s: Mapped[float] = mapped_column(Float, default=0.0)
    # A platform said "wait" (429 / throttle codes): nothing is claimed for it before this time.
    blocked_until: Mapped[datetime | None]
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_check_verdict: Mapped[str | None] = mapped_column(String(64))
    last_check_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # LINE (migration 0005): messages this outlet may spend a month (None: only the OA's quota and reserve).
    line_monthly_budget: Mapped[int | None] = mapped_column(Integer)


class Delivery(Base):
    """One item × one outlet: the unit the dispatcher sends."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("item_id", "outlet_id"),
        Index("ix_deliveries_state_due", "state", "due_at"),
        Index("ix_deliveries_outlet_state", "outlet_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]
    not_before: Mapped[datetime | None]  # backoff or rate-limit deferral
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # real send attempts only
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    fence: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every claim
    external_ids: Mapped[list[Any]] = mapped_column(default=list)
    permalink: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_class: Mapped[str | None] = mapped_column(String(32))
    sending_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # LINE (migration 0005): the X-Line-Retry-Key, made and stored before the first attempt and sent
    # on every retry (LINE answers 409 instead of sending again); LINE forgets it after 24 h.
    line_retry_key: Mapped[str | None] = mapped_column(String(36))
    line_retry_key_at: Mapped[datetime | None]
    # Work on a sent delivery: correct (edit) or withdraw (delete) on the platform.
    followup_action: Mapped[str | None] = mapped_column(String(16))
    followup_state: Mapped[str | None] = mapped_column(String(16))
    followup_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Engine v2 (migration 0003): calls of the post plan already done; a post refused midway (a
    # 429, a connect error) resumes at this call, ``external_ids`` holding the ids posted so far.
    parts_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SendLedger(Base):
    """Engine v2 (migration 0003): recent sends per rate-limit scope (a Telegram chat, the bot).

    The claim counts the messages of a scope inside its sliding window and charges a post's exact
    cost (its post plan) here before anything is sent, so every process keeps the platform's limits.
    ``open`` rows are posts still in flight: they count until their outcome re-stamps ``at`` with
    the time the last message went out. Rows older than the longest window are pruned.
    """

    __tablename__ = "send_ledger"
    __table_args__ = (Index("ix_send_ledger_scope_at", "scope", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(160))  # e.g. "telegram:chat:-1001234", "telegram:bot"
    at: Mapped[datetime]
    messages: Mapped[int] = mapped_column(Integer)
    delivery_id: Mapped[int | None] = mapped_column(Integer, index=True)
    fence: Mapped[int | None] = mapped_column(Integer)
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxSignal(Base):
    """Engine v2 (migration 0003): a change counter per channel, bumped in the transaction that
    makes work due; SQLite processes poll it a few times a second (PostgreSQL uses NOTIFY)."""

    __tablename__ = "outbox_signals"

    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class DeliveryAttempt(Base):
    """Append-only history of every send attempt and state change of a delivery."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    fence: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # sent / retryable / rate_limited / ...
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    external_ids: Mapped[list[Any]] = mapped_column(default=list)


class Notification(Base):
    """A message to a member (status of their item, reminder, digest, alert): the DM outbox.

    The notifier (the bot, once configured) sends pending rows; until then they are recorded here
    and listed, so nothing a person should hear about is lost.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]  # quiet hours move this later, never drop the row
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ReminderOccurrence(Base):
    """One occurrence of a follow-up rule for one target in one period: reminded once, ever."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (UniqueConstraint("rule", "member_id", "subject", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(100))  # e.g. "village:52010101", "item:17"
    period: Mapped[str] = mapped_column(String(40))  # e.g. "2026-W48", "2026-11-24"
    state: Mapped[str] = mapped_column(String(16), default="planned")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(100), default="system")  # cli / bot / web / system
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)


class ProcessHeartbeat(Base):
    """One row per running hub process; a stale tick means a dead scheduler."""

    __tablename__ = "process_heartbeats"

    process_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime]
    last_tick_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class LeaderLease(Base):
    """A named lease in the database (e.g. ``telegram-polling``): one holder at a time."""

    __tablename__ = "leader_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    until: Mapped[datetime]
    fence: Mapped[int] = mapped_column(Integer, default=0)


class KeyValue(Base):
    """Small durable state by namespace (bot conversations, web login tokens, settings)."""

    __tablename__ = "kv_store"

    namespace: Mapped[str] = mapped_column(String(60), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class LineGroup(Base):
    """A LINE group an Official Account's bot was invited into (from ``join``/``leave`` webhook
    events), so an admin picks a group for an outlet instead of typing its id."""

    __tablename__ = "line_groups"
    __table_args__ = (UniqueConstraint("bot_user_id", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_user_id: Mapped[str] = mapped_column(String(40))  # the OA (the webhook's ``destination``)
    group_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    member_count: Mapped[int | None] = mapped_column(Integer)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]  # set by ``leave``: the bot can no longer post there
    updated_at: Mapped[datetime]


class LineWebhookEvent(Base):
    """A verified LINE webhook event, stored before the webhook answers and processed from here
    (a restart loses nothing); the primary key de-duplicates LINE's redeliveries."""

    __tablename__ = "line_webhook_events"
    __table_args__ = (Index("ix_line_webhook_events_state", "state", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # webhookEventId
    destination: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending / done / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class FacebookPage(Base):
    """A Facebook Page connected by signing in with Facebook (issue 13, migration 0008).

    Holds the outlet's long-lived Page token, encrypted with the vault (``network_hub/vault.py``;
    the key is never in the database), and who granted it. Outlets that name a token variable or
    file have no row here and keep reading their token there (``publishers/registry.py``).
    """

    __tablename__ = "facebook_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), unique=True)
    page_id: Mapped[str] = mapped_column(String(32))
    page_name: Mapped[str] = mapped_column(String(200), default="")
    token_sealed: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    fb_user_id: Mapped[str] = mapped_column(String(40), default="")  # the app-scoped id of who granted it
    fb_user_name: Mapped[str] = mapped_column(String(200), default="")
    connected_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    connected_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FacebookLogin(Base):
    """One "sign in with Facebook" in progress (issue 13, migration 0008).

    The row's id is the nonce inside the signed OAuth ``state``: it is bound to the member and to
    their browser session (a hash of the session's CSRF token) and used once. After the callback
    it keeps the long-lived user token, encrypted, until the admin has picked the Pages (30 minutes
    at most); then the row is deleted.
    """

    __tablename__ = "facebook_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))  # reconnect
    state: Mapped[str] = mapped_column(String(16), default="started")  # started → returned
    user_token_sealed: Mapped[str | None] = mapped_column(Text)
    fb_user_id: Mapped[str | None] = mapped_column(String(40))
    fb_user_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
