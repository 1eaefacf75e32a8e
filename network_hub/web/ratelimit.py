"""Sign-in attempt limits, kept in the database (``kv_store``) so every hub process agrees.

Failures are counted per *subject*, not per typed text: the member the account resolves to
(``member:<id>``, whatever spelling of their phone, ``+66…``, dashes, Thai digits or their id was
typed), or, for an account that matches nobody, its normalised text (a phone in E.164, otherwise
lower case without spaces and punctuation). Otherwise a guesser rotates spellings of one phone
and is never locked (security review, finding 2).

Two counters per failed attempt: one for the subject from this IP address (5 failures in
15 minutes lock that pair) and one for the subject from anywhere (20 failures lock the account
for everyone, which stops a guesser who rotates addresses). A successful sign-in clears the
pair's counter. A counter's window starts at its first failure and ends 15 minutes later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from pythainlp.util import thai_digit_to_arabic_digit
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from network_hub.db.models import KeyValue, Member
from network_hub.errors import HubError
from network_hub.roster.lookup import normalize_phone

NAMESPACE = "login_attempts"
WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT_IP = 5
MAX_PER_ACCOUNT = 20


@dataclass(frozen=True)
class Lockout:
    until: datetime


_PUNCTUATION = str.maketrans("", "", " \t-.()/_")


def _normalize(account: str) -> str:
    text = thai_digit_to_arabic_digit(account.strip())
    try:
        return normalize_phone(text)  # 081-234-5678, +66 81 234 5678 and ๐๘๑… are one number
    except HubError:
        return "".join(text.split()).translate(_PUNCTUATION).lower()[:100]


def subject(member: Member | None, account: str) -> str:
    """What failures are counted against: the resolved member, else the normalised text."""
    if member is not None:
        return f"member:{member.id}"
    return f"text:{_normalize(account)}"


def _keys(subject: str, ip: str) -> list[tuple[str, int]]:
    acct = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return [(f"pair:{acct}:{ip[:60]}", MAX_PER_ACCOUNT_IP), (f"account:{acct}", MAX_PER_ACCOUNT)]


def _live(row: KeyValue | None, now: datetime) -> KeyValue | None:
    return row if row is not None and row.expires_at is not None and row.expires_at > now else None


def lockout(session: Session, subject: str, ip: str, now: datetime) -> Lockout | None:
    """The lock in force for this subject (see ``subject``) and address, if any."""
    for key, limit in _keys(subject, ip):
        row = _live(session.get(KeyValue, (NAMESPACE, key)), now)
        if row is not None and int(row.value.get("failures", 0)) >= limit and row.expires_at is not None:
            return Lockout(until=row.expires_at)
    return None


def record_failure(session: Session, subject: str, ip: str, now: datetime) -> None:
    for key, _limit in _keys(subject, ip):
        _bump(session, key, now)


def _bump(session: Session, key: str, now: datetime) -> None:
    for _ in range(3):  # two processes may insert the first failure at once: retry as an update
        row = session.scalar(select(KeyValue).where(KeyValue.namespace == NAMESPACE, KeyValue.key == key)
                             .with_for_update().execution_options(populate_existing=True))
        if row is not None:
            if _live(row, now) is None:
                row.value = {"failures": 1}
                row.expires_at = now + WINDOW
            else:
                row.value = {"failures": int(row.value.get("failures", 0)) + 1}
            row.updated_at = now
            session.flush()
            return
        try:
            with session.begin_nested():
                session.add(KeyValue(namespace=NAMESPACE, key=key, value={"failures": 1},
                                     expires_at=now + WINDOW, updated_at=now))
            return
        except IntegrityError:
            continue


def record_success(session: Session, subject: str, ip: str) -> None:
    pair_key = _keys(subject, ip)[0][0]
    session.execute(delete(KeyValue).where(KeyValue.namespace == NAMESPACE, KeyValue.key == pair_key)
                    .execution_options(synchronize_session=False))
