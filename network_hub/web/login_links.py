"""One-time sign-in links (the bot sends them to a member who has no password or forgot it).

The link carries a random nonce signed with the hub's secret key (itsdangerous, so a guessed or
altered link is refused before the database is asked). The database keeps only the nonce's
SHA-256 in ``kv_store`` (namespace ``login_tokens``) with the member id and an expiry; using the
link deletes that row, and only the request whose DELETE removed it signs in, so a link works once
even when two processes see it at the same moment.

Opening the link shows a confirmation page; the token is spent by the POST from that page, so a
chat app fetching a link preview does not use it up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config.settings import Settings, load_settings
from network_hub.db.models import KeyValue, Member
from network_hub.errors import InvalidInput, NotFound
from network_hub.states import MemberStatus

NAMESPACE = "login_tokens"
LINK_TTL = timedelta(minutes=15)
_SALT = "tambon-pr-hub.login-link"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.ensure_secret_key(), salt=_SALT)


def _key(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def create_login_token(session: Session, member_id: int, now: datetime, *, settings: Settings) -> str:
    """Store a fresh single-use token for ``member_id`` and return its signed form."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", f"ไม่พบสมาชิกหมายเลข {member_id}")
    if member.status != MemberStatus.ACTIVE:
        raise InvalidInput(f"member {member_id} is {member.status}; no sign-in link", "บัญชีนี้ถูกระงับการใช้งาน")
    nonce = secrets.token_urlsafe(32)
    session.add(KeyValue(namespace=NAMESPACE, key=_key(nonce), value={"member_id": member_id},
                         expires_at=now + LINK_TTL, updated_at=now))
    session.flush()
    return _serializer(settings).dumps(nonce)


def create_login_link(session: Session, member_id: int, now: datetime, *, settings: Settings | None = None) -> str:
    """A one-time sign-in URL for the bot to send (valid 15 minutes, works once)."""
    settings = settings or load_settings()
    token = create_login_token(session, member_id, now, settings=settings)
    return f"{settings.public_base_url.rstrip('/')}/login/link/{token}"


_INVALID = InvalidInput(
    "the sign-in link is invalid, expired or already used; ask the bot for a new one",
    "ลิงก์เข้าสู่ระบบไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้ว กรุณาขอลิงก์ใหม่จากบอท",
)


def _nonce(token: str, settings: Settings) -> str:
    try:
        nonce = _serializer(settings).loads(token, max_age=int(LINK_TTL.total_seconds()))
    except BadSignature:
        raise _INVALID from None
    if not isinstance(nonce, str):
        raise _INVALID
    return nonce


def peek_login_token(session: Session, token: str, now: datetime, *, settings: Settings) -> int:
    """The member a still-usable token signs in (without using it up)."""
    row = session.scalar(select(KeyValue).where(KeyValue.namespace == NAMESPACE,
                                                KeyValue.key == _key(_nonce(token, settings))))
    if row is None or row.expires_at is None or row.expires_at <= now:
        raise _INVALID
    return int(row.value["member_id"])


def consume_login_token(session: Session, token: str, now: datetime, *, settings: Settings) -> int:
    """Use the token up and return its member id; raise InvalidInput when it cannot be used."""
    key = _key(_nonce(token, settings))
    row = session.scalar(select(KeyValue).where(KeyValue.namespace == NAMESPACE, KeyValue.key == key))
    if row is None or row.expires_at is None or row.expires_at <= now:
        raise _INVALID
    member_id = int(row.value["member_id"])
    removed = session.execute(
        delete(KeyValue).where(KeyValue.namespace == NAMESPACE, KeyValue.key == key)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:  # another request used it first
        raise _INVALID
    member = session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise _INVALID
    return member_id


def purge_expired(session: Session, now: datetime) -> int:
    return session.execute(
        delete(KeyValue).where(KeyValue.namespace == NAMESPACE, KeyValue.expires_at <= now)
        .execution_options(synchronize_session=False)
    ).rowcount
