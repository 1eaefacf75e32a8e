"""Every route of the dashboard, walked as anonymous, reporter, moderator of another area, coordinator
and admin: the permission table, the CSRF refusal of every unsafe route, and the security headers.

Routes come from ``app.routes``, so a route added later is walked too. A route missing from
``ROUTE_TABLE`` gets the default expectation ("requires sign-in": an anonymous visitor is sent to
the sign-in page, nobody gets a 5xx) and a warning; when the default does not fit, the failure says
to add the route to ``ROUTE_TABLE`` below.

Roles: ``anonymous``; ``reporter`` (village 52010101, the author of the sample items);
``outsider`` (moderator of a Chiang Mai tambon: another area); ``coordinator`` (district 5201);
``admin`` (national).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from starlette.routing import Route

from jobs.heartbeat import beat
from network_hub.db.models import Delivery
from network_hub.newsroom.photos import PhotoInput
from network_hub.newsroom.submission import submit_item
from network_hub.permissions import load_actor, system_actor
from network_hub.roster.invites import create_invite
from network_hub.web.app import create_app
from network_hub.web.login_links import create_login_link
from tests.web.conftest import CSRF_RE, WebWorld, approve_and_dispatch, sign_in

ROLES = ("anonymous", "reporter", "outsider", "coordinator", "admin")
SIGNED_IN = ROLES[1:]
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OK = "ok"  # 2xx or a redirect that is not to the sign-in page
DENIED = "denied"  # 403 (or 404 where existence itself is private)
SIGN_IN = "sign_in"  # redirected to /login (or 401 for HTMX)
NOT_5XX = "not_5xx"  # anything but a server error (routes whose answer depends on configuration)


@dataclass(frozen=True)
class Expect:
    """What each role gets from a GET (unsafe routes: what a role gets *with* a valid CSRF token is
    only checked for the roles in ``refused_with_token``, since allowed ones would change data)."""

    get: dict[str, str] = field(default_factory=dict)
    refused_with_token: tuple[str, ...] = ()
    csrf_exempt: str = ""  # why an unsafe route takes no CSRF token (it must authenticate otherwise)
    public: bool = False  # public content: its own caching, no no-store needed


def _only(*allowed: str, anonymous: str = SIGN_IN) -> dict[str, str]:
    return {role: (anonymous if role == "anonymous" else OK if role in allowed else DENIED) for role in ROLES}


EVERYONE = {role: OK for role in ROLES}
ANY_MEMBER = _only(*SIGNED_IN)
STATS = _only("outsider", "coordinator", "admin")  # VIEW_STATS: moderators, coordinators, admins
MODERATORS = _only("outsider", "admin")
AUTHOR_AND_OVER = _only("reporter", "coordinator", "admin")  # the reporter's item in 52010101
ADMIN_ONLY = _only("admin")
NOT_ANON = ("reporter", "outsider", "coordinator")

# (method, path template) → expectation. Keep it in step with the routes (see the module docstring).
ROUTE_TABLE: dict[tuple[str, str], Expect] = {
    ("GET", "/"): Expect(get={role: OK for role in SIGNED_IN} | {"anonymous": SIGN_IN}),
    ("GET", "/login"): Expect(get=EVERYONE),
    ("POST", "/login"): Expect(),
    ("GET", "/login/link/{token}"): Expect(get=EVERYONE),
    ("POST", "/login/link/{token}"): Expect(),
    ("POST", "/logout"): Expect(),
    ("POST", "/lang"): Expect(),
    ("GET", "/calendar"): Expect(get=STATS | {"outsider": OK}),
    ("GET", "/deliveries"): Expect(get=MODERATORS),
    ("POST", "/deliveries/{delivery_id}/resolve"): Expect(refused_with_token=("reporter", "outsider", "coordinator")),
    ("POST", "/deliveries/{delivery_id}/retry"): Expect(refused_with_token=("reporter", "outsider", "coordinator")),
    ("GET", "/feeds/{area_code}.atom"): Expect(get=EVERYONE, public=True),
    ("GET", "/feeds/{area_code}.json"): Expect(get=EVERYONE, public=True),
    ("GET", "/news/{receipt_no}"): Expect(get=EVERYONE, public=True),
    ("GET", "/media/{path:path}"): Expect(get=EVERYONE, public=True),
    ("GET", "/news/{receipt_no}/line-share"): Expect(get=EVERYONE, public=True),  # a published item's share page
    ("GET", "/items"): Expect(get=ANY_MEMBER),
    ("GET", "/items/{item_id}"): Expect(get=AUTHOR_AND_OVER),
    ("GET", "/items/{item_id}/photos/{position}"): Expect(get=AUTHOR_AND_OVER),
    # Photo-check evidence (web/photo_checks.py): moderators of the item's area only; the admin's answer
    # depends on whether a check ran on the sample photo (OCR installed or not), so only "no 5xx".
    ("GET", "/items/{item_id}/photo-checks/{check_id}/{n}.jpg"): Expect(
        get=_only(anonymous=SIGN_IN) | {"admin": NOT_5XX}),
    ("POST", "/items/{item_id}/photos/{photo_id}/drop"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/items/{item_id}/photos/{photo_id}/redact"): Expect(refused_with_token=NOT_ANON),
    **{("POST", f"/items/{{item_id}}/{verb}"): Expect(refused_with_token=("reporter", "outsider", "coordinator"))
       for verb in ("approve", "reschedule", "unschedule", "reject", "return", "edit", "correct", "withdraw")},
    ("GET", "/outlets"): Expect(get=_only("outsider", "coordinator", "admin")),
    ("POST", "/outlets/{outlet_id}/pause"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/outlets/{outlet_id}/resume"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/outlets/{outlet_id}/check"): Expect(refused_with_token=NOT_ANON),
    ("GET", "/queue"): Expect(get=MODERATORS),
    ("GET", "/roster"): Expect(get=STATS),
    ("POST", "/roster/invites"): Expect(refused_with_token=("reporter",)),
    ("POST", "/roster/invites/{code}/revoke"): Expect(refused_with_token=("reporter", "outsider")),
    ("GET", "/roster/invites/{code}/qr.png"): Expect(get=_only("coordinator", "admin")),
    ("GET", "/roster.csv"): Expect(get=ADMIN_ONLY),
    ("GET", "/sandbox"): Expect(get=ANY_MEMBER),  # sandbox posts are what the public would have seen
    ("GET", "/stats"): Expect(get=STATS),
    ("GET", "/stats.csv"): Expect(get=STATS),
    ("GET", "/status"): Expect(get=STATS),
    ("GET", "/status.json"): Expect(get=STATS),
    ("GET", "/healthz"): Expect(get=EVERYONE, public=True),
    ("GET", "/metrics"): Expect(get={role: NOT_5XX for role in ROLES}, public=True),
    ("POST", "/line/webhook"): Expect(csrf_exempt="LINE signs the body (x-line-signature); no browser session"),
    # -- the office on the web (issue 13); member 1 is the seeded reporter of 52010101 ---------------
    ("GET", "/account/password"): Expect(get=ANY_MEMBER),
    ("POST", "/account/password"): Expect(),  # every member, for their own password (the current one asked)
    ("GET", "/areas/children"): Expect(get=ANY_MEMBER),
    ("GET", "/areas/search"): Expect(get=ANY_MEMBER),
    ("GET", "/areas/villages"): Expect(get=ADMIN_ONLY),
    ("POST", "/areas/villages"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/areas/moderation-chat"): Expect(refused_with_token=NOT_ANON),
    ("GET", "/outlets/new"): Expect(get=ADMIN_ONLY),
    ("POST", "/outlets/new"): Expect(refused_with_token=NOT_ANON),
    # Facebook Pages by signing in (web/facebook_connect.py): admins only; without an open sign-in the
    # callback and the Page list answer a Thai 400 (and /start goes back to the page without an app id).
    ("GET", "/outlets/facebook"): Expect(get=ADMIN_ONLY),
    ("GET", "/outlets/facebook/start"): Expect(get=ADMIN_ONLY),
    ("GET", "/outlets/facebook/callback"): Expect(get=_only(anonymous=SIGN_IN) | {"admin": NOT_5XX}),
    ("GET", "/outlets/facebook/pages"): Expect(get=_only(anonymous=SIGN_IN) | {"admin": NOT_5XX}),
    ("POST", "/outlets/facebook/pages"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/outlets/facebook/pages/done"): Expect(refused_with_token=NOT_ANON),
    ("GET", "/roster/import"): Expect(get=ADMIN_ONLY),
    ("POST", "/roster/import"): Expect(refused_with_token=NOT_ANON),
    ("POST", "/roster/import/confirm"): Expect(refused_with_token=NOT_ANON),
    ("GET", "/roster/members/new"): Expect(get=ADMIN_ONLY),
    ("POST", "/roster/members"): Expect(refused_with_token=NOT_ANON),
    ("GET", "/roster/members/{member_id}"): Expect(get=_only("coordinator", "admin")),  # may invite them
    # Coordinators may add/remove reporter and moderator grants in their area (Action.ASSIGN_ROLE), but
    # the matrix posts role=admin, which only an admin may give: so they are refused here too.
    **{("POST", f"/roster/members/{{member_id}}/{verb}"): Expect(refused_with_token=NOT_ANON)
       for verb in ("edit", "status", "forget", "grants", "grants/remove", "password", "merge")},
    ("POST", "/roster/members/{member_id}/invite"): Expect(refused_with_token=("reporter", "outsider")),
    ("GET", "/roster/sheet"): Expect(get=STATS),  # whoever may invite reporters somewhere
    ("POST", "/roster/sheet/invites"): Expect(refused_with_token=("reporter", "outsider")),
}
DEFAULT = Expect(get={"anonymous": SIGN_IN} | {role: NOT_5XX for role in SIGNED_IN})


@dataclass
class Matrix:
    app: FastAPI
    world: WebWorld
    params: dict[str, str]
    clients: dict[str, TestClient]
    tokens: dict[str, str]


def _jpeg() -> PhotoInput:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (90, 140, 60)).save(buffer, format="JPEG")
    return PhotoInput(buffer.getvalue(), "sample.jpg")


def _submit(world: WebWorld, body: str) -> int:
    with world.hub.transaction() as session:
        item = submit_item(session, actor=load_actor(session, world.people.reporter.id),
                           author_id=world.people.reporter.id, village_code="52010101", category="event",
                           body=body, title=None, photos=[_jpeg()], now=world.hub.clock.now(),
                           media_dir=world.hub.settings.resolved_media_dir)
        return item.id


@pytest.fixture
def matrix(world: WebWorld) -> Iterator[Matrix]:
    waiting = _submit(world, "ข่าวรออนุมัติเรื่องงานประจำปีของหมู่บ้านเวียงเหนือ")
    published = _submit(world, "ข่าวที่เผยแพร่แล้วเรื่องตลาดนัดของหมู่บ้านเวียงเหนือ")
    approve_and_dispatch(world, published)
    now = world.hub.clock.now()
    # Invite links and QR codes need a bot the links can open.
    world.hub.settings.telegram_bot_token = "123456:matrix-test-token"
    world.hub.settings.telegram_bot_username = "matrix_test_bot"
    with world.hub.transaction() as session:
        beat(session, "host:1:matrix", ["dispatcher", "scheduler", "web"], now)
        delivery_id = session.scalar(select(Delivery.id).where(Delivery.item_id == published))
        code = create_invite(session, role="reporter", area_code="52010101", expires_in=timedelta(days=7),
                             now=now, actor=system_actor()).code
        link = create_login_link(session, world.people.coordinator.id, now, settings=world.hub.settings)
    app = create_app(world.hub)
    clients = {role: TestClient(app, follow_redirects=False, raise_server_exceptions=False) for role in ROLES}
    for client in clients.values():
        client.__enter__()
    try:
        feed = clients["anonymous"].get("/feeds/520101.json").json()
        entry = feed["items"][0]
        receipt = entry["url"].rstrip("/").rsplit("/", 1)[-1]
        media = next(a["url"] for a in entry.get("attachments", []))
        media_path = media.split("/media/", 1)[1]
        params = {"item_id": str(waiting), "position": "0", "delivery_id": str(delivery_id),
                  "outlet_id": str(world.outlet_id), "code": code, "token": link.rsplit("/", 1)[-1],
                  "area_code": "520101", "receipt_no": receipt, "path": media_path}
        tokens = {}
        for role in SIGNED_IN:
            sign_in(clients[role], getattr(world.people, role).phone)
        for role in ROLES:
            page = clients[role].get("/login" if role == "anonymous" else "/items")
            match = CSRF_RE.search(page.text)
            assert match, f"no CSRF token for {role}"
            tokens[role] = match.group(1)
        yield Matrix(app=app, world=world, params=params, clients=clients, tokens=tokens)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, descending into included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, Route) and route.methods:
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                yield method, prefix + route.path
        elif hasattr(route, "original_router"):  # fastapi.routing._IncludedRouter
            context = getattr(route, "include_context", None)
            yield from _walk(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    found = sorted(set(_walk(app.routes)))
    assert len(found) >= 30, f"the walk found only {len(found)} routes; has FastAPI changed how it nests routers?"
    return found


PARAM = re.compile(r"{([a-zA-Z_]+)(?::[a-z]+)?}")


def _fill(template: str, params: dict[str, str]) -> str:
    return PARAM.sub(lambda m: params.get(m.group(1), "1"), template)


def _outcome(response: Any) -> str:
    code = response.status_code
    location = response.headers.get("location", "")
    if (code in (302, 303, 307) and location.startswith("/login")) or code == 401:
        return SIGN_IN
    if code in (403, 404):
        return DENIED
    if code >= 500:
        return "server_error"
    if 200 <= code < 400:
        return OK
    return f"status_{code}"


def _fits(expected: str, outcome: str) -> bool:
    if expected == NOT_5XX:
        return outcome != "server_error"
    return expected == outcome


def _hint(method: str, path: str) -> str:
    if (method, path) in ROUTE_TABLE:
        return "update its entry in ROUTE_TABLE (tests/security/test_route_matrix.py) if the change is intended"
    return ("this route has no entry in ROUTE_TABLE (tests/security/test_route_matrix.py), so it got the default "
            "'requires sign-in' expectation; add an entry saying who may use it")


def test_every_route_answers_each_role_as_the_table_says(matrix: Matrix) -> None:
    problems = []
    for method, path in _routes(matrix.app):
        if method != "GET":
            continue
        expect = ROUTE_TABLE.get((method, path), DEFAULT)
        url = _fill(path, matrix.params)
        for role in ROLES:
            expected = expect.get.get(role, NOT_5XX)
            outcome = _outcome(matrix.clients[role].get(url))
            if not _fits(expected, outcome):
                problems.append(f"GET {url} as {role}: expected {expected}, got {outcome} — {_hint(method, path)}")
    assert not problems, "\n".join(problems)


def test_every_unsafe_route_refuses_a_request_without_csrf_token(matrix: Matrix) -> None:
    problems = []
    unsafe = [(m, p) for m, p in _routes(matrix.app) if m in UNSAFE]
    assert len(unsafe) >= 20, "the walk found too few unsafe routes; is app.routes read correctly?"
    for method, path in unsafe:
        expect = ROUTE_TABLE.get((method, path), DEFAULT)
        url = _fill(path, matrix.params)
        for role in ROLES:
            response = matrix.clients[role].request(method, url, data={"version": "1", "reason": "x"})
            if expect.csrf_exempt:
                if 200 <= response.status_code < 300:
                    problems.append(f"{method} {url} as {role}: CSRF-exempt ({expect.csrf_exempt}) but accepted "
                                    f"an unauthenticated request ({response.status_code})")
                continue
            if response.status_code != 403:
                problems.append(f"{method} {url} as {role} without a CSRF token: {response.status_code} "
                                f"(expected the 403 CSRF refusal) — {_hint(method, path)}")
    assert not problems, "\n".join(problems)


def test_unsafe_routes_refuse_roles_without_the_permission_even_with_a_token(matrix: Matrix) -> None:
    problems = []
    for method, path in _routes(matrix.app):
        expect = ROUTE_TABLE.get((method, path))
        if method not in UNSAFE or expect is None:
            continue
        url = _fill(path, matrix.params)
        for role in expect.refused_with_token:
            # Valid-looking fields, so that only the permission can refuse.
            data = {"csrf_token": matrix.tokens[role], "version": "1", "reason": "ทดสอบ", "role": "admin",
                    "area": "52010101", "body": "ข้อความทดสอบสิทธิ์", "posted": "1",
                    "at": (matrix.world.hub.clock.now() + timedelta(days=2)).isoformat()}
            response = matrix.clients[role].request(method, url, data=data)
            if response.status_code not in (403, 404):
                problems.append(f"{method} {url} as {role} with a valid token: {response.status_code}, expected 403")
    assert not problems, "\n".join(problems)


def test_security_headers_on_every_page(matrix: Matrix) -> None:
    problems = []
    for method, path in _routes(matrix.app):
        if method != "GET":
            continue
        expect = ROUTE_TABLE.get((method, path), DEFAULT)
        url = _fill(path, matrix.params)
        for role in ("anonymous", "admin"):
            response = matrix.clients[role].get(url)
            headers = response.headers
            csp = headers.get("content-security-policy", "")
            if headers.get("x-content-type-options") != "nosniff":
                problems.append(f"{url} ({role}): no X-Content-Type-Options: nosniff")
            if "frame-ancestors 'none'" not in csp and headers.get("x-frame-options") != "DENY":
                problems.append(f"{url} ({role}): may be framed (no frame-ancestors / X-Frame-Options)")
            if "default-src" not in csp:
                problems.append(f"{url} ({role}): no Content-Security-Policy")
            if not headers.get("referrer-policy"):
                problems.append(f"{url} ({role}): no Referrer-Policy")
            if role == "admin" and not expect.public and 200 <= response.status_code < 300 \
                    and "no-store" not in headers.get("cache-control", ""):
                problems.append(f"{url} ({role}): a signed-in page without Cache-Control: no-store")
    assert not problems, "\n".join(problems)


def test_no_page_shows_a_secret(matrix: Matrix) -> None:
    """The bot token, the cookie key and the secrets key never appear in any answer, to anyone."""
    settings = matrix.world.hub.settings
    secrets = [settings.telegram_bot_token, settings.ensure_secret_key()]
    secrets_key = settings.data_dir / "secrets.key"
    if secrets_key.exists():
        secrets.append(secrets_key.read_text().strip())
    problems = []
    for method, path in _routes(matrix.app):
        if method != "GET":
            continue
        url = _fill(path, matrix.params)
        for role in ("anonymous", "admin"):
            body = matrix.clients[role].get(url).content
            problems += [f"{url} ({role}) shows a secret" for secret in secrets if secret and secret.encode() in body]
    assert not problems, "\n".join(problems)


def test_routes_missing_from_the_table_are_reported(matrix: Matrix) -> None:
    missing = [f"{m} {p}" for m, p in _routes(matrix.app) if (m, p) not in ROUTE_TABLE]
    if missing:
        warnings.warn("routes with default 'requires sign-in' expectations only; add them to ROUTE_TABLE in "
                      "tests/security/test_route_matrix.py: " + ", ".join(missing), stacklevel=1)
    stale = [f"{m} {p}" for m, p in ROUTE_TABLE if (m, p) not in set(_routes(matrix.app))]
    assert not stale or all(p.startswith("/line/") or p == "/metrics" for p in (s.split(" ", 1)[1] for s in stale)), (
        f"ROUTE_TABLE names routes the app no longer has: {stale}; remove them")
