"""Connect a Facebook Page by signing in with Facebook (issue 13, part 3), for MANAGE_OUTLETS.

``GET /outlets/facebook`` explains the way in Thai: with ``HUB_FACEBOOK_APP_ID`` and
``HUB_FACEBOOK_APP_SECRET`` set, a "เข้าสู่ระบบด้วย Facebook" button; without them, how to set them
up and the token-file way. ``/outlets/facebook/start`` (a link, not a form: the CSP's
``form-action 'self'`` would stop a form's redirect to facebook.com) records the sign-in and sends
the browser to the Login dialog; ``?outlet=N`` is the "เชื่อมต่อใหม่" of an outlet.
``/outlets/facebook/callback`` accepts the signed, single-use ``state`` of the same member and
session, exchanges the code for a long-lived user token and either renews the outlet's Page token
(reconnect) or shows the Pages the user manages (``/outlets/facebook/pages``), where the admin
picks one Page per area with the area picker. Saving creates or updates the area's Facebook outlet
with the Page token stored encrypted, and checks it with ``debug_token`` at once, so the outlets
page shows it healthy. No token is ever written into a page: the Pages' tokens are fetched again
from Facebook on each save.

The Jinja globals installed here let the outlets and status pages warn about broken tokens with a
reconnect button (``_facebook_outlet.html``, ``_facebook_warnings.html``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from network_hub import facebook_pages as fb
from network_hub.db.models import FacebookLogin, Outlet
from network_hub.errors import HubError, InvalidInput
from network_hub.facebook_pages import FacebookLoginError, GraphCallError, GraphLogin, GraphPage, StoredPageTokens
from network_hub.hub import Hub
from network_hub.outlet_checks import check_outlet
from network_hub.outlets import get_outlet, resume_outlet
from network_hub.permissions import Action
from network_hub.states import OutletStatus, Platform
from network_hub.vault import Vault
from network_hub.web.area_picker import area_labels, build_picker, require_chosen, viewer_roots
from network_hub.web.deps import CSRF, VIEWER, Viewer, get_hub, transaction, web_session
from network_hub.web.members_admin import page, status_of
from publishers.registry import Publishers

log = logging.getLogger(__name__)
router = APIRouter()
BASE = "/outlets/facebook"


def _csrf(request: Request) -> str:
    return web_session(request).csrf


def _connected(request: Request, viewer: Viewer) -> list[dict[str, Any]]:
    """The Facebook outlets the viewer manages, with how each got its token (never the token)."""
    with transaction(request) as session:
        outlets = [o for o in session.scalars(select(Outlet).where(Outlet.platform == Platform.FACEBOOK.value)
                                               .order_by(Outlet.id))
                   if viewer.can(Action.MANAGE_OUTLETS, o.area_code)]
        links = fb.connections(session)
        names = area_labels(session, {o.area_code for o in outlets})
    return [{"outlet": o, "link": links.get(o.id), "area": names.get(o.area_code, ""),
             "warning": fb.warning_th(o.last_check_verdict) if o.last_check_at else ""} for o in outlets]


@router.get(BASE)
def connect_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    hub = get_hub(request)
    return page(request, "facebook_connect.html", ready=fb.configured(hub.settings),
                redirect_uri=fb.redirect_uri(hub.settings), rows=_connected(request, viewer),
                done=request.query_params.get("done"))


def _outlet_param(raw: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput(f"outlet {raw!r} is not an outlet number", "หมายเลขช่องทางไม่ถูกต้อง")
    return int(raw)


@router.get(f"{BASE}/start")
def start(request: Request, outlet: str = "", viewer: Viewer = VIEWER) -> Response:
    """Record the sign-in and go to Facebook's Login dialog (``outlet``: reconnect that outlet)."""
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    hub = get_hub(request)
    if not fb.configured(hub.settings):
        return RedirectResponse(BASE, status_code=303)  # the page says how to set the app up
    outlet_id = _outlet_param(outlet)
    with transaction(request) as session:
        state = fb.start_login(session, hub.settings, actor=viewer.actor, csrf_token=_csrf(request),
                               now=hub.clock.now(), outlet_id=outlet_id)
    return RedirectResponse(GraphLogin(hub.settings).dialog_url(state), status_code=303)


def _failed(request: Request, message: str, *, status_code: int = 400, retry: str = f"{BASE}/start") -> Response:
    return page(request, "facebook_connect_error.html", status_code=status_code, message=message, retry=retry)


@router.get(f"{BASE}/callback")
async def callback(request: Request, viewer: Viewer = VIEWER) -> Response:
    """Facebook sends the browser back here with ``code`` and ``state`` (or ``error=access_denied``)."""
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    hub = get_hub(request)
    params = request.query_params
    csrf = _csrf(request)
    now = hub.clock.now()

    def claim() -> FacebookLogin:
        with hub.transaction() as session:
            return fb.claim_callback(session, hub.settings, params.get("state", ""), actor=viewer.actor,
                                     csrf_token=csrf, now=now)

    try:
        login = await asyncio.to_thread(claim)
    except HubError as exc:
        return _failed(request, exc.message(viewer.language), status_code=status_of(exc))
    retry = f"{BASE}/start" + (f"?outlet={login.outlet_id}" if login.outlet_id else "")
    if params.get("error") or not params.get("code"):
        await asyncio.to_thread(_forget, hub, login.id)
        log.info("Facebook sign-in %s… ended without a code: %s (%s)", login.id[:6], params.get("error", "no code"),
                 params.get("error_reason", ""))
        return _failed(request, "ท่านยกเลิกหรือไม่ได้อนุญาตการเชื่อมต่อกับ Facebook จึงยังไม่มีอะไรเปลี่ยนแปลง "
                       "หากต้องการเชื่อมเพจ กรุณากดปุ่มด้านล่างแล้วเลือก «ดำเนินการต่อ» ที่หน้า Facebook", retry=retry)
    graph = GraphLogin(hub.settings)
    code = params["code"]

    def sign_in() -> tuple[str, dict[str, Any], list[str]]:
        short = graph.exchange_code(code)
        token = graph.long_lived(short)
        return token, graph.me(token), [str(s) for s in graph.debug_token(token).get("scopes") or []]

    try:
        token, user, scopes = await asyncio.to_thread(sign_in)
    except GraphCallError as exc:
        await asyncio.to_thread(_forget, hub, login.id)
        log.warning("Facebook sign-in %s… failed: %s (code %s/%s)", login.id[:6], exc.message, exc.code, exc.subcode)
        return _failed(request, fb.login_error_th(exc).message(viewer.language), retry=retry)
    missing = fb.missing_scopes(scopes)
    if missing:
        await asyncio.to_thread(_forget, hub, login.id)
        return _failed(request, "ท่านไม่ได้อนุญาตสิทธิ์ที่ระบบต้องใช้ (" + ", ".join(missing) + ") ระบบจึงโพสต์ลงเพจไม่ได้ "
                       "กรุณาเชื่อมต่อใหม่และเปิดสิทธิ์ทุกข้อที่หน้า Facebook", retry=retry)

    def keep() -> None:
        with hub.transaction() as session:
            fb.keep_user_token(session, Vault.from_settings(hub.settings), login.id, token=token, user=user)

    await asyncio.to_thread(keep)
    if login.outlet_id is None:
        return RedirectResponse(f"{BASE}/pages?login={login.id}", status_code=303)
    try:
        outlet_id = await _save(hub, viewer, login.id, csrf, page_id=None, area_code=None)
    except HubError as exc:
        return _failed(request, exc.message(viewer.language), status_code=status_of(exc), retry=retry)
    finally:
        await asyncio.to_thread(_forget, hub, login.id)
    return RedirectResponse(f"/outlets?done=reconnected#outlet-{outlet_id}", status_code=303)


def _forget(hub: Hub, login_id: str) -> None:
    with hub.transaction() as session:
        fb.forget_login(session, login_id)


def _pages_of(hub: Hub, viewer: Viewer, login_id: str, csrf: str) -> tuple[FacebookLogin, list[GraphPage], str]:
    """The open sign-in and the Pages its user granted, fetched from Facebook now (blocking)."""
    with hub.transaction() as session:
        login = fb.open_login(session, login_id, actor=viewer.actor, csrf_token=csrf, now=hub.clock.now())
    vault = Vault.from_settings(hub.settings)
    token = vault.decrypt(login.user_token_sealed or "")
    try:
        pages = GraphLogin(hub.settings).accounts(token)
    except GraphCallError as exc:
        raise fb.login_error_th(exc) from None
    return login, pages, token


async def _save(hub: Hub, viewer: Viewer, login_id: str, csrf: str, *, page_id: str | None,
                area_code: str | None) -> int:
    """Connect (``page_id`` for ``area_code``) or reconnect (the sign-in's outlet), then check it."""

    def store() -> int:
        login, pages, token = _pages_of(hub, viewer, login_id, csrf)
        scopes = [str(s) for s in GraphLogin(hub.settings).debug_token(token).get("scopes") or []]
        vault = Vault.from_settings(hub.settings)
        now = hub.clock.now()
        with hub.transaction() as session:
            if page_id is None:
                outlet = fb.reconnect_page(session, vault, login, pages, scopes=scopes, actor=viewer.actor, now=now)
            else:
                chosen = next((p for p in pages if p.id == page_id), None)
                if chosen is None:
                    raise InvalidInput(f"Page {page_id!r} is not among the user's granted Pages",
                                       "กรุณาเลือกเพจจากรายการ (เพจที่ท่านดูแลและอนุญาตไว้)")
                outlet = fb.connect_page(session, vault, login, chosen, area_code=area_code or "", scopes=scopes,
                                         actor=viewer.actor, now=now)
            return outlet.id

    try:
        outlet_id = await asyncio.to_thread(store)
    except GraphCallError as exc:
        raise fb.login_error_th(exc) from None
    await _check_and_resume(hub, viewer, outlet_id)
    return outlet_id


async def _check_and_resume(hub: Hub, viewer: Viewer, outlet_id: int) -> None:
    """Check the new token now (the outlets page shows it healthy at once); an outlet that was
    paused because its token broke goes back to work when the check passes."""

    def load() -> Outlet:
        with hub.transaction() as session:
            return get_outlet(session, outlet_id)

    outlet = await asyncio.to_thread(load)
    publishers = Publishers(hub.settings, stored_tokens=StoredPageTokens(hub.sessions, hub.settings))
    try:
        result = await check_outlet(hub, publishers, outlet)
    finally:
        await publishers.aclose()
    if not result.ok or outlet.status != OutletStatus.PAUSED or not (outlet.paused_reason or "").startswith(
            "needs a person"):
        return

    def resume() -> None:
        with hub.transaction() as session:
            resume_outlet(session, outlet_id, now=hub.clock.now(), actor=viewer.actor)

    await asyncio.to_thread(resume)


def _pick_view(request: Request, viewer: Viewer, form: FormData | Any, *, error: str | None = None,
               status_code: int = 200) -> Response:
    hub = get_hub(request)
    login_id = str(form.get("login", ""))
    try:
        login, pages, _token = _pages_of(hub, viewer, login_id, _csrf(request))
    except HubError as exc:
        return _failed(request, exc.message(viewer.language), status_code=status_of(exc))
    with transaction(request) as session:
        picker = build_picker(session, form, viewer_roots(viewer, Action.MANAGE_OUTLETS), language=viewer.language)
        taken = {o.address: o for o in session.scalars(select(Outlet).where(
            Outlet.platform == Platform.FACEBOOK.value, Outlet.address.in_([p.id for p in pages])))}
        taken_areas = area_labels(session, {o.area_code for o in taken.values()})
    done = str(request.query_params.get("done", ""))
    rows = [{"id": p.id, "name": p.name, "outlet": taken.get(p.id),
             "area": taken_areas.get(taken[p.id].area_code, "") if p.id in taken else ""} for p in pages]
    return page(request, "facebook_pages.html", status_code=status_code, login=login, pages=rows, picker=picker,
                form=form, error=error, done=done)


@router.get(f"{BASE}/pages")
def pick_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    return _pick_view(request, viewer, request.query_params)


@router.post(f"{BASE}/pages", dependencies=[CSRF])
async def save_page(request: Request, viewer: Viewer = VIEWER) -> Response:
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    form = await request.form()
    if form.get("step"):
        return await asyncio.to_thread(_pick_view, request, viewer, form)
    hub = get_hub(request)
    login_id = str(form.get("login", ""))
    page_id = str(form.get("page", "")).strip()
    try:
        if not page_id:
            raise InvalidInput("no Page was chosen", "กรุณาเลือกเพจที่จะเชื่อม")
        area = require_chosen(form)
        outlet_id = await _save(hub, viewer, login_id, _csrf(request), page_id=page_id, area_code=area)
    except FacebookLoginError as exc:
        return _failed(request, exc.message(viewer.language), status_code=status_of(exc))
    except HubError as exc:
        return await asyncio.to_thread(_pick_view, request, viewer, form, error=exc.message(viewer.language),
                                       status_code=status_of(exc))
    return RedirectResponse(f"{BASE}/pages?login={login_id}&done={outlet_id}", status_code=303)


@router.post(f"{BASE}/pages/done", dependencies=[CSRF])
async def finish(request: Request, viewer: Viewer = VIEWER) -> Response:
    """The admin picked every Page they wanted: the sign-in and its user token are deleted."""
    viewer.require_anywhere(Action.MANAGE_OUTLETS)
    form = await request.form()
    hub = get_hub(request)
    login_id = str(form.get("login", ""))

    def end() -> None:
        with hub.transaction() as session:
            login = session.get(FacebookLogin, login_id)
            if login is not None and login.member_id == viewer.member_id:
                fb.forget_login(session, login_id)

    await asyncio.to_thread(end)
    return RedirectResponse("/outlets?done=connected", status_code=303)


# -- warnings on the outlets and status pages ------------------------------------------------------------
def _problems(hub: Hub, viewer: Viewer | None) -> list[dict[str, Any]]:
    """Facebook outlets whose last check found a token problem, for whoever may see outlets."""
    if viewer is None:
        return []
    with hub.transaction() as session:
        outlets = list(session.scalars(select(Outlet).where(Outlet.platform == Platform.FACEBOOK.value,
                                                            Outlet.last_check_at.is_not(None))
                                       .order_by(Outlet.id)))
    ready = fb.configured(hub.settings)
    return [{"outlet": o, "warning": fb.warning_th(o.last_check_verdict),
             "reconnect": ready and viewer.can(Action.MANAGE_OUTLETS, o.area_code)}
            for o in outlets
            if fb.warning_th(o.last_check_verdict) and viewer.can(Action.VIEW_STATS, o.area_code)]


def install(app: FastAPI) -> None:
    """The routes, and the template globals the outlets and status pages use."""
    app.include_router(router)
    hub: Hub = app.state.hub
    env = app.state.templates.env
    env.globals["facebook_warning"] = fb.warning_th
    env.globals["facebook_after_warning"] = fb.AFTER_WARNING_TH
    env.globals["facebook_login_ready"] = lambda: fb.configured(hub.settings)
    env.globals["facebook_problems"] = lambda viewer: _problems(hub, viewer)
