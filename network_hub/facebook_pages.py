"""Facebook Pages connected by signing in with Facebook (issue 13, part 3).

The flow is Facebook Login's manual flow for a server
(developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow and the Pages access
token guides):

1. ``start_login`` records a nonce bound to the member and to their browser session (a hash of the
   session's CSRF token) and ``GraphLogin.dialog_url`` sends the browser to
   ``{dialog}/{version}/dialog/oauth?client_id&redirect_uri&state&scope`` with the nonce inside a
   signed, ten-minute ``state``.
2. The callback (``claim_callback``) accepts the ``state`` once, for the same member and session;
   ``GraphLogin.exchange_code`` turns the code into a short-lived user token
   (``GET /oauth/access_token``), ``long_lived`` into a 60-day one
   (``grant_type=fb_exchange_token``). That token is kept encrypted on the sign-in row for 30
   minutes at most, while the admin picks Pages.
3. ``GraphLogin.accounts`` (``GET /me/accounts``) lists the Pages the user granted, each with a Page
   token; from a long-lived user token the Page token does not expire. ``connect_page`` creates or
   updates the area's Facebook outlet and stores that Page token encrypted with the vault
   (``facebook_pages``); ``reconnect_page`` renews an outlet's token.

Tokens die before they expire (password changed, app removed, role on the Page lost, permission
removed): ``check_page_token`` asks ``GET /debug_token`` (app token ``app_id|app_secret``) and
names the problem, so the outlets and status pages warn in Thai with a "เชื่อมต่อใหม่" button
before a post fails. Tokens never reach a page or a log line: every token and code is registered
with ``network_hub.logs.register_secret`` as soon as it is seen, and Graph calls go through the
URL-redacting log filter.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from network_hub import audit
from network_hub.areas import get_area
from network_hub.db.models import FacebookLogin, FacebookPage, Outlet
from network_hub.errors import Conflict, HubError, InvalidInput, NotFound
from network_hub.logs import register_secret
from network_hub.outlets import FACEBOOK_PAGE_RE, MIN_INTERVAL_S, get_outlet, outlet_to_dict
from network_hub.permissions import ROLES_FOR, ROOT_AREA, Action, Actor, require
from network_hub.states import OutletStatus, Platform
from network_hub.vault import Vault, VaultError
from publishers import redact
from publishers.base import CheckResult, ErrorClass, PublishError
from publishers.registry import set_stored_token_factory

log = logging.getLogger(__name__)

SCOPES = ("pages_show_list", "pages_manage_posts", "pages_read_engagement")
REQUIRED_SCOPES = ("pages_manage_posts", "pages_read_engagement")  # posting, and reading posts back
STATE_TTL = timedelta(minutes=10)
PICK_TTL = timedelta(minutes=30)
EXPIRING_WITHIN = timedelta(days=7)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
CALLBACK_PATH = "/outlets/facebook/callback"
_STATE_SALT = "tambon-pr-hub.facebook-login"

# Thai for each token verdict (what happened and what to do), shown on the outlets and status pages.
WARNING_TH: dict[str, str] = {
    "token_expired": "การเชื่อมต่อกับเพจนี้หมดอายุแล้ว",
    "password_changed": "ผู้ที่เชื่อมเพจนี้เปลี่ยนรหัสผ่าน Facebook (หรือ Facebook ให้ลงชื่อเข้าใหม่) การเชื่อมต่อเดิมจึงใช้ไม่ได้",
    "app_removed": "ผู้ที่เชื่อมเพจนี้ลบระบบข่าวออกจากการตั้งค่าบัญชี Facebook ของตน",
    "missing_permission": "สิทธิ์โพสต์ลงเพจถูกถอนออกจากการเชื่อมต่อนี้",
    "role_removed": "ผู้ที่เชื่อมเพจนี้ไม่ได้เป็นผู้ดูแลเพจแล้ว ให้ผู้ดูแลเพจคนปัจจุบันเป็นผู้เชื่อมต่อใหม่",
    "token_invalid": "Facebook ไม่รับการเชื่อมต่อของเพจนี้แล้ว",
    "wrong_page": "การเชื่อมต่อนี้เป็นของเพจอื่น",
    "not_page_token": "โทเคนที่ตั้งไว้ไม่ใช่โทเคนของเพจ",
    "token_expiring": "การเชื่อมต่อกับเพจนี้ใกล้หมดอายุ",
}
AFTER_WARNING_TH = ("ข่าวที่อนุมัติแล้วจะรอส่ง ไม่ตกหล่น — กรุณากด «เชื่อมต่อใหม่» แล้วลงชื่อเข้า Facebook "
                    "ด้วยบัญชีที่ดูแลเพจ")
PROBLEM_VERDICTS = frozenset(WARNING_TH) - {"token_expiring"}


class FacebookLoginError(HubError):
    """The sign-in could not go on (denied, bad or replayed state, Graph refused); nothing changed."""

    code = "facebook_login"


def _refused(english: str, thai: str) -> FacebookLoginError:
    return FacebookLoginError(english, thai)


def configured(settings: Settings) -> bool:
    return bool(settings.facebook_app_id.strip() and settings.facebook_app_secret.strip())


def redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


# -- the Graph API calls of the sign-in --------------------------------------------------------------
@dataclass(frozen=True)
class GraphPage:
    id: str
    name: str
    token: str
    tasks: tuple[str, ...]

    def __repr__(self) -> str:  # never print the token
        return f"GraphPage(id={self.id!r}, name={self.name!r}, tasks={self.tasks!r})"


class GraphCallError(Exception):
    def __init__(self, code: int | None, subcode: int | None, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code, self.subcode, self.message, self.status = code, subcode, message, status


class _CodeFilter(logging.Filter):
    """httpx logs the code exchange's URL: its ``code`` is a credential too (with the app secret)."""

    PATTERN = re.compile(r"(oauth/access_token\?[^\s\"']*?\bcode=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "oauth/access_token" in message:
            record.msg, record.args = self.PATTERN.sub(r"\1<redacted>", message), None
        return True


_CODE_FILTER = _CodeFilter()


class GraphLogin:
    """The few Graph calls of Facebook Login, synchronous (run them in a worker thread)."""

    def __init__(self, settings: Settings, *, timeout_s: float | None = None) -> None:
        redact.install()  # httpx logs request URLs: their credentials are masked
        httpx_log = logging.getLogger("httpx")
        if _CODE_FILTER not in httpx_log.filters:
            httpx_log.addFilter(_CODE_FILTER)
        self.settings = settings
        self.version = settings.facebook_graph_version
        self.graph_url = settings.facebook_graph_url.rstrip("/")
        self.dialog_base = settings.facebook_dialog_url.rstrip("/")
        self.app_id = settings.facebook_app_id.strip()
        self.app_secret = settings.facebook_app_secret.strip()
        register_secret(self.app_secret)
        self.timeout = httpx.Timeout(timeout_s or settings.http_timeout_s, connect=5.0)
        self._trust_env = (urlsplit(self.graph_url).hostname or "") not in LOOPBACK_HOSTS

    def dialog_url(self, state: str) -> str:
        query = urlencode({"client_id": self.app_id, "redirect_uri": redirect_uri(self.settings), "state": state,
                           "response_type": "code", "scope": ",".join(SCOPES)})
        return f"{self.dialog_base}/{self.version}/dialog/oauth?{query}"

    def _get(self, path: str, params: dict[str, str], *, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"OAuth {token}"} if token else {}
        try:
            with httpx.Client(timeout=self.timeout, trust_env=self._trust_env) as client:
                response = client.get(f"{self.graph_url}/{self.version}/{path}", params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise GraphCallError(None, None, f"Facebook not reachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            raise GraphCallError(None, None, f"Facebook answered HTTP {response.status_code} without JSON",
                                 response.status_code) from None
        if not isinstance(body, dict):
            raise GraphCallError(None, None, "Facebook answered something unexpected", response.status_code)
        error = body.get("error")
        if isinstance(error, dict):
            raise GraphCallError(error.get("code"), error.get("error_subcode"), str(error.get("message", "")),
                                 response.status_code)
        if response.status_code >= 400:
            raise GraphCallError(None, None, f"Facebook answered HTTP {response.status_code}", response.status_code)
        return body

    def _token_from(self, body: dict[str, Any]) -> str:
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise GraphCallError(None, None, "no access_token in Facebook's answer")
        register_secret(token)
        return token

    def exchange_code(self, code: str) -> str:
        """The short-lived user token for the dialog's ``code`` (single use, same redirect_uri)."""
        register_secret(code)
        return self._token_from(self._get("oauth/access_token", {
            "client_id": self.app_id, "redirect_uri": redirect_uri(self.settings),
            "client_secret": self.app_secret, "code": code}))

    def long_lived(self, user_token: str) -> str:
        """A long-lived (about 60 days) user token: Page tokens made from it do not expire."""
        return self._token_from(self._get("oauth/access_token", {
            "grant_type": "fb_exchange_token", "client_id": self.app_id, "client_secret": self.app_secret,
            "fb_exchange_token": user_token}))

    def me(self, user_token: str) -> dict[str, Any]:
        return self._get("me", {"fields": "id,name"}, token=user_token)

    def accounts(self, user_token: str) -> list[GraphPage]:
        """The Pages the user manages and granted (``/me/accounts``), with their Page tokens."""
        pages: list[GraphPage] = []
        body = self._get("me/accounts", {"fields": "id,name,access_token,tasks", "limit": "100"}, token=user_token)
        for row in body.get("data") or []:
            if not isinstance(row, dict) or not row.get("access_token") or not row.get("id"):
                continue
            register_secret(str(row["access_token"]))
            pages.append(GraphPage(str(row["id"]), str(row.get("name") or row["id"])[:200],
                                   str(row["access_token"]), tuple(str(t) for t in row.get("tasks") or ())))
        return pages

    def debug_token(self, token: str) -> dict[str, Any]:
        register_secret(token)
        body = self._get("debug_token", {"input_token": token, "access_token": f"{self.app_id}|{self.app_secret}"})
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def login_error_th(exc: GraphCallError) -> FacebookLoginError:
    """A Graph refusal during the sign-in, in Thai (the English keeps Facebook's own words)."""
    if exc.code is None:
        return _refused(f"Facebook sign-in failed: {exc.message}",
                        "ติดต่อ Facebook ไม่ได้ในขณะนี้ กรุณาลองใหม่อีกครั้ง (ยังไม่มีอะไรเปลี่ยนแปลง)")
    if exc.code == 100 and exc.subcode in (36007, 36008, 36009):
        return _refused(f"Facebook refused the sign-in code: {exc.message}",
                        "รหัสยืนยันจาก Facebook ใช้ไม่ได้หรือถูกใช้ไปแล้ว กรุณากด «เข้าสู่ระบบด้วย Facebook» ใหม่")
    if exc.code in (1, 101):
        return _refused(f"Facebook refused the hub's app id or secret: {exc.message}",
                        "Facebook ไม่รับรหัสแอปหรือรหัสลับของระบบ กรุณาให้ผู้ดูแลระบบตรวจ HUB_FACEBOOK_APP_ID "
                        "และ HUB_FACEBOOK_APP_SECRET")
    return _refused(f"Facebook refused the sign-in ({exc.code}/{exc.subcode}): {exc.message}",
                    "Facebook ไม่อนุญาตการเชื่อมต่อครั้งนี้ กรุณาลองใหม่อีกครั้ง")


# -- the sign-in's state: signed, bound to the member and session, used once ---------------------------
def session_hash(csrf_token: str) -> str:
    return hashlib.sha256(("facebook-login:" + csrf_token).encode()).hexdigest()


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.ensure_secret_key(), salt=_STATE_SALT)


def start_login(session: Session, settings: Settings, *, actor: Actor, csrf_token: str, now: datetime,
                outlet_id: int | None = None) -> str:
    """Record a sign-in and return the ``state`` to send to the Login dialog."""
    if not configured(settings):
        raise _refused("Facebook Login is not configured (HUB_FACEBOOK_APP_ID / HUB_FACEBOOK_APP_SECRET)",
                       "ระบบยังไม่ได้ตั้งค่าแอป Facebook (HUB_FACEBOOK_APP_ID และ HUB_FACEBOOK_APP_SECRET)")
    if outlet_id is not None:
        outlet = get_outlet(session, outlet_id)
        if outlet.platform != Platform.FACEBOOK.value:
            raise InvalidInput(f"outlet {outlet_id} is not a Facebook Page", "ช่องทางนี้ไม่ใช่เพจ Facebook")
        require(actor, Action.MANAGE_OUTLETS, outlet.area_code)
    else:
        require_any_area(actor)
    session.execute(delete(FacebookLogin).where(FacebookLogin.expires_at < now))
    nonce = secrets.token_urlsafe(24)
    session.add(FacebookLogin(id=nonce, member_id=actor.member_id, session_hash=session_hash(csrf_token),
                              outlet_id=outlet_id, state="started", created_at=now, expires_at=now + STATE_TTL))
    return _serializer(settings).dumps({"n": nonce})


def require_any_area(actor: Actor) -> None:
    """The actor may manage outlets somewhere (the area is checked again when a Page is picked)."""
    areas = actor.areas_with(ROLES_FOR[Action.MANAGE_OUTLETS])
    require(actor, Action.MANAGE_OUTLETS, areas[0] if areas else ROOT_AREA)  # refuses with the usual Thai reason


def claim_callback(session: Session, settings: Settings, state: str, *, actor: Actor, csrf_token: str,
                   now: datetime) -> FacebookLogin:
    """Accept the callback's ``state`` once, for the member and browser session that started it."""
    bad = _refused("the sign-in state is missing, forged, expired, used or from another session",
                   "ลิงก์ยืนยันจาก Facebook ไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้ว กรุณากด «เข้าสู่ระบบด้วย Facebook» ใหม่ "
                   "(ยังไม่มีอะไรเปลี่ยนแปลง)")
    try:
        data = _serializer(settings).loads(state or "", max_age=int(STATE_TTL.total_seconds()))
    except BadSignature:
        raise bad from None
    nonce = data.get("n") if isinstance(data, dict) else None
    if not isinstance(nonce, str):
        raise bad
    claimed = session.execute(
        update(FacebookLogin)
        .where(FacebookLogin.id == nonce, FacebookLogin.state == "started", FacebookLogin.member_id == actor.member_id,
               FacebookLogin.session_hash == session_hash(csrf_token), FacebookLogin.expires_at >= now)
        .values(state="returned", expires_at=now + PICK_TTL)
    ).rowcount
    if claimed != 1:
        raise bad
    login = session.get(FacebookLogin, nonce)
    assert login is not None
    session.refresh(login)
    return login


def keep_user_token(session: Session, vault: Vault, login_id: str, *, token: str, user: dict[str, Any]) -> None:
    login = session.get(FacebookLogin, login_id)
    if login is None:
        raise NotFound(f"sign-in {login_id[:6]}… is gone", "การเข้าสู่ระบบด้วย Facebook นี้หมดเวลาแล้ว กรุณาเริ่มใหม่")
    login.user_token_sealed = vault.encrypt(token)
    login.fb_user_id = str(user.get("id") or "")[:40]
    login.fb_user_name = str(user.get("name") or "")[:200]


def forget_login(session: Session, login_id: str) -> None:
    session.execute(delete(FacebookLogin).where(FacebookLogin.id == login_id))


def open_login(session: Session, login_id: str, *, actor: Actor, csrf_token: str, now: datetime) -> FacebookLogin:
    """A returned sign-in of this member and session whose Pages may still be picked."""
    login = session.get(FacebookLogin, login_id or "")
    if (login is None or login.state != "returned" or login.member_id != actor.member_id
            or login.session_hash != session_hash(csrf_token) or login.expires_at < now
            or not login.user_token_sealed):
        raise _refused("no open Facebook sign-in for this session",
                       "การเข้าสู่ระบบด้วย Facebook หมดเวลาแล้วหรือไม่ใช่ของท่าน กรุณากด «เข้าสู่ระบบด้วย Facebook» ใหม่")
    return login


# -- connecting Pages to outlets ------------------------------------------------------------------------
def _label(actor: Actor) -> str:
    return "cli" if actor.member_id == 0 else f"member:{actor.member_id}"


def _store(session: Session, vault: Vault, outlet: Outlet, page: GraphPage, login: FacebookLogin,
           scopes: list[str], actor: Actor, now: datetime) -> FacebookPage:
    row = session.scalar(select(FacebookPage).where(FacebookPage.outlet_id == outlet.id))
    if row is None:
        row = FacebookPage(outlet_id=outlet.id, connected_at=now)
        session.add(row)
    row.page_id, row.page_name = page.id, page.name
    row.token_sealed = vault.encrypt(page.token)
    row.scopes = sorted(scopes)
    row.fb_user_id, row.fb_user_name = login.fb_user_id or "", login.fb_user_name or ""
    row.connected_by = actor.member_id or None
    row.connected_at = row.connected_at or now
    row.updated_at = now
    return row


def connect_page(session: Session, vault: Vault, login: FacebookLogin, page: GraphPage, *, area_code: str,
                 scopes: list[str], actor: Actor, now: datetime) -> Outlet:
    """Make ``page`` the Facebook outlet of ``area_code`` (create it, or renew its token).

    A Page that is already an outlet of another area is refused (one outlet per Page: nothing is
    posted twice); an outlet of the same area that used a token variable or file switches to the
    stored token.
    """
    area = get_area(session, area_code)
    require(actor, Action.MANAGE_OUTLETS, area.code)
    if not FACEBOOK_PAGE_RE.fullmatch(page.id):
        raise InvalidInput(f"Facebook Page id {page.id!r} is not numeric", "รหัสเพจ Facebook ไม่ถูกต้อง")
    existing = session.scalar(select(Outlet).where(Outlet.platform == Platform.FACEBOOK.value,
                                                   Outlet.address == page.id))
    if existing is not None and existing.area_code != area.code:
        raise Conflict(
            f"Facebook Page {page.id} is already outlet {existing.id} of area {existing.area_code}",
            f"เพจ «{page.name}» เชื่อมกับช่องทางหมายเลข {existing.id} ของพื้นที่อื่นอยู่แล้ว "
            "(หนึ่งเพจใช้ได้กับหนึ่งพื้นที่ เพื่อไม่ให้โพสต์ข่าวซ้ำ)")
    if existing is None:
        outlet = Outlet(platform=Platform.FACEBOOK.value, name=page.name[:200] or f"Facebook {page.id}",
                        area_code=area.code, address=page.id, token_env=None, token_file=None, categories=None,
                        thai_digits=False, status=OutletStatus.ACTIVE.value,
                        min_interval_s=MIN_INTERVAL_S[Platform.FACEBOOK], created_at=now, updated_at=now)
        session.add(outlet)
        session.flush()
        action, before = "outlet.added", None
    else:
        outlet = existing
        before = {"token_source": "env" if outlet.token_env else "file" if outlet.token_file else "facebook_login"}
        outlet.token_env = outlet.token_file = None
        outlet.updated_at = now
        action = "outlet.facebook_connected"
    _store(session, vault, outlet, page, login, scopes, actor, now)
    after = {k: v for k, v in outlet_to_dict(outlet).items() if not isinstance(v, datetime)}
    after["token_source"] = "facebook_login"
    audit.record(session, at=now, action=action, object_type="outlet", object_id=outlet.id,
                 actor_id=actor.member_id, actor_label=_label(actor), before=before, after=after)
    return outlet


def reconnect_page(session: Session, vault: Vault, login: FacebookLogin, pages: list[GraphPage], *,
                   scopes: list[str], actor: Actor, now: datetime) -> Outlet:
    """Renew the token of the outlet the sign-in was started for (its Page must be among ``pages``)."""
    if login.outlet_id is None:
        raise InvalidInput("this sign-in was not started for an outlet", "การเข้าสู่ระบบนี้ไม่ได้เริ่มจากปุ่มเชื่อมต่อใหม่")
    outlet = get_outlet(session, login.outlet_id)
    require(actor, Action.MANAGE_OUTLETS, outlet.area_code)
    page = next((p for p in pages if p.id == outlet.address), None)
    if page is None:
        raise _refused(
            f"the Facebook user did not grant Page {outlet.address} (outlet {outlet.id})",
            f"บัญชี Facebook ที่ลงชื่อเข้าไม่ได้ดูแลเพจ «{outlet.name}» หรือไม่ได้เลือกเพจนี้ตอนอนุญาต "
            "กรุณาลงชื่อเข้าด้วยบัญชีผู้ดูแลเพจและเลือกเพจนี้ (ยังไม่มีอะไรเปลี่ยนแปลง)")
    return connect_page(session, vault, login, page, area_code=outlet.area_code, scopes=scopes, actor=actor,
                        now=now)


def missing_scopes(granted: list[str]) -> list[str]:
    return [s for s in (*REQUIRED_SCOPES, "pages_show_list") if s not in granted]


def connections(session: Session) -> dict[int, FacebookPage]:
    return {row.outlet_id: row for row in session.scalars(select(FacebookPage))}


# -- reading a stored token ------------------------------------------------------------------------------
def page_token(session: Session, vault: Vault, outlet_id: int) -> str | None:
    sealed = session.scalar(select(FacebookPage.token_sealed).where(FacebookPage.outlet_id == outlet_id))
    if sealed is None:
        return None
    try:
        return vault.decrypt(sealed)
    except VaultError as exc:
        raise PublishError(ErrorClass.NEEDS_HUMAN, f"outlet {outlet_id}: {exc}", code="token_invalid") from None


class StoredPageTokens:
    """The publishers' stored token source on the hub's own sessions (web, outlet checks, tests)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._vault: Vault | None = None

    def page_token(self, outlet_id: int) -> str | None:
        if self._vault is None:
            self._vault = Vault.from_settings(self._settings)
        try:
            with self._sessions() as session, session.begin():
                return page_token(session, self._vault, outlet_id)
        except (ProgrammingError, OperationalError) as exc:
            if isinstance(exc, ProgrammingError) or "no such table" in str(exc):
                return None  # a database without the hub's tables (not initialised): nothing stored there
            raise PublishError(ErrorClass.RETRYABLE, f"outlet {outlet_id}: the stored Page token could not be read "
                               f"({type(exc).__name__}); will try again", code="database") from None
        except SQLAlchemyError as exc:
            raise PublishError(ErrorClass.RETRYABLE, f"outlet {outlet_id}: the stored Page token could not be read "
                               f"({type(exc).__name__}); will try again", code="database") from None


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine_for(url: str) -> Engine:
    from network_hub.db.engine import make_engine

    with _engines_lock:
        if url not in _engines:
            _engines[url] = make_engine(url, pool_size=2)
        return _engines[url]


class SettingsPageTokens(StoredPageTokens):
    """The source a ``Publishers(settings)`` gets: the database the settings name (engine made on
    first use and shared per URL), for processes whose dispatcher only knows outlet ids."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.resolved_database_url
        super().__init__(sessionmaker(expire_on_commit=False), settings)
        self._bound = False

    def page_token(self, outlet_id: int) -> str | None:
        if self._url.startswith("sqlite:///"):
            from pathlib import Path

            if not Path(self._url.removeprefix("sqlite:///")).exists():
                return None  # no database: nothing can be stored there
        if not self._bound:
            self._sessions.configure(bind=_engine_for(self._url))
            self._bound = True
        return super().page_token(outlet_id)


set_stored_token_factory(SettingsPageTokens)


# -- token health -----------------------------------------------------------------------------------------
def classify_debug(data: dict[str, Any], page_id: str, now: datetime) -> CheckResult:
    """``debug_token``'s answer about a Page token → a check verdict (see WARNING_TH)."""
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    subcode = error.get("subcode") if error else None
    reason = (error or {}).get("message") or "the token is not valid"
    if not data.get("is_valid"):
        verdict = {463: "token_expired", 460: "password_changed", 458: "app_removed", 492: "role_removed",
                   459: "password_changed", 464: "token_invalid"}.get(subcode or 0, "token_invalid")
        expires = data.get("expires_at") or 0
        if verdict == "token_invalid" and expires and datetime.fromtimestamp(expires, UTC) <= now:
            verdict = "token_expired"
        return CheckResult(False, verdict, f"debug_token: {reason} (subcode {subcode})")
    if data.get("type") != "PAGE":
        return CheckResult(False, "not_page_token", f"this is a {data.get('type', 'non-Page')} token, not a Page token")
    if str(data.get("profile_id", page_id)) != page_id:
        return CheckResult(False, "wrong_page", f"the token belongs to Page {data.get('profile_id')}, not {page_id}")
    scopes = [str(s) for s in data.get("scopes") or []]
    lacking = [s for s in REQUIRED_SCOPES if s not in scopes]
    if lacking:
        return CheckResult(False, "missing_permission", f"the token lacks {', '.join(lacking)}")
    for grant in data.get("granular_scopes") or []:
        if isinstance(grant, dict) and grant.get("scope") == "pages_manage_posts" and grant.get("target_ids") \
                and page_id not in [str(t) for t in grant["target_ids"]]:
            return CheckResult(False, "role_removed", f"pages_manage_posts no longer covers Page {page_id}")
    expires = data.get("expires_at") or 0
    if expires:
        when = datetime.fromtimestamp(expires, UTC)
        if when <= now:
            return CheckResult(False, "token_expired", f"the token expired {when:%Y-%m-%d}")
        if when - now <= EXPIRING_WITHIN:
            return CheckResult(True, "token_expiring", f"the token expires {when:%Y-%m-%d}; reconnect before then")
        return CheckResult(True, "ok", f"valid Page token for {page_id} (expires {when:%Y-%m-%d})")
    return CheckResult(True, "ok", f"valid Page token for {page_id} with {', '.join(REQUIRED_SCOPES)} (never expires)")


def check_page_token(settings: Settings, token: str, page_id: str, now: datetime) -> CheckResult:
    """Ask ``debug_token`` about a Page token (blocking: run in a thread)."""
    try:
        data = GraphLogin(settings).debug_token(token)
    except GraphCallError as exc:
        if exc.code == 190:
            return CheckResult(False, "token_invalid", f"Facebook refused the app token: {exc.message}")
        if exc.code is None:
            return CheckResult(False, "unreachable", exc.message)
        return CheckResult(False, "error", f"debug_token failed ({exc.code}): {exc.message}")
    return classify_debug(data, page_id, now)


def warning_th(verdict: str | None) -> str:
    return WARNING_TH.get(verdict or "", "")
