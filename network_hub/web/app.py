"""The dashboard application: ``create_app(hub)`` assembles middleware, routers and error pages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError, StatementError
from starlette.responses import RedirectResponse, Response

from network_hub.errors import Conflict, HubError, InvalidInput, NeedsConfirmation, NotFound, PermissionDenied
from network_hub.hub import Hub
from network_hub.permissions import Action
from network_hub.web import (
    auth,
    calendar,
    deliveries,
    feeds,
    items,
    line_share,
    line_webhook,
    metrics,
    outlets,
    photo_checks,
    queue,
    roster,
    sandbox,
    stats,
    status,
)
from network_hub.web.bodylimit import BodyLimitMiddleware
from network_hub.web.deps import (
    STATIC_DIR,
    TEMPLATES_DIR,
    CsrfRefused,
    NotSignedIn,
    language_of,
    optional_viewer,
    render,
    sign_in_redirect_target,
)
from network_hub.web.i18n import translator
from network_hub.web.security import SESSION_COOKIE, SessionCodec, WebSession

log = logging.getLogger(__name__)

HTTP_STATUS = {
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    NeedsConfirmation: 409,
    InvalidInput: 400,
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


OUT_OF_RANGE = InvalidInput("a number or date in the request is out of range",
                            "ตัวเลขหรือวันที่ที่ระบุอยู่นอกช่วงที่ใช้ได้ กรุณาตรวจสอบแล้วลองใหม่")


# Public, cacheable content (feeds, published news and its photos, CSS/JS): their routes say how long.
PUBLIC_PATH_PREFIXES = ("/static/", "/feeds/", "/news/", "/media/")


def _apply_cache_policy(path: str, signed_in: bool, response: Response) -> None:
    """Nothing personal is kept by a browser or a proxy (issue 10, finding 11).

    Every answer to a signed-in member (roster phones, unpublished items and their photos) is
    ``private, no-store`` whatever the route set; other answers without a policy get ``no-store``
    (the sign-in page carries a CSRF token). Public content keeps its own caching.
    """
    if path.startswith(PUBLIC_PATH_PREFIXES):
        return
    if signed_in:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.headers.setdefault("Cache-Control", "no-store")


def _status_for(exc: HubError) -> int:
    for cls, code in HTTP_STATUS.items():
        if isinstance(exc, cls):
            return code
    return 400


def create_app(hub: Hub) -> FastAPI:
    app = FastAPI(title="Tambon PR Hub", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = hub
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    line_share.install(app.state.templates.env, hub.settings.public_base_url)  # "แชร์ไปยัง LINE" links
    codec = SessionCodec(hub.settings.ensure_secret_key())
    secure_cookie = hub.settings.public_base_url.startswith("https://")

    @app.middleware("http")
    async def session_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        loaded = codec.load(request.cookies.get(SESSION_COOKIE))
        request.state.web_session = loaded or WebSession.anonymous()
        response = await call_next(request)
        current: WebSession = request.state.web_session
        if current != loaded:
            response.set_cookie(SESSION_COOKIE, codec.dump(current), max_age=codec.max_age_s, httponly=True,
                                samesite="lax", secure=secure_cookie, path="/")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        signed_in = getattr(request.state, "viewer", None) is not None or bool(loaded and loaded.member_id)
        _apply_cache_policy(request.url.path, signed_in, response)
        return response

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": sign_in_redirect_target(request)})
        return RedirectResponse(sign_in_redirect_target(request), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        log.warning("refused %s %s: CSRF token missing or wrong", request.method, request.url.path)
        message = translator(language_of(request))("csrf_refused")
        return render(request, "error.html", status_code=403, message=message)

    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> Response:
        message = exc.message(language_of(request))
        target = request.headers.get("hx-target")
        if request.headers.get("hx-request") and target:
            # An HTMX form on a card: show the error inside that card's form-error box and keep the
            # form as it was (base.html lets htmx swap 4xx answers), instead of a dead-end page.
            inline = render(request, "_error_inline.html", status_code=_status_for(exc), message=message)
            inline.headers["HX-Retarget"] = f"#{target} .form-error"
            inline.headers["HX-Reswap"] = "innerHTML"
            return inline
        return render(request, "error.html", status_code=_status_for(exc), message=message)

    @app.exception_handler(OverflowError)
    @app.exception_handler(StatementError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        """Ids above 2^63 and far dates (9999-12-31 + a week) answer 400, not 500 (issue 10, finding 10)."""
        cause = exc.orig if isinstance(exc, StatementError) else exc
        if not isinstance(exc, DataError) and not isinstance(cause, OverflowError):
            raise exc  # a real database failure stays a 500 (and is logged as one)
        log.info("refused %s %s: value out of range (%s)", request.method, request.url.path, type(cause).__name__)
        return render(request, "error.html", status_code=400, message=OUT_OF_RANGE.message(language_of(request)))

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        viewer = optional_viewer(request)
        if viewer is None:
            return RedirectResponse("/login", status_code=303)
        for action, target in ((Action.MODERATE, "/queue"), (Action.VIEW_STATS, "/stats"),
                               (Action.MANAGE_OUTLETS, "/outlets")):
            if viewer.can(action):
                return RedirectResponse(target, status_code=303)
        return RedirectResponse("/items", status_code=303)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (auth, queue, items, calendar, deliveries, roster, outlets, stats, sandbox, status, feeds,
                   photo_checks):
        app.include_router(module.router)
    app.include_router(line_webhook.router)  # signed by LINE: no session, no CSRF (see the module)
    app.include_router(line_share.router)  # "แชร์ไปยัง LINE": counts the share, then on to LINE
    from network_hub.web import (  # the office on the web (issue 13)
        area_picker,
        areas_admin,
        invite_sheet,
        members_admin,
        outlet_admin,
        roster_import,
    )

    for office_module in (area_picker, members_admin, invite_sheet, roster_import, areas_admin, outlet_admin):
        app.include_router(office_module.router)
    from network_hub.web import facebook_connect  # Facebook Pages by signing in (issue 13, part 3)

    facebook_connect.install(app)
    metrics.install(app, hub)  # /metrics (loopback or HUB_METRICS_TOKEN) and the latency histogram
    # Outermost: an oversized body is refused (413) before any other work (issue 10, finding 5).
    app.add_middleware(BodyLimitMiddleware)
    return app
