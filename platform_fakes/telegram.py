"""A loopback fake of the Telegram Bot API, for the real python-telegram-bot client.

Stateful (chats, messages, files, updates), strict where Telegram is strict (lengths in UTF-16
after entity parsing, HTML entities, callback_data ≤ 64 bytes, albums of 2–10, unknown chats, a
bot without posting rights, revoked tokens), with optional real rate limits (20 messages a
minute per chat, 30 a second per bot; an album of N counts N) and fault injection.

Use::

    async with FakeTelegram() as tg:              # or: tg = FakeTelegram().start_in_thread()
        tg.add_channel(-1001234567890, username="village_news")
        bot = Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_base_url)
        ...
        assert tg.posts(-1001234567890)[0].text.startswith("...")

Method handlers live in ``self.handlers`` (a dispatch table, method name lower-cased → coroutine
taking the request's parameters and files), so the bot's end-to-end tests can add or replace
methods (e.g. a richer ``getUpdates`` with simulated users) without touching the transport.

``python -m platform_fakes.telegram --port 8081`` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from platform_fakes._server import Fault, FaultBook, LoopbackServer, drop_connection, serve_forever
from platform_fakes.tg_html import EntityParseError, parse_html

DEFAULT_TOKEN = "123456789:AAFakeTokenForLoopbackTestsOnly00000"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
JSON_FIELDS = {
    "reply_markup",
    "media",
    "commands",
    "allowed_updates",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "scope",
}


class ApiError(Exception):
    """An error answer: HTTP status = error_code (python-telegram-bot maps by status)."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(description: str, **parameters: Any) -> ApiError:
    return ApiError(400, f"Bad Request: {description}", **parameters)


# -- state model -----------------------------------------------------------------------------


@dataclass
class FakeFile:
    file_id: str
    file_unique_id: str
    data: bytes
    width: int
    height: int
    file_path: str


@dataclass
class FakeMessage:
    message_id: int
    chat_id: int
    date: int
    text: str | None = None  # visible text (after entity parsing)
    entities: list[dict[str, Any]] = field(default_factory=list)
    html: str | None = None  # the source sent (HTML parse mode), for tests that look at markup
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[FakeFile] = field(default_factory=list)  # sizes, smallest to largest
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False
    from_user_id: int | None = None  # None: sent by the bot


@dataclass
class FakeChat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str = ""
    username: str | None = None
    first_name: str | None = None
    # The bot's membership: administrator | member | left | kicked (private: member | kicked = blocked)
    bot_status: str = "administrator"
    can_post_messages: bool = True
    can_delete_messages: bool = True
    migrated_to: int | None = None
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    next_message_id: int = 1

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.username:
            data["username"] = self.username
        if self.first_name:
            data["first_name"] = self.first_name
        return data


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    file_names: list[str]
    at: float


Handler = Callable[[dict[str, Any], dict[str, tuple[str, bytes]]], Awaitable[Any]]


class FakeTelegram(LoopbackServer):
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "tambon_pr_hub_bot",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(port)
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.token_revoked = False
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, FakeFile] = {}
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self.call_log: list[Call] = []
        self.faults = FaultBook()
        self._later: list[list[Any]] = []  # [calls still to let through, Fault] (fail_next(after=...))
        self._later_lock = threading.Lock()
        self._clock = clock
        self._rate_limits = False
        self.per_chat_per_minute = 20
        self.per_bot_per_second = 30
        self._chat_sends: dict[int, deque[float]] = {}
        self._bot_sends: deque[float] = deque()
        self._ids = itertools.count(1)
        self.handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "forwardmessage": self._forward_message,
            "copymessage": self._copy_message,
            "getfile": self._get_file,
            "getupdates": self._get_updates,
            "deletewebhook": self._true,
            "setmycommands": self._true,
            "answercallbackquery": self._true,
            "logout": self._true,
            "close": self._true,
        }

    # -- URLs for the client ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.origin}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.origin}/file/bot"

    # -- set-up API for tests ------------------------------------------------------------------
    def add_channel(
        self,
        chat_id: int,
        *,
        username: str | None = None,
        title: str = "ข่าวตำบล",
        bot_status: str = "administrator",
        can_post_messages: bool = True,
    ) -> FakeChat:
        return self._add(FakeChat(chat_id, "channel", title, username, None, bot_status, can_post_messages))

    def add_group(
        self, chat_id: int, *, title: str = "กลุ่มผู้ดูแล", supergroup: bool = True, bot_status: str = "member"
    ) -> FakeChat:
        kind = "supergroup" if supergroup else "group"
        return self._add(FakeChat(chat_id, kind, title, None, None, bot_status, True))

    def add_private(self, user_id: int, *, first_name: str = "สมชาย", blocked: bool = False) -> FakeChat:
        status = "kicked" if blocked else "member"
        return self._add(FakeChat(user_id, "private", "", None, first_name, status, True))

    def _add(self, chat: FakeChat) -> FakeChat:
        self.chats[chat.id] = chat
        return chat

    def set_bot_rights(self, chat_id: int, *, status: str = "administrator", can_post_messages: bool = True) -> None:
        chat = self.chats[chat_id]
        chat.bot_status, chat.can_post_messages = status, can_post_messages

    def migrate_chat(self, old_id: int, new_id: int) -> FakeChat:
        """A group became a supergroup: posts to ``old_id`` now fail with migrate_to_chat_id."""
        old = self.chats[old_id]
        old.migrated_to = new_id
        return self._add(FakeChat(new_id, "supergroup", old.title, old.username, None, old.bot_status, True))

    def revoke_token(self) -> None:
        self.token_revoked = True

    def rate_limits(self, on: bool = True, *, per_chat_per_minute: int = 20, per_bot_per_second: int = 30) -> None:
        self._rate_limits = on
        self.per_chat_per_minute = per_chat_per_minute
        self.per_bot_per_second = per_bot_per_second

    def fail_next(
        self,
        method: str = "*",
        *,
        times: int = 1,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        after: int = 0,
    ) -> None:
        """The next ``times`` calls of ``method`` answer with this error (nothing is done); with
        ``after``, that many calls of ``method`` succeed first (a 429 on part 2 of a post: ``after=1``)."""
        body: dict[str, Any] = {"ok": False, "error_code": error_code, "description": description}
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        fault = Fault(method, "error", times, error_code, body)
        if after > 0:
            with self._later_lock:
                self._later.append([after, fault])
            return
        self.faults.add(fault)

    def _arm_later_faults(self, method: str) -> None:
        """Count this call against the faults waiting for ``after`` calls; arm those whose turn it is."""
        with self._later_lock:
            for entry in list(self._later):
                skip, fault = entry
                if not fault.matches(method):
                    continue
                if skip > 0:
                    entry[0] = skip - 1
                else:
                    self._later.remove(entry)
                    self.faults.add(fault)

    def drop_next(self, method: str = "*", *, times: int = 1, commit: bool = True) -> None:
        """Close the connection without an answer; with ``commit`` the message is posted first."""
        self.faults.add(Fault(method, "commit_then_drop" if commit else "drop", times))

    def latency(self, seconds: float, *, methods: list[str] | None = None) -> None:
        """Answer every call (or the named methods) ``seconds`` late — after doing the work,
        so a client that times out leaves a posted message behind (the ambiguous case)."""
        self.faults.latency_s = seconds
        self.faults.latency_routes = {m.lower() for m in methods} if methods else None

    def reset_faults(self) -> None:
        self.faults.clear()
        with self._later_lock:
            self._later.clear()

    # -- inspection API --------------------------------------------------------------------------
    def chat(self, chat: int | str) -> FakeChat:
        return self._resolve_chat(chat)

    def posts(self, chat: int | str) -> list[FakeMessage]:
        """Messages the bot posted in a chat and has not deleted, in order."""
        found = self._resolve_chat(chat)
        return [m for m in found.messages.values() if not m.deleted and m.from_user_id is None]

    def count(self, chat: int | str | None = None) -> int:
        if chat is not None:
            return len(self.posts(chat))
        return sum(len(self.posts(c)) for c in self.chats)

    def calls(self, method: str | None = None) -> list[Call]:
        if method is None:
            return list(self.call_log)
        return [c for c in self.call_log if c.method.lower() == method.lower()]

    def push_update(self, **payload: Any) -> int:
        """Queue an update for getUpdates (e.g. ``push_update(message={...})``); returns its id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **payload})
        self._new_update.set()
        return update_id

    # -- transport ------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        self._new_update = asyncio.Event()  # bound to the serving loop
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        return app

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token or self.token_revoked:
            return _error(ApiError(401, "Unauthorized"))
        handler = self.handlers.get(method.lower())
        if handler is None:
            return _error(ApiError(404, "Not Found"))
        params, files = await _read_params(request)
        self.call_log.append(Call(method, params, list(files), time.time()))
        self._arm_later_faults(method)
        fault = self.faults.take(method)
        if fault is not None and fault.kind == "error":
            assert fault.body is not None
            return web.json_response(fault.body, status=fault.status)
        if fault is not None and fault.kind == "drop":
            return drop_connection(request)
        try:
            result = await handler(params, files)
        except ApiError as exc:
            return _error(exc)
        if fault is not None and fault.kind == "commit_then_drop":
            return drop_connection(request)
        delay = self.faults.delay_for(method)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token or self.token_revoked:
            return _error(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for file in self.files.values():
            if file.file_path == path:
                return web.Response(body=file.data, content_type="image/jpeg")
        return _error(ApiError(404, "Not Found"))

    # -- helpers ----------------------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Tambon PR Hub", "username": self.bot_username}

    def _resolve_chat(self, chat_id: Any) -> FakeChat:
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        text = str(chat_id)
        if text.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == text[1:].lower():
                    return chat
            raise bad_request("chat not found")
        try:
            number = int(text)
        except ValueError:
            raise bad_request("chat not found") from None
        if number not in self.chats:
            raise bad_request("chat not found")
        return self.chats[number]

    def _chat_for_sending(self, chat_id: Any) -> FakeChat:
        chat = self._resolve_chat(chat_id)
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to)
        if chat.type == "private":
            if chat.bot_status == "kicked":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return chat
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {_kind(chat)} chat")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {_kind(chat)} chat")
        if chat.type == "channel" and (chat.bot_status != "administrator" or not chat.can_post_messages):
            raise bad_request("need administrator rights in the channel chat")
        return chat

    def _check_rate(self, chat: FakeChat, count: int) -> None:
        if not self._rate_limits:
            return
        now = self._clock()
        per_chat = self._chat_sends.setdefault(chat.id, deque())
        while per_chat and per_chat[0] <= now - 60:
            per_chat.popleft()
        while self._bot_sends and self._bot_sends[0] <= now - 1:
            self._bot_sends.popleft()
        wait = max(
            _wait(per_chat, count, self.per_chat_per_minute, 60.0, now),
            _wait(self._bot_sends, count, self.per_bot_per_second, 1.0, now),
        )
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        per_chat.extend([now] * count)
        self._bot_sends.extend([now] * count)

    def _new_message(self, chat: FakeChat, **fields: Any) -> FakeMessage:
        message = FakeMessage(message_id=chat.next_message_id, chat_id=chat.id, date=int(time.time()), **fields)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def message_json(self, message: FakeMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {"message_id": message.message_id, "date": message.date, "chat": chat.as_json()}
        if message.from_user_id is None:
            if chat.type == "channel":
                data["sender_chat"] = chat.as_json()
            else:
                data["from"] = self._bot_user()
        else:
            data["from"] = {"id": message.from_user_id, "is_bot": False, "first_name": "ผู้ใช้"}
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.caption is not None:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.photo:
            data["photo"] = [_photo_size(f) for f in message.photo]
        if message.media_group_id:
            data["media_group_id"] = message.media_group_id
        if message.reply_to_message_id is not None:
            replied = chat.messages.get(message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = {
                    k: v for k, v in self.message_json(replied).items() if k != "reply_to_message"
                }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup  # Telegram returns only inline keyboards on messages
        if message.edit_date:
            data["edit_date"] = message.edit_date
        return data

    def _formatted(
        self, source: str | None, parse_mode: str | None, limit: int, *, caption: bool
    ) -> tuple[str | None, list[dict[str, Any]]]:
        if source is None or source == "":
            if caption:
                return None, []
            raise bad_request("message text is empty")
        if (parse_mode or "").upper() == "HTML":
            try:
                text, entities = parse_html(source)
            except EntityParseError as exc:
                raise bad_request(str(exc)) from None
        elif parse_mode:
            raise bad_request(f"unsupported parse_mode {parse_mode!r} in this fake")
        else:
            text, entities = source, []
        if not caption and not text.strip():
            raise bad_request("message text is empty")
        if _u16(text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        return text, entities

    def _reply_to(self, chat: FakeChat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None and params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _photo_from(self, value: Any, files: dict[str, tuple[str, bytes]]) -> list[FakeFile]:
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value[len("attach://") :])
            if part is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return self._store_upload(part[1])
        if isinstance(value, tuple):
            return self._store_upload(value[1])
        if isinstance(value, str) and value in self.files:
            wanted = self.files[value]
            return [
                f for f in self.files.values() if f.file_unique_id.split(".")[0] == wanted.file_unique_id.split(".")[0]
            ] or [wanted]
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_upload(self, data: bytes) -> list[FakeFile]:
        if len(data) > MAX_UPLOAD_BYTES:
            raise bad_request("file is too big")
        width, height = _image_size(data)
        number = next(self._ids)
        unique = f"AQAD{number:06d}"
        sizes = []
        for suffix, scale in (("s", 0.1), ("x", 1.0)):
            file_id = f"AgACAgUAAx{number:06d}{suffix}{secrets.token_hex(8)}"
            fake = FakeFile(
                file_id,
                f"{unique}.{suffix}",
                data,
                max(1, int(width * scale)),
                max(1, int(height * scale)),
                f"photos/file_{number}_{suffix}.jpg",
            )
            self.files[file_id] = fake
            sizes.append(fake)
        return sizes

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def _message(self, params: dict[str, Any]) -> tuple[FakeChat, FakeMessage]:
        chat = self._resolve_chat(params.get("chat_id"))
        try:
            message = chat.messages.get(int(params.get("message_id", 0)))
        except ValueError:
            message = None
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        return chat, message

    # -- method handlers (the dispatch table) ---------------------------------------------------
    async def _true(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if params.get("drop_pending_updates") in (True, "true"):
            self.updates.clear()
        return True

    async def _get_me(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type != "private" and chat.bot_status in ("left", "kicked"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {_kind(chat)} chat")
        return {
            **chat.as_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        if str(params.get("user_id")) != str(self.bot_id):
            raise bad_request("user not found")
        user = self._bot_user()
        if chat.bot_status == "administrator":
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": chat.can_delete_messages,
                "can_manage_video_chats": False,
                "can_restrict_members": False,
                "can_promote_members": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_post_messages": chat.can_post_messages,
                "can_edit_messages": chat.can_post_messages,
            }
        if chat.bot_status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": chat.bot_status, "user": user}

    async def _send_message(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._chat_for_sending(params.get("chat_id"))
        text, entities = self._formatted(params.get("text"), params.get("parse_mode"), TEXT_LIMIT, caption=False)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._check_rate(chat, 1)
        message = self._new_message(
            chat,
            text=text,
            entities=entities,
            html=params.get("text"),
            reply_to_message_id=reply_to,
            reply_markup=markup,
        )
        return self.message_json(message)

    async def _send_photo(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._chat_for_sending(params.get("chat_id"))
        caption, entities = self._formatted(
            params.get("caption"), params.get("parse_mode"), CAPTION_LIMIT, caption=True
        )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        photo = self._photo_from(files.get("photo") or params.get("photo"), files)
        self._check_rate(chat, 1)
        message = self._new_message(
            chat,
            caption=caption,
            caption_entities=entities,
            html=params.get("caption"),
            photo=photo,
            reply_to_message_id=reply_to,
            reply_markup=markup,
        )
        return self.message_json(message)

    async def _send_media_group(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._chat_for_sending(params.get("chat_id"))
        media = params.get("media")
        if not isinstance(media, list) or not media:
            raise bad_request("media group is empty")  # the real API: "MEDIA_EMPTY"-like
        if not 2 <= len(media) <= 10:
            raise bad_request(
                "too many messages to send as an album"
                if len(media) > 10
                else "media group must contain at least 2 items"
            )
        reply_to = self._reply_to(chat, params)
        prepared = []
        for index, item in enumerate(media, start=1):
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request(
                    f'failed to send message #{index} with the error message "this fake groups photos only"'
                )
            caption, entities = self._formatted(
                item.get("caption"), item.get("parse_mode"), CAPTION_LIMIT, caption=True
            )
            prepared.append((caption, entities, item.get("caption"), self._photo_from(item.get("media"), files)))
        self._check_rate(chat, len(media))
        group_id = str(10**17 + next(self._ids))
        result = []
        for caption, entities, source, photo in prepared:
            message = self._new_message(
                chat,
                caption=caption,
                caption_entities=entities,
                html=source,
                photo=photo,
                media_group_id=group_id,
                reply_to_message_id=reply_to,
            )
            result.append(self.message_json(message))
        return result

    async def _edit_message_text(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        _chat, message = self._message(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params.get("text"), params.get("parse_mode"), TEXT_LIMIT, caption=False)
        markup = self._check_markup(params.get("reply_markup"))
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.entities, message.html = text, entities, params.get("text")
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self.message_json(message)

    async def _edit_message_caption(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        _chat, message = self._message(params)
        if not message.photo:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._formatted(
            params.get("caption"), params.get("parse_mode"), CAPTION_LIMIT, caption=True
        )
        markup = self._check_markup(params.get("reply_markup"))
        if caption == message.caption and entities == message.caption_entities and markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.caption, message.caption_entities, message.html = caption, entities, params.get("caption")
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self.message_json(message)

    async def _edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        _chat, message = self._message(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return self.message_json(message)

    async def _delete_message(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat = self._resolve_chat(params.get("chat_id"))
        try:
            message = chat.messages.get(int(params.get("message_id", 0)))
        except ValueError:
            message = None
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if chat.type == "channel" and (chat.bot_status != "administrator" or not chat.can_delete_messages):
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _source_message(self, params: dict[str, Any], verb: str) -> tuple[FakeChat, FakeMessage]:
        """The message a forward/copy reads: the bot must be able to read ``from_chat_id`` (a
        channel: be a member of it); a missing or deleted id is 'message to forward not found'."""
        source = self._resolve_chat(params.get("from_chat_id"))
        if source.bot_status in ("left", "kicked"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {_kind(source)} chat")
        try:
            message = source.messages.get(int(params.get("message_id", 0)))
        except (TypeError, ValueError):
            message = None
        if message is None or message.deleted:
            raise bad_request(f"message to {verb} not found")
        return source, message

    async def _forward_message(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        """forwardMessage (Bot API): chat_id, from_chat_id, message_id → the new Message, whose
        ``forward_origin`` names the source; text, caption and photo are kept as they were."""
        source, original = self._source_message(params, "forward")
        chat = self._chat_for_sending(params.get("chat_id"))
        self._check_rate(chat, 1)
        copy = self._new_message(chat, text=original.text, entities=list(original.entities), html=original.html,
                                 caption=original.caption, caption_entities=list(original.caption_entities),
                                 photo=list(original.photo))
        data = self.message_json(copy)
        origin: dict[str, Any] = {"type": "channel" if source.type == "channel" else "chat",
                                  "date": original.date, "message_id": original.message_id}
        origin["chat" if source.type == "channel" else "sender_chat"] = source.as_json()
        data["forward_origin"] = origin
        return data

    async def _copy_message(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        """copyMessage (Bot API): like forwardMessage without a link to the source; returns only
        a MessageId."""
        _source, original = self._source_message(params, "copy")
        chat = self._chat_for_sending(params.get("chat_id"))
        self._check_rate(chat, 1)
        copy = self._new_message(chat, text=original.text, entities=list(original.entities), html=original.html,
                                 caption=original.caption, caption_entities=list(original.caption_entities),
                                 photo=list(original.photo))
        return {"message_id": copy.message_id}

    async def _get_file(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        file = self.files.get(str(params.get("file_id")))
        if file is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.data),
            "file_path": file.file_path,
        }

    async def _get_updates(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self.updates[:limit]


# -- module helpers ------------------------------------------------------------------------------


def _wait(sent: deque[float], count: int, limit: int, window: float, now: float) -> float:
    """Seconds until ``count`` more sends fit in a sliding window holding ``sent``."""
    excess = len(sent) + count - limit
    if excess <= 0:
        return 0.0
    if excess > len(sent):  # more than the window can ever hold at once
        return window
    return max(sent[excess - 1] + window - now, 0.001)


def _kind(chat: FakeChat) -> str:
    return "channel" if chat.type == "channel" else "group"


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _photo_size(file: FakeFile) -> dict[str, Any]:
    return {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "width": file.width,
        "height": file.height,
        "file_size": len(file.data),
    }


def _image_size(data: bytes) -> tuple[int, int]:
    """Pixel size of an uploaded image; anything that is not an image is refused like Telegram does."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Parameters from the query string, urlencoded, multipart or JSON bodies (JSON fields decoded)."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            if getattr(part, "filename", None) is not None:
                files[part.name] = (part.filename or "", bytes(await part.read()))  # type: ignore[union-attr]
            else:
                params[part.name] = await part.text()  # type: ignore[union-attr]
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(await request.post())
    elif content_type.startswith("application/json"):
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(json.JSONDecodeError):  # left as text: the handler rejects it
                params[key] = json.loads(params[key])
    return params, files


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback fake of the Telegram Bot API.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument(
        "--channel", type=int, action="append", default=[], help="a channel id the bot administers (repeatable)"
    )
    args = parser.parse_args()

    def make(port: int) -> FakeTelegram:
        fake = FakeTelegram(token=args.token, port=port)
        for chat_id in args.channel:
            fake.add_channel(chat_id)
        return fake

    serve_forever(make, args.port, lambda s: f"fake Telegram on {s.base_url} (token {s.token})")


if __name__ == "__main__":
    main()
