"""A loopback fake of the LINE Messaging API (the subset the hub uses), for ``line-bot-sdk`` 3.x.

Written from the Messaging API reference (shared/reference/line_and_anchors.md §1b) and strict
where LINE is strict, so a client bug shows up here rather than on a live Official Account:

- **auth**: ``Authorization: Bearer <channel access token>``; anything else is 401;
- **send**: ``POST /v2/bot/message/{push,broadcast,reply}`` — 1 to 5 message objects, text
  non-empty and ≤ 5,000 UTF-16 units, images with ``originalContentUrl``/``previewImageUrl`` on
  ``https://`` (≤ 2,000 characters); 400 with LINE's ``details[]`` shape otherwise;
- **reply tokens**: issued with webhook events, single use, valid for one minute;
- **retry keys**: ``X-Line-Retry-Key`` (a UUID) on push/broadcast; a repeat within 24 h answers
  409 with ``x-line-accepted-request-id`` (and, for push, the ``sentMessages`` again) and sends
  nothing; after 24 h the key is forgotten (a repeat sends again, as on LINE); the key on reply
  is 400;
- **quota**: counted per recipient (a push to a group of N members costs N, a broadcast costs
  every friend who has not blocked the OA; replies are free); a send over the month's limit is 429
  "You have reached your monthly limit." and sends nothing; ``GET /v2/bot/message/quota`` and
  ``/quota/consumption``; the month is the calendar month in Asia/Bangkok on the fake's clock;
- **rate limits** (token bucket per channel and endpoint): broadcast 60 per hour, others
  2,000 per second; 429 "The API rate limit has been exceeded. Try again later.";
- **groups**: ``/v2/bot/group/{id}/summary`` and ``/members/count`` (404 when the bot is not in
  the group), friends and blocks, ``/v2/bot/insight/followers`` and ``/v2/bot/info``;
- **content**: ``GET /v2/bot/message/{id}/content`` only on the data API base
  (``data_base_url``; the same path on the API base is 404, like a client on the wrong host);
- **webhooks**: ``deliver(url, events)`` signs the raw body (``x-line-signature`` = Base64
  HMAC-SHA256 with the channel secret), can repeat a delivery (``isRedelivery``), and the event
  builders (``join_event``, ``text_event``, ``image_events`` …) issue reply tokens;
- **faults**: ``fail_next(route, status)`` (5xx or any error, nothing done), ``drop_next(route,
  commit=True)`` (the work is done, then the connection closes without an answer), ``latency``.

Routes for faults: ``push``, ``broadcast``, ``reply``, ``quota``, ``consumption``, ``group``,
``followers``, ``content``, ``info`` or ``*``. ``python -m platform_fakes.line --port 8083`` runs it
standalone with one channel.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from platform_fakes._server import Fault, FaultBook, LoopbackServer, drop_connection, serve_forever

BANGKOK = ZoneInfo("Asia/Bangkok")
MAX_MESSAGES = 5
MAX_TEXT_UTF16 = 5000
MAX_URL = 2000
RETRY_KEY_TTL_S = 24 * 3600
REPLY_TOKEN_TTL_S = 60
RATE_LIMITS = {"broadcast": (60, 3600.0)}  # endpoint → (requests, per seconds)
DEFAULT_RATE = (2000, 1.0)
RATE_MESSAGE = "The API rate limit has been exceeded. Try again later."
QUOTA_MESSAGE = "You have reached your monthly limit."


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Group:
    id: str
    name: str
    members: int
    bot_in: bool = True


@dataclass
class SentMessage:
    request_id: str
    kind: str  # push | broadcast | reply
    to: str  # user/group id; "*" for broadcast; the reply token's chat for reply
    messages: list[dict[str, Any]]
    recipients: int  # what it cost (0 for a reply)
    at: float
    retry_key: str | None = None
    message_ids: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages if m.get("type") == "text"]


@dataclass
class AcceptedKey:
    request_id: str
    at: float
    sent_messages: list[dict[str, str]]


@dataclass
class ReplyToken:
    token: str
    chat: str
    issued_at: float
    used: bool = False


@dataclass
class Channel:
    """One Official Account with its Messaging API channel."""

    channel_id: str
    token: str
    secret: str
    bot_user_id: str
    name: str = "ข่าวตำบล"
    quota: int | None = 300  # None: no limit (``type: none``)
    usage: dict[str, int] = field(default_factory=dict)  # "2026-12" → messages counted
    friends: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    groups: dict[str, Group] = field(default_factory=dict)
    accepted_keys: dict[str, AcceptedKey] = field(default_factory=dict)
    buckets: dict[str, list[float]] = field(default_factory=dict)

    @property
    def reach(self) -> int:
        return len(self.friends - self.blocked)


@dataclass
class LoggedRequest:
    method: str
    path: str
    route: str
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class WebhookDelivery:
    url: str
    body: bytes
    signature: str
    status: int | None
    error: str | None = None


class LineApiError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.details = details or []
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, **self.extra}
        if self.details:
            body["details"] = self.details
        return body


class FakeLine(LoopbackServer):
    def __init__(self, *, port: int = 0, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(port)
        self.channels: dict[str, Channel] = {}  # by token
        self.sent: list[SentMessage] = []
        self.requests_log: list[LoggedRequest] = []
        self.webhooks: list[WebhookDelivery] = []
        self.contents: dict[str, tuple[bytes, str]] = {}  # message id → (bytes, content type)
        self.reply_tokens: dict[str, ReplyToken] = {}
        self.faults = FaultBook()
        self._clock = clock
        self._ids = itertools.count(500_000_000_000_001)
        self._lock = threading.Lock()
        self.rate_limits_on = True

    # -- URLs ---------------------------------------------------------------------------------
    @property
    def api_base_url(self) -> str:
        return self.origin

    @property
    def data_base_url(self) -> str:
        return f"{self.origin}/data"

    # -- clock -------------------------------------------------------------------------------
    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Use the hub's injected clock (a FrozenClock's ``now``) so quota months agree."""
        self._clock = clock

    def now(self) -> float:
        return self._clock().timestamp() if self._clock else time.time()

    def month(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).astimezone(BANGKOK).strftime("%Y-%m")

    # -- set-up API for tests ------------------------------------------------------------------
    def add_channel(self, *, quota: int | None = 300, name: str = "ข่าวตำบล") -> Channel:
        channel = Channel(
            channel_id=str(2000000000 + len(self.channels) + 1),
            token=f"fakeLineToken{secrets.token_hex(20)}",
            secret=secrets.token_hex(16),
            bot_user_id="U" + secrets.token_hex(16),
            name=name,
            quota=quota,
        )
        self.channels[channel.token] = channel
        return channel

    def add_group(self, channel: Channel, *, members: int, name: str = "กลุ่มหมู่บ้าน",
                  group_id: str | None = None) -> Group:
        group = Group(group_id or "C" + secrets.token_hex(16), name, members)
        channel.groups[group.id] = group
        return group

    def add_friends(self, channel: Channel, count: int) -> list[str]:
        users = ["U" + secrets.token_hex(16) for _ in range(count)]
        channel.friends.update(users)
        return users

    def set_usage(self, channel: Channel, used: int) -> None:
        channel.usage[self.month()] = used

    def store_content(self, data: bytes, content_type: str = "image/jpeg") -> str:
        message_id = str(next(self._ids))
        self.contents[message_id] = (data, content_type)
        return message_id

    def fail_next(self, route: str = "*", *, status: int = 500, message: str = "Internal server error",
                  times: int = 1) -> None:
        """The next ``times`` calls of ``route`` answer ``status`` without doing anything."""
        self.faults.add(Fault(route, "error", times, status, {"message": message}))

    def drop_next(self, route: str = "*", *, times: int = 1, commit: bool = True) -> None:
        """Close the connection without an answer; with ``commit`` the send happens first."""
        self.faults.add(Fault(route, "commit_then_drop" if commit else "drop", times))

    def latency(self, seconds: float, *, routes: list[str] | None = None) -> None:
        """Answer ``seconds`` late, after doing the work (a client that times out leaves a send behind)."""
        self.faults.latency_s = seconds
        self.faults.latency_routes = {r.lower() for r in routes} if routes else None

    def reset_faults(self) -> None:
        self.faults.clear()

    # -- inspection API --------------------------------------------------------------------------
    def messages_to(self, to: str, kind: str | None = None) -> list[SentMessage]:
        return [m for m in self.sent if m.to == to and (kind is None or m.kind == kind)]

    def requests(self, route: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.requests_log if route is None or r.route == route]

    def usage(self, channel: Channel) -> int:
        return channel.usage.get(self.month(), 0)

    # -- webhook events (each with a webhookEventId; message/join/follow/postback carry a reply token)
    def _event_base(self, event_type: str, source: dict[str, str], *, reply: bool) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": event_type,
            "mode": "active",
            "timestamp": int(self.now() * 1000),
            "source": source,
            "webhookEventId": "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": False},
        }
        if reply:
            token = secrets.token_hex(16)
            chat = source.get("groupId") or source.get("userId", "")
            self.reply_tokens[token] = ReplyToken(token, chat, self.now())
            event["replyToken"] = token
        return event

    def join_event(self, group: Group) -> dict[str, Any]:
        group.bot_in = True
        return self._event_base("join", {"type": "group", "groupId": group.id}, reply=True)

    def leave_event(self, group: Group) -> dict[str, Any]:
        group.bot_in = False
        return self._event_base("leave", {"type": "group", "groupId": group.id}, reply=False)

    def members_event(self, group: Group, user_ids: list[str], *, joined: bool = True) -> dict[str, Any]:
        """People joined or left a group the bot is in (``memberJoined`` / ``memberLeft``)."""
        group.members += len(user_ids) if joined else -len(user_ids)
        event = self._event_base("memberJoined" if joined else "memberLeft", {"type": "group", "groupId": group.id},
                                 reply=joined)
        event["joined" if joined else "left"] = {"members": [{"type": "user", "userId": u} for u in user_ids]}
        return event

    def follow_event(self, channel: Channel, user_id: str) -> dict[str, Any]:
        channel.friends.add(user_id)
        channel.blocked.discard(user_id)
        event = self._event_base("follow", {"type": "user", "userId": user_id}, reply=True)
        event["follow"] = {"isUnblocked": False}
        return event

    def unfollow_event(self, channel: Channel, user_id: str) -> dict[str, Any]:
        channel.blocked.add(user_id)
        return self._event_base("unfollow", {"type": "user", "userId": user_id}, reply=False)

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        event = self._event_base("message", {"type": "user", "userId": user_id}, reply=True)
        event["message"] = {"type": "text", "id": str(next(self._ids)), "quoteToken": secrets.token_hex(8),
                            "text": text}
        return event

    def postback_event(self, user_id: str, data: str) -> dict[str, Any]:
        event = self._event_base("postback", {"type": "user", "userId": user_id}, reply=True)
        event["postback"] = {"data": data}
        return event

    def image_events(self, user_id: str, images: list[bytes]) -> list[dict[str, Any]]:
        """Several photos sent at once: one event each, grouped by an ``imageSet``."""
        set_id = secrets.token_hex(8)
        events = []
        for index, data in enumerate(images, start=1):
            event = self._event_base("message", {"type": "user", "userId": user_id}, reply=True)
            message: dict[str, Any] = {"type": "image", "id": self.store_content(data),
                                       "quoteToken": secrets.token_hex(8), "contentProvider": {"type": "line"}}
            if len(images) > 1:
                message["imageSet"] = {"id": set_id, "index": index, "total": len(images)}
            event["message"] = message
            events.append(event)
        return events

    @staticmethod
    def sign(secret: str, body: bytes) -> str:
        return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()

    async def deliver(self, url: str, channel: Channel, events: list[dict[str, Any]], *, repeat: int = 1,
                      signature: str | None = None) -> list[int | None]:
        """POST a signed webhook (``repeat`` times; repeats are marked ``isRedelivery``)."""
        statuses: list[int | None] = []
        async with aiohttp.ClientSession(trust_env=False) as session:
            for n in range(repeat):
                sent = [dict(e, deliveryContext={"isRedelivery": n > 0}) for e in events]
                body = json.dumps({"destination": channel.bot_user_id, "events": sent},
                                  ensure_ascii=False).encode()
                sig = signature if signature is not None else self.sign(channel.secret, body)
                try:
                    async with session.post(url, data=body, headers={
                        "Content-Type": "application/json; charset=utf-8", "x-line-signature": sig,
                        "User-Agent": "LineBotWebhook/2.0"}) as response:
                        await response.read()
                        status: int | None = response.status
                        error = None
                except aiohttp.ClientError as exc:
                    status, error = None, type(exc).__name__
                self.webhooks.append(WebhookDelivery(url, body, sig, status, error))
                statuses.append(status)
        return statuses

    # -- transport ----------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/data/{path:.*}", self._handle_data)
        app.router.add_route("*", "/{path:.*}", self._handle_api)
        return app

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "/" + request.match_info["path"], data_host=False)

    async def _handle_data(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "/" + request.match_info["path"], data_host=True)

    async def _handle(self, request: web.Request, path: str, *, data_host: bool) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = "<malformed>"
        route = _route(request.method, path)
        headers = {k.lower(): v for k, v in request.headers.items()}
        logged = LoggedRequest(request.method, path, route, headers, body)
        self.requests_log.append(logged)
        request_id = str(uuid.uuid4())
        fault = self.faults.take(route)
        if fault is not None and fault.kind == "error":
            logged.status = fault.status
            return _json(fault.body or {}, fault.status, request_id)
        if fault is not None and fault.kind == "drop":
            return drop_connection(request)
        try:
            if body == "<malformed>":
                raise LineApiError(400, "The request body has 1 error(s)",
                                   [{"message": "Invalid JSON", "property": ""}])
            channel = self._authenticate(headers)
            with self._lock:
                result, status, extra = self._dispatch(channel, request.method, path, route, headers, body,
                                                       request_id, data_host, dict(request.query))
        except LineApiError as exc:
            logged.status = exc.status
            return _json(exc.body(), exc.status, request_id, exc.headers)
        logged.status = status
        if fault is not None and fault.kind == "commit_then_drop":
            return drop_connection(request)
        delay = self.faults.delay_for(route)
        if delay:
            await asyncio.sleep(delay)
        if isinstance(result, bytes):
            return web.Response(body=result, status=status, content_type=extra.get("content-type", "image/jpeg"),
                                headers={"x-line-request-id": request_id})
        return _json(result, status, request_id, {k: v for k, v in extra.items() if k != "content-type"})

    def _authenticate(self, headers: dict[str, str]) -> Channel:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise LineApiError(401, "Authentication failed due to the following reason: no token. "
                                    "Confirm that the access token in the authorization header is valid.")
        channel = self.channels.get(auth[len("Bearer "):].strip())
        if channel is None:
            raise LineApiError(401, "Authentication failed due to the following reason: invalid token. "
                                    "Confirm that the access token in the authorization header is valid.")
        return channel

    def _rate(self, channel: Channel, route: str) -> None:
        if not self.rate_limits_on:
            return
        limit, per = RATE_LIMITS.get(route, DEFAULT_RATE)
        now = self.now()
        bucket = [t for t in channel.buckets.get(route, []) if t > now - per]
        if len(bucket) >= limit:
            channel.buckets[route] = bucket
            raise LineApiError(429, RATE_MESSAGE)
        bucket.append(now)
        channel.buckets[route] = bucket

    def _dispatch(self, channel: Channel, method: str, path: str, route: str, headers: dict[str, str],
                  body: Any, request_id: str, data_host: bool,
                  query: dict[str, str]) -> tuple[Any, int, dict[str, str]]:
        if route == "content":
            if not data_host:
                raise LineApiError(404, "Not found (content is served by api-data.line.me)")
            self._rate(channel, route)
            message_id = path.split("/")[4]
            found = self.contents.get(message_id)
            if found is None:
                raise LineApiError(404, "Not found")
            return found[0], 200, {"content-type": found[1]}
        if data_host:
            raise LineApiError(404, "Not found")
        retry_key = headers.get("x-line-retry-key")
        if retry_key is not None and route not in ("push", "broadcast", "multicast", "narrowcast"):
            raise LineApiError(400, "X-Line-Retry-Key is not supported on this endpoint")
        self._rate(channel, route)
        if route in ("push", "broadcast"):
            return self._send(channel, route, body, retry_key, request_id)
        if route == "reply":
            return self._reply(channel, body, request_id)
        if route == "quota":
            if channel.quota is None:
                return {"type": "none"}, 200, {}
            return {"type": "limited", "value": channel.quota}, 200, {}
        if route == "consumption":
            return {"totalUsage": self.usage(channel)}, 200, {}
        if route == "info":
            return {"userId": channel.bot_user_id, "basicId": "@" + channel.channel_id[-6:],
                    "displayName": channel.name, "chatMode": "bot", "markAsReadMode": "manual"}, 200, {}
        if route == "followers":
            return {"status": "ready", "followers": len(channel.friends), "targetedReaches": channel.reach,
                    "blocks": len(channel.blocked)}, 200, {}
        if route == "group":
            parts = path.strip("/").split("/")  # v2 bot group {id} summary | members count
            group = channel.groups.get(parts[3])
            if group is None or not group.bot_in:
                raise LineApiError(404, "Not found")
            if parts[4:] == ["summary"]:
                return {"groupId": group.id, "groupName": group.name}, 200, {}
            if parts[4:] == ["members", "count"]:
                return {"count": group.members}, 200, {}
        raise LineApiError(404, "Not found")

    def _send(self, channel: Channel, route: str, body: Any, retry_key: str | None,
              request_id: str) -> tuple[Any, int, dict[str, str]]:
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                raise LineApiError(400, "The value for the 'X-Line-Retry-Key' header is invalid") from None
            accepted = channel.accepted_keys.get(retry_key)
            if accepted is not None and self.now() - accepted.at < RETRY_KEY_TTL_S:
                extra = {"sentMessages": accepted.sent_messages} if route == "push" else {}
                raise LineApiError(409, "The retry key is already accepted",
                                   headers={"x-line-accepted-request-id": accepted.request_id}, extra=extra)
        if not isinstance(body, dict):
            raise LineApiError(400, "The request body has 1 error(s)", [{"message": "Required", "property": ""}])
        messages = _validate_messages(body.get("messages"))
        if route == "push":
            to = body.get("to")
            if not isinstance(to, str) or not to:
                raise LineApiError(400, "The request body has 1 error(s)",
                                   [{"message": "Must not be empty", "property": "to"}])
            recipients = self._push_recipients(channel, to)
        else:
            to, recipients = "*", channel.reach
        limit = channel.quota
        month = self.month()
        if limit is not None and channel.usage.get(month, 0) + recipients > limit:
            raise LineApiError(429, QUOTA_MESSAGE)
        channel.usage[month] = channel.usage.get(month, 0) + recipients
        ids = [str(next(self._ids)) for _ in messages]
        self.sent.append(SentMessage(request_id, route, to, messages, recipients, self.now(), retry_key, ids))
        sent_messages = [{"id": i, "quoteToken": secrets.token_hex(8)} for i in ids]
        if retry_key is not None:
            channel.accepted_keys[retry_key] = AcceptedKey(request_id, self.now(), sent_messages)
        if route == "push":
            return {"sentMessages": sent_messages}, 200, {}
        return {}, 200, {}

    def _push_recipients(self, channel: Channel, to: str) -> int:
        if to.startswith("C"):
            group = channel.groups.get(to)
            if group is None or not group.bot_in:
                raise LineApiError(400, "Failed to send messages")  # LINE's answer for a group the bot left
            return group.members
        if to.startswith("U"):
            if to in channel.blocked:
                return 0  # not counted and not delivered, but LINE answers 200
            if to not in channel.friends:
                raise LineApiError(400, "Failed to send messages")
            return 1
        raise LineApiError(400, "The request body has 1 error(s)",
                           [{"message": "Invalid to", "property": "to"}])

    def _reply(self, channel: Channel, body: Any, request_id: str) -> tuple[Any, int, dict[str, str]]:
        if not isinstance(body, dict):
            raise LineApiError(400, "The request body has 1 error(s)", [{"message": "Required", "property": ""}])
        messages = _validate_messages(body.get("messages"))
        token = self.reply_tokens.get(str(body.get("replyToken", "")))
        if token is None or token.used or self.now() - token.issued_at > REPLY_TOKEN_TTL_S:
            raise LineApiError(400, "Invalid reply token")
        token.used = True
        ids = [str(next(self._ids)) for _ in messages]
        self.sent.append(SentMessage(request_id, "reply", token.chat, messages, 0, self.now(), None, ids))
        return {"sentMessages": [{"id": i, "quoteToken": secrets.token_hex(8)} for i in ids]}, 200, {}


def _validate_messages(messages: Any) -> list[dict[str, Any]]:
    details: list[dict[str, str]] = []
    if not isinstance(messages, list) or not messages or len(messages) > MAX_MESSAGES:
        details.append({"message": "Size must be between 1 and 5", "property": "messages"})
    else:
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                details.append({"message": "Must be an object", "property": where})
                continue
            kind = message.get("type")
            if kind == "text":
                text = message.get("text")
                if not isinstance(text, str) or not text:
                    details.append({"message": "Must not be empty", "property": f"{where}.text"})
                elif utf16_units(text) > MAX_TEXT_UTF16:
                    details.append({"message": "Length must be between 0 and 5000", "property": f"{where}.text"})
            elif kind == "image":
                for key in ("originalContentUrl", "previewImageUrl"):
                    url = message.get(key)
                    if not isinstance(url, str) or not url:
                        details.append({"message": "Must not be empty", "property": f"{where}.{key}"})
                    elif not url.startswith("https://"):
                        details.append({"message": "Must be a valid HTTPS URL", "property": f"{where}.{key}"})
                    elif len(url) > MAX_URL:
                        details.append({"message": "Length must be between 0 and 2000",
                                        "property": f"{where}.{key}"})
            elif kind in ("sticker", "flex", "template", "imagemap", "video", "audio", "location"):
                continue  # accepted unchecked: the hub does not send these
            else:
                details.append({"message": "Invalid message type", "property": f"{where}.type"})
            quick = message.get("quickReply")
            if isinstance(quick, dict) and len(quick.get("items") or []) > 13:
                details.append({"message": "Size must be between 1 and 13", "property": f"{where}.quickReply.items"})
    if details:
        raise LineApiError(400, f"The request body has {len(details)} error(s)", details)
    return messages  # type: ignore[return-value]


def _route(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    if method == "POST" and parts[:3] == ["v2", "bot", "message"] and len(parts) == 4:
        return parts[3]  # push | broadcast | reply | multicast | narrowcast
    if method == "GET" and parts == ["v2", "bot", "message", "quota"]:
        return "quota"
    if method == "GET" and parts == ["v2", "bot", "message", "quota", "consumption"]:
        return "consumption"
    if method == "GET" and parts[:3] == ["v2", "bot", "message"] and parts[-1] == "content":
        return "content"
    if method == "GET" and parts[:3] == ["v2", "bot", "group"]:
        return "group"
    if method == "GET" and parts == ["v2", "bot", "insight", "followers"]:
        return "followers"
    if method == "GET" and parts == ["v2", "bot", "info"]:
        return "info"
    return "other"


def _json(body: dict[str, Any], status: int, request_id: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers={"x-line-request-id": request_id, **(headers or {})})


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback fake of the LINE Messaging API.")
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--quota", type=int, default=300)
    args = parser.parse_args()

    def make(port: int) -> FakeLine:
        fake = FakeLine(port=port)
        channel = fake.add_channel(quota=args.quota)
        print(f"channel token {channel.token} secret {channel.secret}", flush=True)
        return fake

    serve_forever(make, args.port, lambda s: f"fake LINE API on {s.api_base_url} (data API {s.data_base_url})")


if __name__ == "__main__":
    main()
