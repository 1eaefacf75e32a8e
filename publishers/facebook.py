"""Facebook Pages through facebook-sdk 3.1.0 (``facebook.GraphAPI``), wrapped.

What the wrapper owns (the library does none of it):
- the Graph API version: set on the instance after construction from
  ``HUB_FACEBOOK_GRAPH_VERSION`` (the constructor's own check stops at 3.1 and defaults to the
  long-expired v2.8);
- the base URL: a requests transport adapter rewrites ``https://graph.facebook.com`` to
  ``HUB_FACEBOOK_GRAPH_URL`` when it differs, per session (no process-global patching);
- explicit (connect, read) timeouts, longer for photo uploads; proxies ignored for loopback;
- credentials: the Page token travels in the ``Authorization`` header, never in a URL; the one
  call that must put a token in its query string (``debug_token``) is redacted from logs;
- lowercase booleans and ``attached_media[i]`` JSON objects built by hand;
- error classification exactly as the reference table (shared/reference/facebook.md §2.3), with
  no ``GraphAPIError``, ``requests`` exception, ``KeyError`` or JSON error escaping.

Posting: text/link → ``POST /{page}/feed``; photos → each uploaded unpublished (safe to repeat:
orphans expire in 24 h), then one feed post with ``attached_media`` — the only non-idempotent
step. Its unclear outcomes are AMBIGUOUS and are reconciled with ``find_post`` (the marker
``รหัสข่าว <receipt>`` is in every message). A 506 "duplicate" answer is checked the same way:
if the post is there, it was already posted and the existing post is returned.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import facebook
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from config.settings import Settings
from publishers import redact
from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PublishError, PublishResult
from publishers.plan import PostPlan
from publishers.render import marker, plan_facebook

log = logging.getLogger(__name__)

DEFAULT_GRAPH = facebook.FACEBOOK_GRAPH_URL.rstrip("/")  # https://graph.facebook.com
RATE_LIMIT_CODES = {4, 17, 32, 341, 613, *range(80000, 80015)}
NEEDS_HUMAN_CODES = {190, 102, 10, 3, 283, 368, 12, *range(200, 300)}
RETRYABLE_CODES = {1, 2}
DEFAULT_RATE_WAIT_S = 15 * 60
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
FIND_POST_PAGES = 10  # × 100 posts: far more than a page publishes between an attempt and its check


class GraphRedirectAdapter(HTTPAdapter):
    """Sends requests for graph.facebook.com to another origin (a fake, a staging proxy)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        super().__init__(max_retries=0)  # never retry a POST at the transport: idempotency is ours

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.url:
            request.url = request.url.replace(DEFAULT_GRAPH, self.base_url, 1)
        return super().send(request, **kwargs)


@dataclass
class _Call:
    """One short-lived GraphAPI + session; remembers the last HTTP response the SDK discards."""

    graph: facebook.GraphAPI
    session: requests.Session
    token: str | None
    app_secret: str
    last_status: int | None = None
    last_headers: dict[str, str] = field(default_factory=dict)

    def remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_status = response.status_code
        self.last_headers = {k.lower(): v for k, v in response.headers.items()}

    def proof(self) -> dict[str, str]:
        if not (self.app_secret and self.token):
            return {}
        digest = hmac.new(self.app_secret.encode(), self.token.encode(), hashlib.sha256).hexdigest()
        return {"appsecret_proof": digest}


class _Progress:
    """Plan calls finished by one ``publish`` invocation (written by its worker thread)."""

    def __init__(self) -> None:
        self.done = 0


def _graph_error_fields(exc: facebook.GraphAPIError) -> dict[str, Any]:
    result = getattr(exc, "result", None)
    if isinstance(result, dict) and isinstance(result.get("error"), dict):
        return result["error"]
    return {}


def _connect_level(exc: requests.RequestException) -> bool:
    """True when the request surely never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(
            current,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ConnectTimeoutError
            | urllib3.exceptions.NameResolutionError,
        ):
            return True
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            pending.append(current.reason)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        if current.__context__ is not None:
            pending.append(current.__context__)
    return False


def _rate_wait_seconds(headers: dict[str, str], page_id: str | None) -> float:
    """The longest ``estimated_time_to_regain_access`` (minutes) in the usage headers, in seconds."""
    minutes = 0.0
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except json.JSONDecodeError:
            continue
        entries: list[Any] = []
        if isinstance(usage, dict):
            for key, value in usage.items():
                if isinstance(value, list) and (page_id is None or key in (page_id, "0") or len(usage) == 1):
                    entries.extend(value)
                elif key == "estimated_time_to_regain_access":
                    entries.append(usage)
        for entry in entries:
            if isinstance(entry, dict):
                try:
                    minutes = max(minutes, float(entry.get("estimated_time_to_regain_access") or 0))
                except (TypeError, ValueError):
                    continue
    return minutes * 60 if minutes > 0 else DEFAULT_RATE_WAIT_S


def classify_graph_error(
    error: dict[str, Any], *, status: int | None, headers: dict[str, str], page_id: str | None
) -> PublishError:
    """The reference table: rate limits, needs-human, transient, permanent (in that order)."""
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "Graph API error")
    user_message = error.get("error_user_msg")
    trace = error.get("fbtrace_id")
    detail = message + (f" — {user_message}" if user_message else "") + (f" (fbtrace_id {trace})" if trace else "")
    code_label = f"{code}/{subcode}" if subcode is not None else code
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    if number in RATE_LIMIT_CODES:
        wait = _rate_wait_seconds(headers, page_id)
        return PublishError(
            ErrorClass.RATE_LIMITED, f"Facebook throttled this Page: {detail}", code=code_label, retry_after=wait
        )
    if number in NEEDS_HUMAN_CODES:
        if number == 12:
            hint = "; set HUB_FACEBOOK_GRAPH_VERSION to a current version (e.g. v25.0)"
        elif number == 368:
            hint = "; Facebook blocked the content for a policy reason: review the post"
        else:
            hint = "; reconnect the Page: a new long-lived Page token with pages_manage_posts (docs/OUTLETS.md)"
        return PublishError(ErrorClass.NEEDS_HUMAN, f"Facebook: {detail}{hint}", code=code_label)
    if number in RETRYABLE_CODES or error.get("is_transient") is True:
        return PublishError(ErrorClass.RETRYABLE, f"Facebook temporary error: {detail}", code=code_label)
    return PublishError(ErrorClass.PERMANENT, f"Facebook rejected the request: {detail}", code=code_label)


class FacebookPublisher:
    platform = "facebook"

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float | None = None,
        upload_read_timeout: float = 120.0,
    ) -> None:
        redact.install()
        self.version = settings.facebook_graph_version
        self.graph_url = settings.facebook_graph_url.rstrip("/")
        self.app_id = settings.facebook_app_id
        self.app_secret = settings.facebook_app_secret
        self.timeout = (connect_timeout, read_timeout if read_timeout is not None else settings.http_timeout_s)
        self.upload_timeout = (connect_timeout, max(upload_read_timeout, self.timeout[1]))
        self._trust_env = (urlsplit(self.graph_url).hostname or "") not in LOOPBACK_HOSTS

    # -- plumbing -----------------------------------------------------------------------------------------
    def _open(self, token: str | None) -> _Call:
        session = requests.Session()
        session.trust_env = self._trust_env
        if self.graph_url != DEFAULT_GRAPH:
            session.mount(DEFAULT_GRAPH + "/", GraphRedirectAdapter(self.graph_url))
        if token:
            session.headers["Authorization"] = f"OAuth {token}"  # never in a URL
        graph = facebook.GraphAPI(access_token=None, timeout=self.timeout, session=session)
        graph.version = self.version  # after construction: the constructor refuses anything above 3.1
        call = _Call(graph, session, token, self.app_secret)
        session.hooks["response"].append(call.remember)
        return call

    @staticmethod
    def _token(target: OutletTarget) -> str:
        if not target.token:
            raise PublishError(
                ErrorClass.NEEDS_HUMAN,
                f"no Page token for outlet {target.outlet_id}: set its token variable or file",
                code="no_token",
            )
        return target.token

    def _request(
        self,
        call: _Call,
        path: str,
        *,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        method: str | None = None,
        committing: bool,
        page_id: str | None,
    ) -> dict[str, Any]:
        """One Graph call; every failure becomes a PublishError.

        ``committing``: this request creates the post (non-idempotent); an unclear outcome after it
        was sent is AMBIGUOUS. Other requests are safe to repeat, so unclear outcomes are RETRYABLE.
        """
        unclear = ErrorClass.AMBIGUOUS if committing else ErrorClass.RETRYABLE
        call.last_status, call.last_headers = None, {}
        extra = call.proof()
        if post_args is not None:
            post_args = {**post_args, **extra}
        else:
            args = {**(args or {}), **extra}
        try:
            result = call.graph.request(
                f"{self.version}/{path}", args=args, post_args=post_args, files=files, method=method
            )
        except facebook.GraphAPIError as exc:
            fields = _graph_error_fields(exc)
            if fields:
                raise classify_graph_error(
                    fields, status=call.last_status, headers=call.last_headers, page_id=page_id
                ) from None
            raise self._non_json(call, unclear, "an answer that is not JSON") from None
        except KeyError:  # the SDK reads headers["content-type"] blindly
            raise self._non_json(call, unclear, "an answer without a Content-Type") from None
        except ValueError:  # malformed JSON (requests' JSONDecodeError)
            raise self._non_json(call, unclear, "malformed JSON") from None
        except requests.RequestException as exc:
            if _connect_level(exc):
                raise PublishError(
                    ErrorClass.RETRYABLE,
                    f"Facebook not reachable (not sent): {type(exc).__name__}",
                    code="connect_error",
                ) from None
            if isinstance(exc, requests.Timeout):
                raise PublishError(
                    unclear, "no answer from Facebook in time after the request was sent", code="timeout"
                ) from None
            raise PublishError(
                unclear, f"the connection to Facebook failed after sending: {type(exc).__name__}", code="network_error"
            ) from None
        if not isinstance(result, dict):
            raise self._non_json(call, unclear, "an unexpected answer")
        return result

    @staticmethod
    def _non_json(call: _Call, unclear: ErrorClass, what: str) -> PublishError:
        status = call.last_status
        if status is not None and 400 <= status < 500:
            return PublishError(ErrorClass.PERMANENT, f"Facebook answered HTTP {status} with {what}", code=status)
        label = f"HTTP {status}" if status is not None else "no status"
        return PublishError(
            unclear, f"Facebook answered {label} with {what} (an edge proxy error page?)", code=status or "bad_response"
        )

    async def _run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(func, *args, **kwargs)

    # -- publish ----------------------------------------------------------------------------------------------
    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        """Photo uploads (one call each), then the feed post with the whole text (no network)."""
        return plan_facebook(post, thai_digits=target.thai_digits)

    async def publish(
        self,
        post: Post,
        target: OutletTarget,
        *,
        start_at: int = 0,
        prior_external_ids: Sequence[str] = (),
    ) -> PublishResult:
        """Execute the plan: photo uploads (calls 0 … n-1), then the feed post (call n).

        A failure reports ``completed_calls`` = the plan calls this invocation finished (k photos
        uploaded before the call that failed: k; the feed post failing after all n uploads: n), so
        the engine refunds only the calls not made and resumes at the refused call. Nothing
        visible was posted before the feed post, so ``partial_external_ids`` stays empty (an
        unpublished upload is not a post: recording its id as posted would make a later refusal
        look half-posted). The uploads' media ids live only in this invocation, so a resume with
        ``0 < start_at ≤ n`` uploads every photo again (unpublished, never seen twice) and then
        posts once. ``start_at`` past the feed post means the post is already there: nothing is sent."""
        plan = self.plan(post, target)
        if start_at >= len(plan.calls):
            ids = [str(i) for i in prior_external_ids]
            return PublishResult(ids, f"https://www.facebook.com/{ids[0]}" if ids else None)
        token = self._token(target)
        if len(post.photos) > 10:
            raise PublishError(
                ErrorClass.PERMANENT, f"{len(post.photos)} photos: at most 10 per post", code="too_many_photos"
            )
        progress = _Progress()
        try:
            return await self._run(self._publish_sync, post, target, token, plan, progress)
        except PublishError as error:
            error.completed_calls = progress.done
            error.partial_external_ids = []
            if error.code != 506:
                raise
        # 506 "duplicate": the same text was posted last. If it carries our marker it is this post.
        found = await self.find_post(target, datetime.now(UTC) - timedelta(days=3), marker(post.receipt_no))
        if found is not None:
            log.info("Facebook said duplicate; the post is already on the Page: %s", found.external_ids)
            return found
        raise PublishError(ErrorClass.PERMANENT, "Facebook refused a duplicate of the Page's previous post", code=506,
                           completed_calls=progress.done)

    def _publish_sync(self, post: Post, target: OutletTarget, token: str, plan: PostPlan,
                      progress: _Progress | None = None) -> PublishResult:
        page_id = target.address
        call = self._open(token)
        progress = progress or _Progress()
        try:
            post_args: dict[str, Any] = {"message": plan.calls[-1].text}
            if post.link and not post.photos:
                post_args["link"] = post.link
            for index, media_id in enumerate(self._upload_photos(call, post, page_id, progress)):
                post_args[f"attached_media[{index}]"] = json.dumps({"media_fbid": media_id})
            result = self._request(call, f"{page_id}/feed", post_args=post_args, committing=True, page_id=page_id)
            post_id = result.get("id")
            if not isinstance(post_id, str) or not post_id:
                raise PublishError(ErrorClass.AMBIGUOUS, "Facebook answered without a post id", code="no_id")
            self._warn_on_version(call)
            return PublishResult(external_ids=[post_id], permalink=f"https://www.facebook.com/{post_id}")
        finally:
            call.session.close()

    def _upload_photos(self, call: _Call, post: Post, page_id: str, progress: _Progress) -> list[str]:
        media_ids: list[str] = []
        call.graph.timeout = self.upload_timeout
        try:
            for photo in post.photos:
                if photo.path is None:
                    raise PublishError(
                        ErrorClass.PERMANENT,
                        f"photo {photo.sha256[:12]} has no local file to upload to Facebook",
                        code="photo_missing",
                    )
                try:
                    data = photo.path.read_bytes()
                except OSError as exc:
                    raise PublishError(
                        ErrorClass.PERMANENT, f"cannot read photo {photo.path}: {exc.strerror}", code="photo_unreadable"
                    ) from None
                result = self._request(
                    call,
                    f"{page_id}/photos",
                    post_args={"published": "false"},
                    files={"source": (f"{photo.sha256[:16]}.jpg", data, "image/jpeg")},
                    committing=False,
                    page_id=page_id,
                )
                media_id = result.get("id")
                if not media_id:
                    raise PublishError(
                        ErrorClass.RETRYABLE, "Facebook answered a photo upload without an id", code="no_id"
                    )
                media_ids.append(str(media_id))
                progress.done += 1  # plan call ``index`` (this photo's upload) is done
        finally:
            call.graph.timeout = self.timeout
        return media_ids

    def _warn_on_version(self, call: _Call) -> None:
        served = call.last_headers.get("facebook-api-version")
        if served and served != self.version:
            log.warning("Graph API served %s although %s was requested: plan the upgrade", served, self.version)

    # -- edit / delete -------------------------------------------------------------------------------------------
    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None:
        token = self._token(target)
        message = self.plan(post, target).calls[-1].text

        def run() -> None:
            call = self._open(token)
            try:
                for post_id in external_ids:
                    self._request(
                        call, post_id, post_args={"message": message}, committing=False, page_id=target.address
                    )
            finally:
                call.session.close()

        await self._run(run)

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None:
        token = self._token(target)

        def run() -> None:
            call = self._open(token)
            try:
                for post_id in external_ids:
                    try:
                        self._request(call, post_id, method="DELETE", committing=False, page_id=target.address)
                    except PublishError as error:
                        if error.code == "100/33":
                            continue  # already gone: deleting is idempotent
                        raise
            finally:
                call.session.close()

        await self._run(run)

    # -- reconcile -------------------------------------------------------------------------------------------------
    async def find_post(self, target: OutletTarget, since: datetime, marker_text: str) -> PublishResult | None:
        token = self._token(target)

        def run() -> PublishResult | None:
            call = self._open(token)
            try:
                args: dict[str, Any] = {
                    "since": int(since.timestamp()) - 60,
                    "limit": 100,
                    "fields": "id,message,created_time,permalink_url",
                }
                for _ in range(FIND_POST_PAGES):
                    page = self._request(
                        call,
                        f"{target.address}/published_posts",
                        args=dict(args),
                        committing=False,
                        page_id=target.address,
                    )
                    for entry in page.get("data") or []:
                        if isinstance(entry, dict) and marker_text in str(entry.get("message") or ""):
                            post_id = str(entry.get("id"))
                            link = entry.get("permalink_url") or f"https://www.facebook.com/{post_id}"
                            return PublishResult(external_ids=[post_id], permalink=str(link))
                    paging = page.get("paging") or {}
                    after = (paging.get("cursors") or {}).get("after")
                    if not paging.get("next") or not after:
                        return None
                    args["after"] = after
                raise PublishError(
                    ErrorClass.AMBIGUOUS, "too many posts since the attempt to be sure", code="too_many_posts"
                )
            finally:
                call.session.close()

        return await self._run(run)

    # -- check ------------------------------------------------------------------------------------------------------
    async def check(self, target: OutletTarget) -> CheckResult:
        if not target.token:
            return CheckResult(
                False,
                "token_missing",
                f"no Page token for outlet {target.outlet_id}: put it in the variable or file the "
                "outlet names (docs/OUTLETS.md)",
            )
        return await self._run(self._check_sync, target, target.token)

    def _check_sync(self, target: OutletTarget, token: str) -> CheckResult:
        page_id = target.address
        if self.app_id and self.app_secret:
            call = self._open(None)
            try:
                data = (
                    self._request(
                        call,
                        "debug_token",
                        args={"input_token": token, "access_token": f"{self.app_id}|{self.app_secret}"},
                        committing=False,
                        page_id=page_id,
                    ).get("data")
                    or {}
                )
            except PublishError as error:
                return self._check_failure(error)
            finally:
                call.session.close()
            if not data.get("is_valid"):
                reason = (data.get("error") or {}).get("message") or "the token is not valid"
                return CheckResult(False, "token_invalid", f"{reason}: create a new long-lived Page token")
            if data.get("type") != "PAGE":
                return CheckResult(
                    False, "not_page_token", f"this is a {data.get('type', 'non-Page')} token; use the Page's own token"
                )
            if str(data.get("profile_id", page_id)) != page_id:
                return CheckResult(
                    False, "wrong_page", f"the token belongs to Page {data.get('profile_id')}, not {page_id}"
                )
            scopes = set(data.get("scopes") or [])
            if "pages_manage_posts" not in scopes:
                return CheckResult(
                    False, "missing_permission", "the token lacks pages_manage_posts: reconnect with that permission"
                )
            expires = data.get("expires_at") or 0
            when = "never expires" if not expires else f"expires {datetime.fromtimestamp(expires, UTC):%Y-%m-%d}"
            return CheckResult(True, "ok", f"valid Page token for {page_id} with pages_manage_posts ({when})")
        call = self._open(token)
        try:
            me = self._request(call, "me", args={"fields": "id,name"}, committing=False, page_id=page_id)
        except PublishError as error:
            return self._check_failure(error)
        finally:
            call.session.close()
        if str(me.get("id")) != page_id:
            return CheckResult(False, "wrong_page", f"the token belongs to {me.get('id')}, not Page {page_id}")
        return CheckResult(
            True,
            "ok",
            f"token works for Page {me.get('name') or page_id}; permissions not "
            "verified (set HUB_FACEBOOK_APP_ID and HUB_FACEBOOK_APP_SECRET)",
        )

    @staticmethod
    def _check_failure(error: PublishError) -> CheckResult:
        verdicts = {
            ErrorClass.NEEDS_HUMAN: "token_invalid",
            ErrorClass.RATE_LIMITED: "rate_limited",
            ErrorClass.RETRYABLE: "unreachable",
            ErrorClass.AMBIGUOUS: "unreachable",
            ErrorClass.PERMANENT: "error",
        }
        verdict = verdicts[error.error_class]
        if str(error.code).startswith("20") or error.code == 10:
            verdict = "missing_permission"
        elif error.code == 12:
            verdict = "version_unsupported"
        return CheckResult(False, verdict, error.message)

    async def aclose(self) -> None:
        return None  # sessions live for one operation each
