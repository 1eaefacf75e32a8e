"""A loopback fake of the Facebook Graph API (the Pages publishing subset), for facebook-sdk.

Stateful (pages, tokens, posts, unpublished photos), strict where Graph is strict or where a
client bug would otherwise go unnoticed: token validity and scopes (190 family, 200), missing
content (100), ``attached_media`` that is not an unconsumed unpublished photo of the same page,
Python-style booleans (``True``), duplicate consecutive posts (506), bad images (324), old API
versions (below ``min_version``; the real Graph silently serves the oldest live version instead,
which is exactly what a pinned client must never rely on).

Use::

    async with FakeFacebook() as fb:                 # or FakeFacebook().start_in_thread()
        page = fb.add_page("1000001", name="ข่าวตำบลปงยางคก")
        settings = Settings(facebook_graph_url=fb.graph_url, ...)
        ... publisher posts with page.token ...
        assert fb.posts("1000001")[0].message.startswith("...")

Fault injection: ``fail_next(route, code=…)`` (Graph JSON errors, any code/subcode/status),
``html_error_next`` (an edge proxy's 5xx page), ``no_content_type_next``, ``malformed_json_next``,
``drop_next(route, commit=True)`` (the post is created, the connection closed without an answer),
``latency(seconds)``, ``rate_limits(on)`` (80001 with ``estimated_time_to_regain_access``).
Routes: ``feed``, ``photos``, ``edit``, ``delete``, ``published_posts``, ``debug_token``,
``oauth_access_token``, ``accounts``, ``get`` or ``*``. ``python -m platform_fakes.facebook --port 8082``
runs it standalone.

Facebook Login (the manual flow, developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
``add_user(user_id, name, pages=[...])`` and ``login_as(user_id)`` say who is signed in to "Facebook";
``GET /{version}/dialog/oauth?client_id&redirect_uri&state&scope`` shows a small consent page (the
pages and permissions as checkboxes, an "allow" and a "cancel" button) that redirects back to
``redirect_uri`` with ``code`` and ``state``, or with ``error=access_denied&error_reason=user_denied``.
``GET /{version}/oauth/access_token`` exchanges a code (single use, same ``redirect_uri``) for a
short-lived user token, and ``grant_type=fb_exchange_token`` a user token for a long-lived one;
``GET /{version}/me/accounts`` lists the granted Pages with their Page tokens (non-expiring when the
user token is long-lived); ``debug_token`` describes user and Page tokens (type, scopes,
granular_scopes, expires_at, error subcodes). What a user does later on facebook.com:
``change_password(user_id)`` (190/460), ``remove_app(user_id)`` (190/458), ``remove_role(user_id,
page_id)`` (190/492), ``revoke_scope(user_id, scope)``, ``set_token_state(token, "expired")`` (190/463);
other processes use ``POST /_fake/users/{user_id}/{password_changed|app_removed}``,
``POST /_fake/users/{user_id}/pages/{page_id}/role_removed``, ``POST /_fake/tokens/{state}`` with
``{"token": …}`` (loopback clients only).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import json
import math
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from platform_fakes._server import Fault, FaultBook, LoopbackServer, drop_connection, serve_forever

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")
PAGE_SCOPES = ("pages_manage_posts", "pages_read_engagement", "pages_show_list")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
UNPUBLISHED_PHOTO_TTL_S = 24 * 3600
TOKEN_ERRORS = {  # state → (subcode, message)
    "expired": (463, "Error validating access token: Session has expired on Tuesday, 24-Nov-26 03:00:00 PST."),
    "password_changed": (
        460,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
    ),
    "role_removed": (
        492,
        "Error validating access token: The user must be an administrator, editor, or "
        "moderator of the page in order to impersonate it.",
    ),
    "invalid": (467, "Invalid OAuth access token - Cannot parse access token"),
    "app_removed": (458, "Error validating access token: The user has not authorized application {app_id}."),
}
SHORT_LIVED_S = 3600  # a user token from the Login dialog: about an hour
LONG_LIVED_S = 5183944  # about 60 days (the docs' own example value)
CODE_TTL_S = 600  # an authorization code must be exchanged within ten minutes


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        error_type: str = "OAuthException",
        is_transient: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body: dict[str, Any] = {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
        if subcode is not None:
            self.body["error_subcode"] = subcode
        if is_transient is not None:
            self.body["is_transient"] = is_transient


@dataclass
class FakeToken:
    value: str
    page_id: str | None  # None: a user token
    scopes: tuple[str, ...] = PAGE_SCOPES
    state: str = "valid"  # valid | expired | password_changed | role_removed | app_removed
    app_id: str = "900000000000001"
    user_id: str | None = None  # the Facebook user it was issued to (Login tokens and their Page tokens)
    expires_at: int = 0  # unix seconds; 0: never (a Page token from a long-lived user token)
    granted_pages: tuple[str, ...] = ()  # user tokens: the Pages the user granted in the dialog
    long_lived: bool = False


@dataclass
class FakeUser:
    id: str
    name: str
    pages: dict[str, list[str]]  # page id → tasks on it


@dataclass
class FakeCode:
    value: str
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    pages: tuple[str, ...]
    created_at: float
    used: bool = False


@dataclass
class FakePhoto:
    id: str
    page_id: str
    data: bytes
    published: bool
    temporary: bool
    created_at: float
    caption: str = ""
    consumed_by: str | None = None


@dataclass
class FakePost:
    id: str
    page_id: str
    message: str
    link: str | None
    created_at: float
    media_fbids: list[str] = field(default_factory=list)
    edited_at: float | None = None
    deleted: bool = False
    app_id: str = "900000000000001"

    def as_json(self, fields: list[str] | None = None) -> dict[str, Any]:
        every = {
            "id": self.id,
            "message": self.message,
            "created_time": _graph_time(self.created_at),
            "updated_time": _graph_time(self.edited_at or self.created_at),
            "is_published": True,
            "permalink_url": f"https://www.facebook.com/{self.id}",
        }
        if self.link:
            every["link"] = self.link
        wanted = fields or ["id", "message", "created_time"]
        return {k: every[k] for k in ["id", *wanted] if k in every}


@dataclass
class FakePage:
    id: str
    name: str
    token: str
    posts: list[FakePost] = field(default_factory=list)
    photos: dict[str, FakePhoto] = field(default_factory=dict)
    calls: deque[float] = field(default_factory=deque)  # for business-use-case rate limits


@dataclass
class LoggedRequest:
    method: str
    path: str  # without the version
    version: str
    query: dict[str, str]
    form: dict[str, str]
    file_names: list[str]
    token_location: str | None  # header | query | body | None
    route: str


class FakeFacebook(LoopbackServer):
    def __init__(
        self,
        *,
        port: int = 0,
        app_id: str = "900000000000001",
        app_secret: str = "fake-app-secret",
        min_version: str = "v21.0",
        strict_booleans: bool = True,
    ) -> None:
        super().__init__(port)
        self.app_id, self.app_secret = app_id, app_secret
        self.min_version = min_version
        self.strict_booleans = strict_booleans
        self.pages: dict[str, FakePage] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.requests_log: list[LoggedRequest] = []
        self.faults = FaultBook()
        self._offset_s = 0.0
        self._ids = itertools.count(10_000_001)
        self._rate_limits = False
        self.calls_per_hour = 200
        self.users: dict[str, FakeUser] = {}
        self.dialog_user: str | None = None  # who is signed in to "Facebook" in the browser
        self.codes: dict[str, FakeCode] = {}
        self.allowed_redirect_uris: set[str] = set()  # empty: any http(s) redirect_uri is accepted
        self._page_tokens: dict[tuple[str, str, bool], str] = {}  # (user, page, long-lived) → token

    # -- URLs ---------------------------------------------------------------------------------------
    @property
    def graph_url(self) -> str:
        return self.origin

    base_url = graph_url

    @property
    def dialog_url(self) -> str:
        """Stands in for https://www.facebook.com (the Login dialog lives at /{version}/dialog/oauth)."""
        return self.origin

    # -- set-up API for tests -------------------------------------------------------------------------
    def add_page(self, page_id: str, *, name: str = "ข่าวตำบล", scopes: tuple[str, ...] = PAGE_SCOPES) -> FakePage:
        token = f"EAAFakePage{page_id}{secrets.token_hex(12)}"
        self.tokens[token] = FakeToken(token, page_id, tuple(scopes), app_id=self.app_id)
        page = FakePage(page_id, name, token)
        self.pages[page_id] = page
        return page

    def issue_token(self, page_id: str | None, *, scopes: tuple[str, ...] = PAGE_SCOPES, state: str = "valid") -> str:
        token = f"EAAFake{secrets.token_hex(16)}"
        self.tokens[token] = FakeToken(token, page_id, tuple(scopes), state, self.app_id)
        return token

    def set_token_state(self, token: str, state: str) -> None:
        """``expired`` (190/463), ``password_changed`` (190/460), ``role_removed`` (190/492),
        ``app_removed`` (190/458), ``valid``."""
        if state != "valid" and state not in TOKEN_ERRORS:
            raise ValueError(f"unknown token state {state!r}")
        self.tokens[token].state = state

    # -- Facebook users and what they do on facebook.com --------------------------------------------------
    def add_user(self, user_id: str, name: str = "ผู้ดูแลเพจ", *, pages: list[str] | dict[str, list[str]] = ()
                 ) -> FakeUser:
        """A Facebook user who manages ``pages`` (added with ``add_page`` first; tasks default to all)."""
        tasks = pages if isinstance(pages, dict) else {p: ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING",
                                                            "MODERATE", "MANAGE"] for p in pages}
        unknown = [p for p in tasks if p not in self.pages]
        if unknown:
            raise ValueError(f"add the pages first: {unknown}")
        user = FakeUser(user_id, name, {p: list(t) for p, t in tasks.items()})
        self.users[user_id] = user
        return user

    def login_as(self, user_id: str | None) -> None:
        """The user the Login dialog acts for (None: nobody is signed in to Facebook)."""
        if user_id is not None and user_id not in self.users:
            raise ValueError(f"unknown user {user_id}")
        self.dialog_user = user_id

    def _tokens_of(self, user_id: str, page_id: str | None = None) -> list[FakeToken]:
        return [t for t in self.tokens.values()
                if t.user_id == user_id and (page_id is None or t.page_id == page_id)]

    def change_password(self, user_id: str) -> None:
        """Every session and token of the user ends (190/460), Page tokens made from them too."""
        for token in self._tokens_of(user_id):
            token.state = "password_changed"

    def remove_app(self, user_id: str) -> None:
        """The user removed the app in their settings (190/458)."""
        for token in self._tokens_of(user_id):
            token.state = "app_removed"

    def remove_role(self, user_id: str, page_id: str) -> None:
        """The user lost their role on the Page: its Page tokens stop working (190/492)."""
        self.users[user_id].pages.pop(page_id, None)
        for token in self._tokens_of(user_id, page_id):
            token.state = "role_removed"

    def revoke_scope(self, user_id: str, scope: str) -> None:
        """The user removed one permission in the app's settings (calls needing it answer #200)."""
        for token in self._tokens_of(user_id):
            token.scopes = tuple(s for s in token.scopes if s != scope)

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (unpublished photos expire after 24 h)."""
        self._offset_s += seconds

    def rate_limits(self, on: bool = True, *, calls_per_hour: int = 200) -> None:
        self._rate_limits, self.calls_per_hour = on, calls_per_hour

    def fail_next(
        self,
        route: str = "*",
        *,
        code: int = 1,
        message: str | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        is_transient: bool | None = None,
        eta_minutes: int | None = None,
        times: int = 1,
        error_type: str = "OAuthException",
    ) -> None:
        """The next ``times`` calls of ``route`` answer with a Graph error (nothing is done)."""
        status = http_status or (500 if code in (1, 2) else 400)
        body: dict[str, Any] = {
            "message": message or f"(#{code}) Simulated error {code}",
            "type": error_type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
        if subcode is not None:
            body["error_subcode"] = subcode
        if is_transient is not None:
            body["is_transient"] = is_transient
        headers: dict[str, str] = {}
        if eta_minutes is not None:
            headers["x-business-use-case-usage"] = json.dumps(
                {
                    "0": [
                        {
                            "type": "pages",
                            "call_count": 100,
                            "total_cputime": 10,
                            "total_time": 10,
                            "estimated_time_to_regain_access": eta_minutes,
                        }
                    ]
                }
            )
        self.faults.add(Fault(route, "error", times, status, {"error": body}, headers))

    def html_error_next(self, route: str = "*", *, status: int = 502, times: int = 1) -> None:
        self.faults.add(Fault(route, "html", times, status))

    def no_content_type_next(self, route: str = "*", *, times: int = 1) -> None:
        self.faults.add(Fault(route, "no_content_type", times, 200))

    def malformed_json_next(self, route: str = "*", *, times: int = 1) -> None:
        self.faults.add(Fault(route, "malformed_json", times, 200))

    def drop_next(self, route: str = "*", *, times: int = 1, commit: bool = True) -> None:
        """Close the connection without an answer; with ``commit`` the work is done first."""
        self.faults.add(Fault(route, "commit_then_drop" if commit else "drop", times))

    def latency(self, seconds: float, *, routes: list[str] | None = None) -> None:
        """Answer ``seconds`` late, after doing the work (a timed-out client leaves a post behind)."""
        self.faults.latency_s = seconds
        self.faults.latency_routes = {r.lower() for r in routes} if routes else None

    def reset_faults(self) -> None:
        self.faults.clear()

    # -- inspection API ---------------------------------------------------------------------------------
    def posts(self, page_id: str) -> list[FakePost]:
        """Live posts of a page, oldest first."""
        return [p for p in self.pages[page_id].posts if not p.deleted]

    def photos(self, page_id: str) -> list[FakePhoto]:
        return list(self.pages[page_id].photos.values())

    def count(self, page_id: str | None = None) -> int:
        if page_id is not None:
            return len(self.posts(page_id))
        return sum(len(self.posts(p)) for p in self.pages)

    def requests(self, route: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.requests_log if route is None or r.route == route]

    # -- transport ------------------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self._offset_s

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/_fake/users/{user_id}/{what}", self._control_user)
        app.router.add_post("/_fake/users/{user_id}/pages/{page_id}/role_removed", self._control_role)
        app.router.add_post("/_fake/tokens/{state}", self._control_token)
        app.router.add_route("*", "/{version}/{path:.*}", self._handle)
        app.router.add_route("*", "/{path:.*}", self._unversioned)
        return app

    # -- control endpoints (other processes: browser tests, benchmarks) ----------------------------------------
    @staticmethod
    def _loopback_only(request: web.Request) -> None:
        if request.remote not in ("127.0.0.1", "::1"):
            raise web.HTTPForbidden(text="control endpoints answer loopback clients only")

    async def _control_user(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        user_id, what = request.match_info["user_id"], request.match_info["what"]
        actions = {"password_changed": self.change_password, "app_removed": self.remove_app}
        if user_id not in self.users or what not in actions:
            return web.json_response({"ok": False, "error": "unknown user or action"}, status=404)
        actions[what](user_id)
        return web.json_response({"ok": True})

    async def _control_role(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        user_id, page_id = request.match_info["user_id"], request.match_info["page_id"]
        if user_id not in self.users:
            return web.json_response({"ok": False, "error": "unknown user"}, status=404)
        self.remove_role(user_id, page_id)
        return web.json_response({"ok": True})

    async def _control_token(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        body = await request.json()
        token = str(body.get("token", "")) if isinstance(body, dict) else ""
        if token not in self.tokens:
            return web.json_response({"ok": False, "error": "unknown token"}, status=404)
        try:
            self.set_token_state(token, request.match_info["state"])
        except ValueError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _unversioned(self, request: web.Request) -> web.StreamResponse:
        return _json(
            {
                "error": {
                    "message": "Unversioned calls are refused by this fake: pin a Graph API version",
                    "type": "GraphMethodException",
                    "code": 12,
                }
            },
            400,
            "unversioned",
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        version = request.match_info["version"]
        path = request.match_info["path"].strip("/")
        query = {k: v for k, v in request.query.items()}
        form, files = await _read_form(request)
        token, location = _token_of(request, query, form)
        route = _route(request.method, path)
        self.requests_log.append(
            LoggedRequest(request.method, path, version, query, form, list(files), location, route)
        )
        if not VERSION_RE.match(version):
            return _json(
                {"error": {"message": f"Unknown path components: /{version}", "type": "OAuthException", "code": 2500}},
                400,
                version,
            )
        if _version_tuple(version) < _version_tuple(self.min_version):
            return _json(
                {
                    "error": {
                        "message": f"(#12) Graph API {version} is no longer available; the oldest "
                        f"version this fake serves is {self.min_version}",
                        "type": "GraphMethodException",
                        "code": 12,
                    }
                },
                400,
                version,
            )
        if path.startswith("dialog/"):
            return self._dialog(request.method, version, path, query, form)
        fault = self.faults.take(route)
        if fault is not None:
            early = self._early_fault(request, fault, version)
            if early is not None:
                return early
        params = {**query, **form}
        try:
            result, headers = self._dispatch(request.method, path, params, files, token)
        except GraphError as exc:
            return _json({"error": exc.body}, exc.status, version, exc.headers)
        if fault is not None and fault.kind == "commit_then_drop":
            return drop_connection(request)
        delay = self.faults.delay_for(route)
        if delay:
            await asyncio.sleep(delay)
        return _json(result, 200, version, headers)

    def _early_fault(self, request: web.Request, fault: Fault, version: str) -> web.StreamResponse | None:
        if fault.kind == "error":
            return _json(fault.body or {}, fault.status, version, fault.headers)
        if fault.kind == "html":
            return web.Response(
                status=fault.status,
                content_type="text/html",
                text="<html><body><h1>Sorry, something went wrong.</h1></body></html>",
            )
        if fault.kind == "no_content_type":
            response = web.Response(status=200, body=b'{"id": "1"}')
            response.headers.popall("Content-Type", None)
            response.content_type = ""  # aiohttp otherwise adds application/octet-stream
            return response
        if fault.kind == "malformed_json":
            return web.Response(status=200, body=b'{"id": "1', content_type="application/json")
        if fault.kind == "drop":
            return drop_connection(request)
        return None  # commit_then_drop: handled after the work is done

    # -- the Graph API ---------------------------------------------------------------------------------------
    def _dispatch(
        self, method: str, path: str, params: dict[str, str], files: dict[str, bytes], token: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        parts = path.split("/") if path else []
        if method == "GET" and parts == ["debug_token"]:
            return self._debug_token(params), {}
        if parts == ["oauth", "access_token"]:
            return self._access_token(params), {}
        auth = self._authenticate(token)
        headers = self._count_call(auth)
        if method == "GET" and parts == ["me"]:
            if auth.page_id is None:
                user = self.users.get(auth.user_id or "")
                return ({"id": user.id, "name": user.name} if user else {"id": "1", "name": "ผู้ใช้"}), headers
            return {"id": auth.page_id, "name": self.pages[auth.page_id].name}, headers
        if method == "GET" and len(parts) == 2 and parts[1] == "accounts" and auth.page_id is None \
                and parts[0] in ("me", auth.user_id):
            return self._accounts(auth, params), headers
        if len(parts) == 2 and parts[0] in self.pages:
            page = self._page_for(auth, parts[0])
            if method == "POST" and parts[1] == "feed":
                return self._create_post(page, auth, params), headers
            if method == "POST" and parts[1] == "photos":
                return self._upload_photo(page, auth, params, files), headers
            if method == "GET" and parts[1] in ("published_posts", "feed", "posts"):
                return self._list_posts(page, params), headers
        if len(parts) == 1:
            return self._object(method, parts[0], params, auth), headers
        raise GraphError(
            100,
            f"(#100) Unsupported {method.lower()} request. Object with ID '{path}' does not "
            "exist, cannot be loaded due to missing permissions, or does not support this "
            "operation",
            subcode=33,
            error_type="GraphMethodException",
        )

    def _authenticate(self, token: str | None) -> FakeToken:
        if not token:
            raise GraphError(104, "An access token is required to request this resource.")
        found = self.tokens.get(token)
        if found is None:
            subcode, message = TOKEN_ERRORS["invalid"]
            raise GraphError(190, message, subcode=subcode, status=400)
        state = self._state_of(found)
        if state != "valid":
            subcode, message = TOKEN_ERRORS[state]
            raise GraphError(190, message.format(app_id=self.app_id), subcode=subcode)
        return found

    def _state_of(self, token: FakeToken) -> str:
        if token.state == "valid" and token.expires_at and self.now() >= token.expires_at:
            return "expired"
        return token.state

    def _count_call(self, auth: FakeToken) -> dict[str, str]:
        if auth.page_id is None or auth.page_id not in self.pages:
            return {}
        page = self.pages[auth.page_id]
        now = self.now()
        while page.calls and page.calls[0] <= now - 3600:
            page.calls.popleft()
        used = len(page.calls)
        eta = 0
        if self._rate_limits and used >= self.calls_per_hour:
            eta = max(1, math.ceil((page.calls[0] + 3600 - now) / 60))
        usage = {
            page.id: [
                {
                    "type": "pages",
                    "call_count": min(100, int(100 * used / max(self.calls_per_hour, 1))),
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": eta,
                }
            ]
        }
        headers = {"x-business-use-case-usage": json.dumps(usage)}
        if eta:
            raise GraphError(
                80001,
                "(#80001) There have been too many calls to this Page account. Wait a bit and "
                "try again. For more info, please refer to "
                "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                headers=headers,
            )
        page.calls.append(now)
        return headers

    def _page_for(self, auth: FakeToken, page_id: str) -> FakePage:
        if auth.page_id != page_id:
            raise GraphError(200, "(#200) The token does not belong to this Page: use the Page's own access token")
        return self.pages[page_id]

    def _require_scope(self, auth: FakeToken, scope: str) -> None:
        if scope not in auth.scopes:
            raise GraphError(200, f"(#200) Requires {scope} permission to manage the object")

    def _bool(self, params: dict[str, str], name: str, default: bool) -> bool:
        value = params.get(name)
        if value is None:
            return default
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        if not self.strict_booleans and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise GraphError(
            100, f"(#100) param {name} must be a boolean (true/false), got {value!r}", error_type="OAuthException"
        )

    def _create_post(self, page: FakePage, auth: FakeToken, params: dict[str, str]) -> dict[str, Any]:
        self._require_scope(auth, "pages_manage_posts")
        message = params.get("message", "")
        link = params.get("link")
        published = self._bool(params, "published", True)
        media = self._attached_media(page, params)
        if not message and not link and not media:
            raise GraphError(100, "(#100) Either link or message must be supplied")
        if not published and "scheduled_publish_time" not in params:
            raise GraphError(100, "(#100) This fake only supports published or scheduled posts")
        previous = [p for p in page.posts if not p.deleted]
        if previous and _normal(previous[-1].message) == _normal(message) and previous[-1].link == link:
            raise GraphError(506, "(#506) Duplicate status message")
        post = FakePost(f"{page.id}_{next(self._ids)}", page.id, message, link, self.now(), media)
        for fbid in media:
            page.photos[fbid].consumed_by = post.id
        page.posts.append(post)
        return {"id": post.id}

    def _attached_media(self, page: FakePage, params: dict[str, str]) -> list[str]:
        entries: list[Any] = []
        if "attached_media" in params.get("__repeated__", "").split(","):
            raise GraphError(
                100, "(#100) attached_media was sent as repeated keys; send attached_media[i] or one JSON array"
            )
        if "attached_media" in params:
            try:
                value = json.loads(params["attached_media"])
            except json.JSONDecodeError:
                raise GraphError(100, "(#100) param attached_media must be an array of objects") from None
            if not isinstance(value, list):
                raise GraphError(100, "(#100) param attached_media must be an array of objects")
            entries.extend(value)
        indexed = sorted(
            (int(m.group(1)), v) for k, v in params.items() if (m := re.fullmatch(r"attached_media\[(\d+)\]", k))
        )
        for _, raw in indexed:
            try:
                entries.append(json.loads(raw))
            except json.JSONDecodeError:
                raise GraphError(100, "(#100) attached_media entries must be JSON objects") from None
        if len(entries) > 10:
            raise GraphError(100, "(#100) Too many attached_media entries (this fake allows 10)")
        fbids = []
        for entry in entries:
            fbid = str(entry.get("media_fbid", "")) if isinstance(entry, dict) else ""
            photo = page.photos.get(fbid)
            if photo is None or photo.published or photo.consumed_by is not None:
                raise GraphError(100, f"(#100) media_fbid {fbid!r} is not an unpublished photo of this Page")
            if self.now() - photo.created_at > UNPUBLISHED_PHOTO_TTL_S:
                raise GraphError(100, f"(#100) media_fbid {fbid!r} has expired (unpublished photos last 24 hours)")
            fbids.append(fbid)
        return fbids

    def _upload_photo(
        self, page: FakePage, auth: FakeToken, params: dict[str, str], files: dict[str, bytes]
    ) -> dict[str, Any]:
        self._require_scope(auth, "pages_manage_posts")
        if "url" in params:
            raise GraphError(324, "(#324) Missing or invalid image file (this fake cannot fetch URLs)")
        if not files:
            raise GraphError(324, "(#324) Missing or invalid image file")
        data = next(iter(files.values()))
        if len(data) > MAX_PHOTO_BYTES or not data.startswith(IMAGE_MAGIC):
            raise GraphError(324, "(#324) Missing or invalid image file")
        published = self._bool(params, "published", True)
        temporary = self._bool(params, "temporary", False)
        if temporary and published:
            raise GraphError(100, "(#100) A temporary photo must be unpublished (published=false)")
        photo = FakePhoto(
            str(next(self._ids)), page.id, data, published, temporary, self.now(), params.get("caption", "")
        )
        page.photos[photo.id] = photo
        if not published:
            return {"id": photo.id}
        post = FakePost(f"{page.id}_{next(self._ids)}", page.id, photo.caption, None, self.now(), [photo.id])
        page.posts.append(post)
        return {"id": photo.id, "post_id": post.id}

    def _list_posts(self, page: FakePage, params: dict[str, str]) -> dict[str, Any]:
        since = _parse_time(params.get("since"))
        limit = min(int(params.get("limit") or 25), 100)
        fields = [f for f in (params.get("fields") or "id,message,created_time").split(",") if f]
        posts = [p for p in reversed(page.posts) if not p.deleted and (since is None or p.created_at >= since)]
        start = int(params.get("after") or 0)
        chunk = posts[start : start + limit]
        result: dict[str, Any] = {"data": [p.as_json(fields) for p in chunk]}
        if chunk:
            result["paging"] = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
            if start + len(chunk) < len(posts):
                result["paging"]["next"] = f"{self.graph_url}/{page.id}/published_posts?after={start + len(chunk)}"
        return result

    def _object(self, method: str, object_id: str, params: dict[str, str], auth: FakeToken) -> dict[str, Any]:
        if object_id in self.pages and method == "GET":
            page = self.pages[object_id]
            return {"id": page.id, "name": page.name}
        post = self._find_post(object_id)
        if post is None or post.deleted:
            raise GraphError(
                100,
                f"(#100) Unsupported {method.lower()} request. Object with ID '{object_id}' "
                "does not exist, cannot be loaded due to missing permissions, or does not "
                "support this operation",
                subcode=33,
                error_type="GraphMethodException",
            )
        page = self._page_for(auth, post.page_id)
        if method == "GET":
            fields = [f for f in (params.get("fields") or "id,message,created_time").split(",") if f]
            return post.as_json(fields)
        self._require_scope(auth, "pages_manage_posts")
        if post.app_id != auth.app_id:
            raise GraphError(200, "(#200) An app can only update a Page post if the post was made using that app")
        if method == "DELETE":
            post.deleted = True
            return {"success": True}
        if method == "POST":
            if "message" in params:
                post.message = params["message"]
                post.edited_at = self.now()
            return {"success": True}
        del page
        raise GraphError(100, f"(#100) Unsupported method {method}")

    def _find_post(self, post_id: str) -> FakePost | None:
        page_id = post_id.split("_", 1)[0]
        page = self.pages.get(page_id)
        if page is None:
            return None
        return next((p for p in page.posts if p.id == post_id), None)

    def _debug_token(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("access_token") != f"{self.app_id}|{self.app_secret}":
            raise GraphError(190, "Invalid OAuth access token signature.", subcode=467)
        token = self.tokens.get(params.get("input_token", ""))
        if token is None:
            return {
                "data": {
                    "is_valid": False,
                    "error": {"code": 190, "subcode": 467, "message": "Invalid OAuth access token."},
                    "scopes": [],
                }
            }
        state = self._state_of(token)
        if token.page_id:
            targets: list[str] = [token.page_id]
        else:
            targets = list(token.granted_pages)
        data: dict[str, Any] = {
            "app_id": token.app_id,
            "type": "PAGE" if token.page_id else "USER",
            "application": "Tambon PR Hub",
            "data_access_expires_at": int(self.now()) + 90 * 86400,
            "expires_at": token.expires_at,
            "is_valid": state == "valid",
            "issued_at": int(self.now()) - 86400,
            "scopes": list(token.scopes),
            "user_id": token.user_id or "1",
            "granular_scopes": [
                {"scope": s, "target_ids": targets} if s.startswith("pages_") and targets else {"scope": s}
                for s in token.scopes
            ],
        }
        if token.page_id:
            data["profile_id"] = token.page_id
        if state != "valid":
            subcode, message = TOKEN_ERRORS[state]
            data["error"] = {"code": 190, "subcode": subcode, "message": message.format(app_id=self.app_id)}
        return {"data": data}

    # -- Facebook Login ------------------------------------------------------------------------------------
    def _dialog(self, method: str, version: str, path: str, query: dict[str, str],
                form: dict[str, str]) -> web.StreamResponse:
        """The Login dialog (``dialog/oauth``) and the consent form it posts (``dialog/oauth/decide``)."""
        params = {**query, **form}
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.app_id:
            return _html_page("Invalid App ID", "The provided app ID does not look like a valid app ID.", 400)
        if not re.match(r"^https?://", redirect_uri) or (
                self.allowed_redirect_uris and redirect_uri not in self.allowed_redirect_uris):
            return _html_page("URL blocked", "This redirect failed because the redirect URI is not whitelisted "
                              "in the app's Client OAuth Settings.", 400)
        user = self.users.get(self.dialog_user or "")
        if user is None:
            return _html_page("Log in to Facebook", "Nobody is signed in to this fake Facebook (login_as).", 401)
        requested = [s for s in re.split(r"[,\s]+", params.get("scope", "")) if s] or ["public_profile"]
        if method == "GET" and path == "dialog/oauth":
            return _consent_page(version, params, user, requested, self.pages)
        if method != "POST" or path != "dialog/oauth/decide":
            return _html_page("Not found", "Unknown dialog.", 404)
        state = params.get("state", "")
        if params.get("decision") != "allow":
            return _redirect(redirect_uri, {"error_reason": "user_denied", "error": "access_denied",
                                            "error_description": "Permissions error.", "state": state})
        chosen_scopes = set((form.get("__grant_scope__") or form.get("grant_scope", "")).split(",")) - {""}
        chosen_pages = set((form.get("__grant_page__") or form.get("grant_page", "")).split(",")) - {""}
        code = FakeCode(
            value=f"AQ{secrets.token_urlsafe(48)}",
            user_id=user.id,
            redirect_uri=redirect_uri,
            scopes=tuple(s for s in requested if s in chosen_scopes or s == "public_profile"),
            pages=tuple(p for p in user.pages if p in chosen_pages),
            created_at=self.now(),
        )
        self.codes[code.value] = code
        return _redirect(redirect_uri, {"code": code.value, "state": state})

    def _access_token(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("client_id") != self.app_id:
            raise GraphError(101, "Error validating application. Invalid application ID.")
        if params.get("client_secret") != self.app_secret:
            raise GraphError(1, "Error validating client secret.", status=400)
        if params.get("grant_type") == "fb_exchange_token":
            short = self.tokens.get(params.get("fb_exchange_token", ""))
            if short is None or short.page_id is not None:
                subcode, message = TOKEN_ERRORS["invalid"]
                raise GraphError(190, message, subcode=subcode)
            state = self._state_of(short)
            if state != "valid":
                subcode, message = TOKEN_ERRORS[state]
                raise GraphError(190, message.format(app_id=self.app_id), subcode=subcode)
            token = self._new_user_token(short.user_id or "1", short.scopes, short.granted_pages, long_lived=True)
            return {"access_token": token.value, "token_type": "bearer", "expires_in": LONG_LIVED_S}
        code = self.codes.get(params.get("code", ""))
        if code is None:
            raise GraphError(100, "Invalid verification code format.", subcode=36007)
        if code.used:
            raise GraphError(100, "This authorization code has been used.", subcode=36009)
        if self.now() - code.created_at > CODE_TTL_S:
            raise GraphError(100, "This authorization code has expired.", subcode=36007)
        if params.get("redirect_uri") != code.redirect_uri:
            raise GraphError(100, "Error validating verification code. Please make sure your redirect_uri is "
                             "identical to the one you used in the OAuth dialog request", subcode=36008)
        code.used = True
        token = self._new_user_token(code.user_id, code.scopes, code.pages, long_lived=False)
        return {"access_token": token.value, "token_type": "bearer", "expires_in": SHORT_LIVED_S}

    def _new_user_token(self, user_id: str, scopes: tuple[str, ...], pages: tuple[str, ...], *,
                        long_lived: bool) -> FakeToken:
        value = f"EAAFakeUser{secrets.token_hex(20)}"
        lifetime = LONG_LIVED_S if long_lived else SHORT_LIVED_S
        token = FakeToken(value, None, tuple(scopes), app_id=self.app_id, user_id=user_id,
                          expires_at=int(self.now()) + lifetime, granted_pages=tuple(pages), long_lived=long_lived)
        self.tokens[value] = token
        return token

    def _accounts(self, auth: FakeToken, params: dict[str, str]) -> dict[str, Any]:
        """``/me/accounts``: the granted Pages the user still manages, each with a Page token."""
        if "pages_show_list" not in auth.scopes:
            raise GraphError(200, "(#200) Requires pages_show_list permission to manage the object")
        user = self.users.get(auth.user_id or "")
        data = []
        for page_id in auth.granted_pages:
            if user is None or page_id not in user.pages:
                continue
            page = self.pages[page_id]
            key = (user.id, page_id, auth.long_lived)
            existing = self.tokens.get(self._page_tokens.get(key, ""))
            if existing is None or self._state_of(existing) != "valid" or existing.scopes != auth.scopes:
                value = f"EAAFakePage{page_id}{secrets.token_hex(16)}"
                existing = FakeToken(value, page_id, auth.scopes, app_id=self.app_id, user_id=user.id,
                                     expires_at=0 if auth.long_lived else auth.expires_at)
                self.tokens[value] = existing
                self._page_tokens[key] = value
            data.append({
                "access_token": existing.value,
                "category": "Government Organization",
                "category_list": [{"id": "2235", "name": "Government Organization"}],
                "name": page.name,
                "id": page.id,
                "tasks": list(user.pages[page_id]),
            })
        result: dict[str, Any] = {"data": data}
        if data:
            result["paging"] = {"cursors": {"before": "QVFIUmZAh", "after": "QVFIUmZAi"}}
        return result


# -- module helpers ---------------------------------------------------------------------------------------------


def _version_tuple(version: str) -> tuple[int, int]:
    match = VERSION_RE.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise GraphError(100, f"(#100) param since must be a unix time or ISO 8601, got {value!r}") from None


def _normal(message: str) -> str:
    return " ".join(message.split())


def _route(method: str, path: str) -> str:
    parts = path.split("/") if path else []
    if method == "GET" and parts == ["debug_token"]:
        return "debug_token"
    if parts == ["oauth", "access_token"]:
        return "oauth_access_token"
    if method == "GET" and len(parts) == 2 and parts[1] == "accounts":
        return "accounts"
    if method == "POST" and len(parts) == 2 and parts[1] in ("feed", "photos"):
        return parts[1]
    if method == "GET" and len(parts) == 2 and parts[1] in ("published_posts", "feed", "posts"):
        return "published_posts"
    if method == "POST" and len(parts) == 1:
        return "edit"
    if method == "DELETE":
        return "delete"
    return "get"


def _token_of(request: web.Request, query: dict[str, str], form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    for scheme in ("Bearer ", "OAuth "):
        if header.startswith(scheme):
            return header[len(scheme) :].strip(), "header"
    if "access_token" in form:
        return form["access_token"], "body"
    if "access_token" in query:
        return query["access_token"], "query"
    return None, None


async def _read_form(request: web.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            if getattr(part, "filename", None) is not None:
                files[part.name] = bytes(await part.read())  # type: ignore[union-attr]
            else:
                form[part.name] = await part.text()  # type: ignore[union-attr]
    elif content_type.startswith("application/x-www-form-urlencoded"):
        posted = await request.post()
        keys = [key for key, _ in posted.items()]
        if len(keys) != len(set(keys)):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            # e.g. attached_media=[...] as a Python list: repeated keys Graph does not understand
            form["__repeated__"] = ",".join(repeated)
            for key in repeated:  # every value, for forms that repeat a field on purpose (the Login dialog)
                form[f"__{key}__"] = ",".join(str(v) for v in posted.getall(key))
        form.update({k: str(posted.getone(k)) for k in set(keys)})
    elif content_type.startswith("application/json"):
        body = await request.json()
        if isinstance(body, dict):
            form.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return form, files


def _html_page(title: str, text: str, status: int) -> web.Response:
    body = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>" \
           f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    return web.Response(status=status, text=body, content_type="text/html")


def _redirect(uri: str, params: dict[str, str]) -> web.Response:
    joiner = "&" if "?" in uri else "?"
    return web.Response(status=302, headers={"Location": uri + joiner + urlencode(params)})


def _consent_page(version: str, params: dict[str, str], user: FakeUser, scopes: list[str],
                  pages: dict[str, FakePage]) -> web.Response:
    """What Facebook shows: who is signed in, the Pages to grant, the permissions, allow or cancel."""
    keep = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(params.get(k, ''))}'>"
                   for k in ("client_id", "redirect_uri", "state", "scope", "response_type"))
    page_boxes = "".join(
        f"<label><input type='checkbox' name='grant_page' value='{html.escape(p)}' checked> "
        f"{html.escape(pages[p].name)}</label><br>" for p in user.pages)
    scope_boxes = "".join(
        f"<label><input type='checkbox' name='grant_scope' value='{html.escape(s)}' checked> "
        f"{html.escape(s)}</label><br>" for s in scopes)
    body = (
        "<!doctype html><html lang='th'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Facebook</title></head>"
        f"<body><h1>Facebook (fake)</h1><p id='who'>ดำเนินการต่อในชื่อ {html.escape(user.name)}</p>"
        f"<form method='post' action='/{html.escape(version)}/dialog/oauth/decide'>{keep}"
        f"<fieldset><legend>เพจ</legend>{page_boxes or '<p>ไม่มีเพจ</p>'}</fieldset>"
        f"<fieldset><legend>สิทธิ์</legend>{scope_boxes}</fieldset>"
        "<button id='allow' name='decision' value='allow'>ดำเนินการต่อ</button> "
        "<button id='deny' name='decision' value='deny'>ยกเลิก</button></form></body></html>"
    )
    return web.Response(status=200, text=body, content_type="text/html")


def _json(body: dict[str, Any], status: int, version: str, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {
        "facebook-api-version": version if VERSION_RE.match(version) else "v21.0",
        "x-fb-trace-id": secrets.token_urlsafe(8),
        "x-fb-request-id": secrets.token_urlsafe(8),
    }
    all_headers.update(headers or {})
    if status in (400, 401) and body.get("error", {}).get("code") == 190:
        all_headers["WWW-Authenticate"] = 'OAuth "Facebook Platform" "invalid_token" "token rejected"'
    return web.json_response(body, status=status, headers=all_headers)


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback fake of the Facebook Graph API (Pages).")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--page", action="append", default=[], help="a page id to create (repeatable)")
    args = parser.parse_args()

    def make(port: int) -> FakeFacebook:
        fake = FakeFacebook(port=port)
        for page_id in args.page:
            page = fake.add_page(page_id)
            print(f"page {page_id} token {page.token}", flush=True)
        return fake

    serve_forever(make, args.port, lambda s: f"fake Graph API on {s.graph_url} (app {s.app_id}|{s.app_secret})")


if __name__ == "__main__":
    main()
