"""LINE groups and an Official Account's friends through line-bot-sdk 3.x (``linebot.v3``, async).

Outlets (``OutletTarget.address``): a group id (``C…``, a push into the group) or ``friends``
(``friends`` or ``friends:<label>``: a broadcast to every friend of the OA). The channel access
token is the outlet's own (``--token-env``/``--token-file``, for another OA) or the hub's
(``HUB_LINE_CHANNEL_ACCESS_TOKEN``).

The post plan (``plan``): the plain rendering of the other platforms (title, Buddhist Era date,
body, attribution, receipt marker, hashtags) split at Thai word boundaries into text messages of
≤ 5,000 UTF-16 units, then one image message per photo pointing at the hub's public HTTPS media
URL (LINE fetches images; there is no upload), packed into requests of ≤ 5 message objects.

Exactly once: each request carries ``X-Line-Retry-Key``. The delivery's key (``target.retry_key``,
stored before the first attempt) is the first request's key; request *i* uses a UUID derived from
it, so every retry of the same delivery sends the same keys. A repeat that LINE already accepted
answers 409 with ``x-line-accepted-request-id``: that request counts as sent. Because of the key,
a 5xx, a timeout or a dropped connection is RETRYABLE (the retry cannot duplicate) — unless the key
is older than ``KEY_SAFE_AGE`` (LINE forgets keys after 24 h): then the outcome is AMBIGUOUS and a
person settles it.

Money: push and broadcast cost one message per recipient per request. Before sending, the cost is
estimated (group member count, or the OA's targeted reach) and compared with the month's quota
minus the reserve (``HUB_LINE_QUOTA_RESERVE_PERCENT``); a post that does not fit is refused whole
with code ``line_quota`` and ``retry_after`` up to the next quota month (Asia/Bangkok), so the
engine holds it visibly instead of dropping it or sending part of it. LINE's own 429 "monthly
limit" answer is classified the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    BroadcastRequest,
    Configuration,
    ImageMessage,
    PushMessageRequest,
    TextMessage,
)

from config.settings import Settings
from network_hub.clock import Clock, SystemClock
from network_hub.thai import BANGKOK, utf16_len
from publishers.base import CheckResult, ErrorClass, OutletTarget, Post, PublishError, PublishResult
from publishers.plan import PlannedCall, PostPlan
from publishers.render import render_plain, split_text

log = logging.getLogger(__name__)
T = TypeVar("T")

TEXT_LIMIT = 5000  # UTF-16 units per text message
OBJECTS_PER_REQUEST = 5
URL_LIMIT = 2000
KEY_SAFE_AGE = timedelta(hours=23)  # LINE keeps a retry key 24 h; an hour of margin for clocks and queues
QUOTA_HELD = "โควตาข้อความ LINE เดือนนี้ไม่พอ"
QUOTA_LINE_MESSAGE = "monthly limit"
FRIENDS = "friends"


def is_friends_address(address: str) -> bool:
    return address == FRIENDS or address.startswith(FRIENDS + ":")


def next_quota_month(now: datetime) -> datetime:
    """The start of the next calendar month in Asia/Bangkok (when LINE's quota starts again)."""
    local = now.astimezone(BANGKOK)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=BANGKOK)


def call_retry_key(base: str, index: int) -> str:
    """The retry key of request ``index`` of a post: the delivery's key itself for the first."""
    if index == 0:
        return base
    return str(uuid.uuid5(uuid.UUID(base), f"call-{index}"))


@dataclass(frozen=True)
class QuotaStatus:
    limited: bool
    limit: int
    used: int

    def room(self, reserve_percent: float) -> int | None:
        """Messages ordinary posts may still use this month (None: no limit)."""
        if not self.limited:
            return None
        return max(0, int(self.limit * (1 - reserve_percent / 100)) - self.used)


@dataclass(frozen=True)
class LineCheckResult(CheckResult):
    """A check that also read the Official Account's monthly quota (recorded for ``/metrics`` and the
    outlets page by ``network_hub.line.quota.record_check_quota``; the publisher keeps no state)."""

    quota: QuotaStatus | None = None
    account: str | None = None  # the OA bot's user id: outlets of one OA share one quota


class LinePublisher:
    platform = "line"

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.api_base = settings.line_api_base_url.rstrip("/")
        self.data_base = settings.line_data_api_base_url.rstrip("/")
        self.public_base = settings.public_base_url.rstrip("/")
        self.reserve_percent = settings.line_quota_reserve_percent
        self._timeout = aiohttp.ClientTimeout(
            total=read_timeout if read_timeout is not None else settings.http_timeout_s, sock_connect=connect_timeout
        )
        self._clients: dict[tuple[str, str], AsyncApiClient] = {}
        # One quota check and its sends at a time per Official Account in this process: two posts
        # checked concurrently would both see the same room and overspend the reserve. (LINE's own
        # 429 still stops the month's hard limit across processes.)
        self._quota_locks: dict[str, asyncio.Lock] = {}

    # -- plumbing ---------------------------------------------------------------------------------
    def _token(self, target: OutletTarget) -> str:
        token = target.token or self.settings.line_channel_access_token
        if not token:
            raise PublishError(
                ErrorClass.NEEDS_HUMAN,
                "no LINE channel access token: set HUB_LINE_CHANNEL_ACCESS_TOKEN, or give the outlet "
                "--token-env/--token-file for its own Official Account",
                code="no_token",
            )
        return token

    def _client(self, token: str, host: str) -> AsyncApiClient:
        key = (token, host)
        if key not in self._clients:
            self._clients[key] = AsyncApiClient(Configuration(host=host, access_token=token))
        return self._clients[key]

    def api(self, target: OutletTarget) -> AsyncMessagingApi:
        return AsyncMessagingApi(self._client(self._token(target), self.api_base))

    def blob(self, target: OutletTarget) -> AsyncMessagingApiBlob:
        return AsyncMessagingApiBlob(self._client(self._token(target), self.data_base))

    async def _call(self, make: Callable[[], Awaitable[T]], *, what: str, key_fresh: bool = True) -> T:
        try:
            return await make()
        except ApiException as exc:
            raise classify_api_error(exc, what=what, now=self.clock.now()) from None
        except aiohttp.ClientConnectorError as exc:
            raise PublishError(ErrorClass.RETRYABLE, f"LINE not reachable (not sent): {type(exc).__name__}",
                               code="connect_error") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            if key_fresh:
                raise PublishError(
                    ErrorClass.RETRYABLE,
                    f"no clear answer from LINE for {what} ({type(exc).__name__}); retried with the same "
                    "X-Line-Retry-Key, so it cannot be sent twice",
                    code="no_answer",
                ) from None
            raise PublishError(ErrorClass.AMBIGUOUS, f"no clear answer from LINE for {what} "
                               f"({type(exc).__name__}); it may have been sent", code="no_answer") from None
        except PublishError:
            raise
        except Exception as exc:  # the SDK's validation or JSON errors: never let a library error escape
            raise PublishError(ErrorClass.AMBIGUOUS if what in ("push", "broadcast") else ErrorClass.RETRYABLE,
                               f"unexpected {type(exc).__name__} from the LINE client during {what}",
                               code=type(exc).__name__) from None

    def media_url(self, sha256: str) -> str:
        return f"{self.public_base}/media/{quote(sha256[:2])}/{quote(sha256)}.jpg"

    def require_https_base(self) -> None:
        if urlsplit(self.public_base).scheme != "https":
            raise PublishError(
                ErrorClass.NEEDS_HUMAN,
                f"LINE fetches photos from the hub's public address, which must be HTTPS; HUB_PUBLIC_BASE_URL is "
                f"{self.public_base!r}. Set it to the hub's https:// address (docs/OUTLETS.md)",
                code="public_base_not_https",
            )

    # -- the post plan ---------------------------------------------------------------------------------
    def messages(self, post: Post, target: OutletTarget) -> list[dict[str, Any]]:
        """Every message object of the post, in order: text parts, then one image per photo."""
        text = render_plain(post, thai_digits=target.thai_digits)
        parts = [p.strip() for p in split_text(text, TEXT_LIMIT, TEXT_LIMIT)] if utf16_len(text) > TEXT_LIMIT \
            else [text]
        objects: list[dict[str, Any]] = [{"type": "text", "text": p} for p in parts if p]
        for photo in post.photos:
            url = self.media_url(photo.sha256)
            objects.append({"type": "image", "originalContentUrl": url, "previewImageUrl": url})
        return objects

    def plan(self, post: Post, target: OutletTarget) -> PostPlan:
        method = "broadcast" if is_friends_address(target.address) else "push"
        objects = self.messages(post, target)
        calls = []
        photo_no = 0
        for index, start in enumerate(range(0, len(objects), OBJECTS_PER_REQUEST)):
            chunk = objects[start:start + OBJECTS_PER_REQUEST]
            photos = []
            for obj in chunk:
                if obj["type"] == "image":
                    photos.append(photo_no)
                    photo_no += 1
            calls.append(PlannedCall(
                index=index, method=method, messages=1,
                text="\n\n".join(o["text"] for o in chunk if o["type"] == "text"),
                photo_indexes=tuple(photos),
            ))
        return PostPlan(platform=self.platform, calls=tuple(calls))

    def _requests(self, post: Post, target: OutletTarget) -> list[list[dict[str, Any]]]:
        objects = self.messages(post, target)
        return [objects[i:i + OBJECTS_PER_REQUEST] for i in range(0, len(objects), OBJECTS_PER_REQUEST)]

    # -- quota -------------------------------------------------------------------------------------------
    async def quota(self, target: OutletTarget) -> QuotaStatus:
        api = self.api(target)
        quota = await self._call(api.get_message_quota, what="quota")
        if quota.type != "limited":
            return QuotaStatus(False, 0, 0)
        used = await self._call(api.get_message_quota_consumption, what="quota consumption")
        return QuotaStatus(True, int(quota.value or 0), int(used.total_usage or 0))

    async def audience(self, target: OutletTarget) -> int:
        """Recipients of one request: the group's member count, or the OA's targeted reach."""
        api = self.api(target)
        if is_friends_address(target.address):
            day = (self.clock.now().astimezone(BANGKOK) - timedelta(days=1)).strftime("%Y%m%d")
            return await self._call(lambda: self._followers(target, day), what="friend count")
        count = await self._call(lambda: api.get_group_member_count(target.address), what="group member count")
        return int(count.count)

    async def _followers(self, target: OutletTarget, day: str) -> int:
        # The insight API: the SDK's insight client would need a third base URL; the call is one GET.
        client = self._client(self._token(target), self.api_base)
        response = await client.rest_client.request(
            "GET", f"{self.api_base}/v2/bot/insight/followers?date={day}",
            headers={"Authorization": f"Bearer {self._token(target)}"}, _request_timeout=self._timeout)
        data = json.loads(response.data or b"{}")
        if data.get("status") != "ready":
            raise PublishError(ErrorClass.RETRYABLE, f"LINE's friend count for {day} is not ready yet",
                               code="followers_not_ready", retry_after=3600)
        return int(data.get("targetedReaches") or max(0, int(data.get("followers", 0)) - int(data.get("blocks", 0))))

    async def _check_quota(self, target: OutletTarget, requests: int) -> None:
        status = await self.quota(target)
        if not status.limited and target.budget_left is None:
            return
        per_request = await self.audience(target)
        cost = per_request * requests
        if target.budget_left is not None and cost > target.budget_left:
            raise self._quota_error(
                f"this post costs {cost} LINE messages but the outlet's monthly budget has {target.budget_left} "
                "left (network-hub line budget)")
        room = status.room(self.reserve_percent)
        if room is not None and cost > room:
            raise self._quota_error(
                f"this post costs {cost} LINE messages ({requests} request(s) × {per_request} recipients) but "
                f"{room} are left this month for ordinary posts (quota {status.limit}, used {status.used}, "
                f"{self.reserve_percent:g}% kept in reserve)")

    def _quota_error(self, detail: str) -> PublishError:
        now = self.clock.now()
        wait = (next_quota_month(now) - now).total_seconds() + 60
        return PublishError(ErrorClass.RATE_LIMITED, f"{QUOTA_HELD}: {detail}; it waits for next month's quota",
                            code="line_quota", retry_after=wait)

    # -- publish ------------------------------------------------------------------------------------------
    async def publish(self, post: Post, target: OutletTarget, *, start_at: int = 0,
                      prior_external_ids: tuple[str, ...] | list[str] = ()) -> PublishResult:
        if post.photos:
            self.require_https_base()
        requests = self._requests(post, target)
        base_key = target.retry_key
        if base_key is None:
            base_key = str(uuid.uuid4())
            log.info("LINE outlet %s: no stored retry key (not sent by the engine); using a fresh one",
                     target.outlet_id)
        elif target.retry_key_created_at is not None and self.clock.now() - target.retry_key_created_at > KEY_SAFE_AGE:
            raise PublishError(
                ErrorClass.AMBIGUOUS,
                "the LINE retry key of this delivery is more than 23 hours old; LINE forgets keys after 24 h, "
                "so a retry could post twice: a person must look in the LINE chat and settle it",
                code="line_retry_key_expired",
            )
        api = self.api(target)
        posted: list[str] = list(prior_external_ids)
        async with self._quota_locks.setdefault(self._token(target), asyncio.Lock()):
            # Requests already accepted (an earlier attempt) answer 409 and cost nothing, so the
            # estimate counts the remaining ones only when resuming.
            await self._check_quota(target, len(requests) - start_at)
            for index in range(start_at, len(requests)):
                key = call_retry_key(base_key, index)
                try:
                    posted.extend(await self._send(api, target, requests[index], key))
                except PublishError as error:
                    error.completed_calls = index
                    raise
        return PublishResult(external_ids=posted, permalink=None)

    async def _send(self, api: AsyncMessagingApi, target: OutletTarget, objects: list[dict[str, Any]],
                    key: str) -> list[str]:
        messages = [TextMessage.from_dict(o) if o["type"] == "text" else ImageMessage.from_dict(o) for o in objects]
        try:
            if is_friends_address(target.address):
                response = await self._call(lambda: api.broadcast_with_http_info(
                    BroadcastRequest(messages=messages), x_line_retry_key=key, _request_timeout=self._timeout),
                    what="broadcast")
                return [f"request:{_header(response.headers, 'x-line-request-id') or key}"]
            result = await self._call(lambda: api.push_message(
                PushMessageRequest(to=target.address, messages=messages), x_line_retry_key=key,
                _request_timeout=self._timeout), what="push")
            return [m.id for m in (result.sent_messages or [])]
        except _AlreadyAccepted as accepted:
            return accepted.ids

    # -- check -------------------------------------------------------------------------------------------
    async def check(self, target: OutletTarget) -> CheckResult:
        try:
            self.require_https_base()
            api = self.api(target)
            info = await self._call(api.get_bot_info, what="bot info")
            if is_friends_address(target.address):
                reach = await self.audience(target)
                where = f"{reach} friends"
            else:
                summary = await self._call(lambda: api.get_group_summary(target.address), what="group summary")
                reach = await self.audience(target)
                where = f"group {summary.group_name} ({reach} members)"
            quota = await self.quota(target)
        except PublishError as error:
            verdict = {"no_token": "not_configured", "public_base_not_https": "public_base_not_https"}.get(
                str(error.code), "token_invalid" if error.code == 401 else
                "not_in_group" if error.code == 404 else "unreachable")
            return CheckResult(False, verdict, error.message)
        left = "no monthly limit" if not quota.limited else f"{quota.used}/{quota.limit} messages used this month"
        return LineCheckResult(True, "ok", f"LINE OA {info.display_name} may post to {where}; {left}; "
                                           f"one post costs about {reach} messages per request",
                               quota=quota, account=str(info.user_id or "") or None)

    async def find_post(self, target: OutletTarget, since: datetime, marker: str) -> PublishResult | None:
        raise PublishError(
            ErrorClass.AMBIGUOUS,
            "LINE has no API to read a chat's history: a person must look in the LINE chat and answer",
            code="no_history_api",
        )

    async def edit(self, external_ids: list[str], post: Post, target: OutletTarget) -> None:
        raise PublishError(ErrorClass.PERMANENT, "LINE messages cannot be edited once sent; send a correction",
                           code="unsupported")

    async def delete(self, external_ids: list[str], target: OutletTarget) -> None:
        raise PublishError(ErrorClass.PERMANENT, "LINE messages cannot be unsent by a bot; tell the group admin",
                           code="unsupported")

    async def push_text(self, target: OutletTarget, to: str, text: str, *, retry_key: str) -> list[str]:
        """One text push to a person (a notice); the key makes a repeat of the same notice a 409."""
        api = self.api(target)
        return await self._send(api, OutletTarget(target.outlet_id, "line", to, token=target.token),
                                [{"type": "text", "text": text[:TEXT_LIMIT]}], retry_key)

    async def download_content(self, target: OutletTarget, message_id: str) -> bytes:
        """A user's image from the data API (download at once: LINE deletes content later)."""
        blob = self.blob(target)
        data = await self._call(lambda: blob.get_message_content(message_id, _request_timeout=self._timeout),
                                what="content download")
        return bytes(data)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            try:
                await client.close()
            except Exception as exc:  # closing must never fail the caller
                log.debug("closing a LINE client: %s", type(exc).__name__)


class _AlreadyAccepted(PublishError):
    """409: this retry key's request was already accepted — the request counts as sent."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(ErrorClass.PERMANENT, "already accepted")
        self.ids = ids


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    for key, value in dict(headers).items():
        if key.lower() == name:
            return str(value)
    return None


def _body(exc: ApiException) -> dict[str, Any]:
    try:
        data = json.loads(exc.body) if exc.body else {}
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def classify_api_error(exc: ApiException, *, what: str, now: datetime) -> PublishError:
    """LINE's status codes (reference "Status codes") as the engine's error classes."""
    status = int(exc.status or 0)
    body = _body(exc)
    message = str(body.get("message") or exc.reason or "error")
    details = "; ".join(f"{d.get('property')}: {d.get('message')}" for d in body.get("details") or []
                        if isinstance(d, dict))
    detail = message + (f" ({details})" if details else "")
    request_id = _header(exc.headers, "x-line-request-id")
    if status == 409:
        accepted = _header(exc.headers, "x-line-accepted-request-id")
        ids = [str(m.get("id")) for m in body.get("sentMessages") or [] if isinstance(m, dict) and m.get("id")]
        return _AlreadyAccepted(ids or [f"request:{accepted or request_id or 'accepted'}"])
    if status == 429:
        if QUOTA_LINE_MESSAGE in message.lower():
            wait = (next_quota_month(now) - now).total_seconds() + 60
            return PublishError(ErrorClass.RATE_LIMITED, f"{QUOTA_HELD}: LINE answered '{message}'; it waits for "
                                "next month's quota", code="line_quota", retry_after=wait)
        wait = 60.0 if what == "broadcast" else 1.0
        return PublishError(ErrorClass.RATE_LIMITED, f"LINE rate limit on {what}: {message}", code=429,
                            retry_after=wait)
    if status == 401:
        return PublishError(ErrorClass.NEEDS_HUMAN, f"LINE rejected the channel access token: {message}; "
                            "issue a new long-lived token in the LINE Developers console", code=401)
    if status == 403:
        return PublishError(ErrorClass.NEEDS_HUMAN, f"LINE refused {what}: {message}", code=403)
    if status == 404:
        return PublishError(ErrorClass.NEEDS_HUMAN, f"LINE does not know this chat for {what}: {message}; is the "
                            "bot still in the group? (invite it again, then pick the group)", code=404)
    if status == 400 and "failed to send messages" in message.lower():
        return PublishError(ErrorClass.NEEDS_HUMAN, f"LINE could not send to this chat: {message}; the bot may "
                            "have left the group or group chats are off in the LINE console", code=400)
    if status >= 500:
        return PublishError(ErrorClass.RETRYABLE, f"LINE server error {status} on {what}: {message}",
                            code=status)
    return PublishError(ErrorClass.PERMANENT, f"LINE rejected {what}: {detail}", code=status)
