"""Sign-in (password or one-time link), sign-out and the language switch."""

from __future__ import annotations

import functools
import secrets

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from network_hub.db.models import Member
from network_hub.errors import HubError
from network_hub.roster.lookup import find_member
from network_hub.roster.passwords import MAX_PASSWORD_LENGTH, hash_password, password_matches
from network_hub.states import MemberStatus
from network_hub.web import login_links, ratelimit
from network_hub.web.deps import (
    CSRF,
    format_datetime,
    get_hub,
    language_of,
    now,
    optional_viewer,
    render,
    safe_next,
    set_web_session,
    transaction,
    web_session,
)
from network_hub.web.i18n import LANGUAGES, translator

router = APIRouter()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps an unknown account as slow as a wrong password (no probing)."""
    return hash_password(secrets.token_urlsafe(16))


def _password_ok(member: Member | None, password: str) -> bool:
    """Exactly one argon2 verification whoever asks, so timing tells nothing (security review, finding 4).

    An unknown account, a member without a password, a suspended member, an empty or an overlong
    password all verify against a dummy hash and answer no, as slowly as a wrong password.
    """
    real = member.password_hash if member is not None and member.status == MemberStatus.ACTIVE else None
    usable = bool(real) and 0 < len(password) <= MAX_PASSWORD_LENGTH
    probe = password[:MAX_PASSWORD_LENGTH] or "-"
    matched = password_matches(real if usable and real else _dummy_hash(), probe)
    return usable and matched


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if optional_viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), error=None, account="")


@router.post("/login", dependencies=[CSRF])
def login_submit(request: Request, account: str = Form(""), password: str = Form(""),
                 next: str = Form("/")) -> Response:
    hub = get_hub(request)
    t = translator(language_of(request))
    ip = _client_ip(request)
    at = now(request)
    member_id: int | None = None
    generation = 0
    error: str | None = None
    with transaction(request) as session:
        member: Member | None
        try:
            member = find_member(session, account) if account.strip() else None
        except HubError:
            member = None
        subject = ratelimit.subject(member, account)
        locked = ratelimit.lockout(session, subject, ip, at)
        if locked is not None:
            error = t("locked_out", until=format_datetime(locked.until, language_of(request), hub.settings.tz))
        elif _password_ok(member, password) and member is not None:
            member_id, generation = member.id, member.session_generation
            ratelimit.record_success(session, subject, ip)
        else:
            ratelimit.record_failure(session, subject, ip, at)
            error = t("bad_credentials")
    if member_id is None:
        return render(request, "login.html", status_code=429 if locked else 401, next=safe_next(next),
                      error=error, account=account)
    set_web_session(request, web_session(request).signed_in(member_id, generation))
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/login/link/{token}")
def login_link_page(request: Request, token: str) -> Response:
    hub = get_hub(request)
    with transaction(request) as session:
        member_id = login_links.peek_login_token(session, token, now(request), settings=hub.settings)
        member = session.get(Member, member_id)
        name = member.name if member else ""
    return render(request, "login_link.html", token=token, name=name)


@router.post("/login/link/{token}", dependencies=[CSRF])
def login_link_use(request: Request, token: str) -> Response:
    hub = get_hub(request)
    with transaction(request) as session:
        member_id = login_links.consume_login_token(session, token, now(request), settings=hub.settings)
        member = session.get(Member, member_id)
        generation = member.session_generation if member is not None else -1
    set_web_session(request, web_session(request).signed_in(member_id, generation))
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[CSRF])
def logout(request: Request) -> Response:
    ws = web_session(request)
    if ws.member_id is not None:
        with transaction(request) as session:
            member = session.get(Member, ws.member_id)
            if member is not None and member.session_generation == ws.generation:
                # Signing out ends the member's sessions everywhere, copied cookies included.
                member.session_generation += 1
    set_web_session(request, ws.signed_out())
    return RedirectResponse("/login", status_code=303)


@router.post("/lang", dependencies=[CSRF])
def switch_language(request: Request, language: str = Form("th"), next: str = Form("/")) -> Response:
    if language in LANGUAGES:
        set_web_session(request, web_session(request).with_language(language))
    return RedirectResponse(safe_next(next), status_code=303)
