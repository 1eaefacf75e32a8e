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
Routes: ``feed``, ``photos``, ``edit``, ``delete``, ``published_posts``, ``debug_token``, ``get``
or ``*``. ``python -m platform_fakes.facebook --port 8082`` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
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
}


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
    state: str = "valid"  # valid | expired | password_changed | role_removed
    app_id: str = "900000000000001"


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

    # -- URLs ---------------------------------------------------------------------------------------
    @property
    def graph_url(self) -> str:
        return self.origin

    base_url = graph_url

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
        """``expired`` (190/463), ``password_changed`` (190/460), ``role_removed`` (190/492), ``valid``."""
        self.tokens[token].state = state

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
        app.router.add_route("*", "/{version}/{path:.*}", self._handle)
        app.router.add_route("*", "/{path:.*}", self._unversioned)
        return app

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
        auth = self._authenticate(token)
        headers = self._count_call(auth)
        if method == "GET" and parts == ["me"]:
            if auth.page_id is None:
                return {"id": "1", "name": "ผู้ใช้"}, headers
            return {"id": auth.page_id, "name": self.pages[auth.page_id].name}, headers
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
        if found.state != "valid":
            subcode, message = TOKEN_ERRORS[found.state]
            raise GraphError(190, message, subcode=subcode)
        return found

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
        data: dict[str, Any] = {
            "app_id": token.app_id,
            "type": "PAGE" if token.page_id else "USER",
            "application": "Tambon PR Hub",
            "data_access_expires_at": int(self.now()) + 90 * 86400,
            "expires_at": 0,
            "is_valid": token.state == "valid",
            "issued_at": int(self.now()) - 86400,
            "scopes": list(token.scopes),
            "user_id": "1",
            "granular_scopes": [{"scope": s, "target_ids": [token.page_id]} for s in token.scopes if token.page_id],
        }
        if token.page_id:
            data["profile_id"] = token.page_id
        if token.state != "valid":
            subcode, message = TOKEN_ERRORS[token.state]
            data["error"] = {"code": 190, "subcode": subcode, "message": message}
        return {"data": data}


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
        form.update({k: str(posted.getone(k)) for k in set(keys)})
    elif content_type.startswith("application/json"):
        body = await request.json()
        if isinstance(body, dict):
            form.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return form, files


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
