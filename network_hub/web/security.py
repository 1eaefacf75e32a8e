"""Signed session cookies and CSRF tokens.

The session lives entirely in one cookie signed with itsdangerous (key: ``settings.ensure_secret_key()``):
``{"m": member id or None, "g": the member's session generation, "c": csrf token, "l": language or None}``.
The generation must equal ``members.session_generation`` on every request (``deps.current_viewer``):
signing out, a password change or a suspension bumps it, so a copied cookie stops working.
Every visitor gets one, signed in or not, so the sign-in form is CSRF-protected too. The CSRF
token is bound to the session: every form carries it as a hidden ``csrf_token`` field (HTMX
requests may send it as ``X-CSRF-Token``) and an unsafe request whose token does not match the
cookie's is refused before any work is done. Signing in issues a new token (a token seen before
sign-in is worthless after it), and signing out
drops the member and issues another.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "hub_session"
SESSION_MAX_AGE_S = 12 * 3600  # a working day at the district office
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebSession:
    member_id: int | None
    csrf: str
    language: str | None = None
    generation: int | None = None

    @classmethod
    def anonymous(cls, language: str | None = None) -> WebSession:
        return cls(member_id=None, csrf=new_csrf_token(), language=language)

    def signed_in(self, member_id: int, generation: int) -> WebSession:
        return WebSession(member_id=member_id, csrf=new_csrf_token(), language=self.language,
                          generation=generation)

    def signed_out(self) -> WebSession:
        return WebSession.anonymous(self.language)

    def with_language(self, language: str) -> WebSession:
        return replace(self, language=language)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


class SessionCodec:
    """Turns a WebSession into a signed cookie value and back (expired or forged → None)."""

    def __init__(self, secret_key: str, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tambon-pr-hub.session")
        self.max_age_s = max_age_s

    def dump(self, session: WebSession) -> str:
        return self._serializer.dumps({"m": session.member_id, "g": session.generation, "c": session.csrf,
                                       "l": session.language})

    def load(self, raw: str | None) -> WebSession | None:
        if not raw:
            return None
        try:
            data: Any = self._serializer.loads(raw, max_age=self.max_age_s)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        member = data.get("m")
        language = data.get("l")
        generation = data.get("g")
        return WebSession(
            member_id=member if isinstance(member, int) else None,
            csrf=data["c"],
            language=language if language in ("th", "en") else None,
            generation=generation if isinstance(generation, int) else None,
        )


def csrf_matches(session: WebSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), (submitted or "").encode())
