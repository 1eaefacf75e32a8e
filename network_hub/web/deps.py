"""What every route needs: the hub, the signed-in viewer, the CSRF check, page rendering.

Routes are plain ``def`` functions (FastAPI runs them in its thread pool), so the blocking
database calls here never run on the event loop that also serves the bot and the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.responses import Response

from network_hub.db.models import Member
from network_hub.hub import Hub
from network_hub.permissions import ROLES_FOR, ROOT_AREA, Action, Actor, decide, load_actor, require
from network_hub.states import MemberStatus
from network_hub.thai import be_date, be_datetime
from network_hub.web import i18n
from network_hub.web.security import CSRF_HEADER, SAFE_METHODS, WebSession, csrf_matches

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


class NotSignedIn(Exception):
    """The page needs a signed-in member; the app redirects to the sign-in page."""


class CsrfRefused(Exception):
    """An unsafe request without the session's CSRF token: refused before any work."""


@dataclass(frozen=True)
class Viewer:
    member_id: int
    name: str
    language: str
    actor: Actor

    def can(self, action: Action, area_code: str | None = None, **kwargs: Any) -> bool:
        """``area_code`` None: may the viewer do ``action`` in at least one area?"""
        if area_code is not None:
            return bool(decide(self.actor, action, area_code, **kwargs))
        return any(decide(self.actor, action, area, **kwargs) for area in self.areas(action))

    def areas(self, action: Action) -> list[str]:
        return self.actor.areas_with(ROLES_FOR[action])

    def require_anywhere(self, action: Action) -> list[str]:
        """Refuse (through the one permission function) unless the viewer may do ``action`` somewhere."""
        areas = self.areas(action)
        require(self.actor, action, areas[0] if areas else ROOT_AREA)
        return areas


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def web_session(request: Request) -> WebSession:
    ws: WebSession = request.state.web_session
    return ws


def set_web_session(request: Request, ws: WebSession) -> None:
    request.state.web_session = ws


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    with get_hub(request).transaction() as session:
        yield session


def now(request: Request) -> datetime:
    return get_hub(request).clock.now()


def current_viewer(request: Request) -> Viewer:
    ws = web_session(request)
    if ws.member_id is None:
        raise NotSignedIn
    with transaction(request) as session:
        member = session.get(Member, ws.member_id)
        if (member is None or member.status != MemberStatus.ACTIVE
                or ws.generation != member.session_generation):  # signed out elsewhere, or a copied cookie
            set_web_session(request, ws.signed_out())
            raise NotSignedIn
        actor = load_actor(session, member.id)
        language = ws.language or member.language or "th"
        viewer = Viewer(member_id=member.id, name=member.name, language=language, actor=actor)
    request.state.viewer = viewer
    return viewer


def keep_this_session(request: Request, member: Member) -> None:
    """After a member changed their own password: this browser stays signed in under the new
    session generation, while every other session of theirs (copied cookies included) has ended."""
    set_web_session(request, web_session(request).signed_in(member.id, member.session_generation))


def optional_viewer(request: Request) -> Viewer | None:
    try:
        return current_viewer(request)
    except NotSignedIn:
        return None


def verify_csrf(request: Request, csrf_token: str = Form("")) -> None:
    """Dependency of every unsafe route: the form field (or HTMX header) must match the session."""
    if request.method in SAFE_METHODS:
        return
    submitted = csrf_token or request.headers.get(CSRF_HEADER, "")
    if not csrf_matches(web_session(request), submitted):
        raise CsrfRefused


CSRF = Depends(verify_csrf)
VIEWER = Depends(current_viewer)


def language_of(request: Request) -> str:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is not None:
        return viewer.language
    ws: WebSession | None = getattr(request.state, "web_session", None)
    return (ws.language if ws else None) or "th"


def format_datetime(value: datetime | None, language: str, tz: Any) -> str:
    if value is None:
        return "–"
    if language == "en":
        return value.astimezone(tz).strftime("%d %b %Y %H:%M")
    return be_datetime(value, tz, short=True)


def format_date(value: datetime | None, language: str, tz: Any) -> str:
    if value is None:
        return "–"
    if language == "en":
        return value.astimezone(tz).strftime("%d %b %Y")
    return be_date(value, tz)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    language = language_of(request)
    tz = get_hub(request).settings.tz
    ws: WebSession | None = getattr(request.state, "web_session", None)
    context.update(
        lang=language,
        t=i18n.translator(language),
        viewer=getattr(request.state, "viewer", None),
        csrf_token=ws.csrf if ws else "",
        Action=Action,
        dt=lambda value: format_datetime(value, language, tz),
        d=lambda value: format_date(value, language, tz),
        status_label=lambda s: i18n.status_label(s, language),
        category_label=lambda c: i18n.category_label(c, language),
        pdpa_label=lambda f: i18n.pdpa_label(f, language),
        role_label=lambda r: i18n.role_label(r, language),
        paused_reason=lambda r: i18n.paused_reason_label(r, language),
        path=request.url.path,
        # label(kind, code), action_label, via_label and the Buddhist Era date pickers (OFFICE-UI)
        **i18n.helpers(language, tz, get_hub(request).clock.now().astimezone(tz).date()),
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def sign_in_redirect_target(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def safe_next(target: str | None) -> str:
    """Only local paths (never ``//host`` or a scheme) may be redirected to after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
