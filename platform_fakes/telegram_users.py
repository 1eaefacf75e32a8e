"""Simulated Telegram users for the loopback Bot API fake: people who write to the bot, send photos
and albums, press buttons, and read what the bot sent them.

``FakeTelegram`` runs in its own thread (``start_in_thread``); ``TelegramWorld`` does every change
to the fake on the fake's own event loop (so a waiting ``getUpdates`` long poll wakes at once) and
offers bounded waits for tests::

    world = TelegramWorld(FakeTelegram().start_in_thread())
    somsri = world.user(1001, "สมศรี")
    somsri.command("/start", "INVITECODE")
    welcome = somsri.wait_for_text("ยินดีต้อนรับ")
    somsri.press(somsri.wait_for_button("ส่งข่าว"), chat_id=None)

Updates look like Telegram's: ``message`` with ``from``/``chat``/``entities`` (a ``bot_command``
entity for commands), photos as ``PhotoSize`` lists whose file ids the bot can ``getFile`` and
download, albums as one update per photo sharing a ``media_group_id``, and ``callback_query`` with
the pressed message. ``transcript`` renders a chat as the people in it saw it.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from platform_fakes.telegram import FakeChat, FakeMessage, FakeTelegram, _photo_size

T = TypeVar("T")
DEFAULT_TIMEOUT = 15.0


def jpeg(width: int = 640, height: int = 480, colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A small real JPEG (what a phone would send, minus the size)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@dataclass
class Press:
    """A button press, remembered for transcripts (Telegram keeps no message for it)."""

    chat_id: int
    after_message_id: int
    user: str
    label: str
    callback_id: str


class TelegramWorld:
    """The fake plus the people using it."""

    def __init__(self, fake: FakeTelegram) -> None:
        if fake._thread_loop is None:
            raise RuntimeError("start the fake with start_in_thread() first")
        self.fake = fake
        self.presses: list[Press] = []
        self._ids = itertools.count(int(time.time()) % 100_000 * 1000)
        self._lock = threading.Lock()
        self.names: dict[int, str] = {}

    # -- running things on the fake's loop ---------------------------------------------------------
    def on_loop(self, fn: Callable[[], T]) -> T:
        loop = self.fake._thread_loop
        assert loop is not None
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(10)

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def user(self, user_id: int, first_name: str, *, blocked: bool = False) -> SimulatedUser:
        self.on_loop(lambda: self.fake.add_private(user_id, first_name=first_name, blocked=blocked))
        self.names[user_id] = first_name
        return SimulatedUser(self, user_id, first_name)

    def group(self, chat_id: int, title: str = "กลุ่มผู้ดูแลข่าวตำบล") -> FakeChat:
        return self.on_loop(lambda: self.fake.add_group(chat_id, title=title))

    def wait_until(self, predicate: Callable[[], T], what: str, timeout: float = DEFAULT_TIMEOUT) -> T:
        """Poll ``predicate`` (in the fake's loop) until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.on_loop(predicate)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.05)

    def bot_messages(self, chat_id: int) -> list[FakeMessage]:
        return self.on_loop(lambda: list(self.fake.posts(chat_id)))

    def answers(self, callback_id: str) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.calls("answerCallbackQuery")
                if str(c.params.get("callback_query_id")) == callback_id]

    # -- transcripts ---------------------------------------------------------------------------------
    def transcript(self, chat_id: int, *, bot_name: str = "บอท") -> list[str]:
        """The chat as its members saw it: messages (final text after edits), photos, buttons, presses."""

        def read() -> list[tuple[int, int, str]]:
            chat = self.fake.chat(chat_id)
            rows: list[tuple[int, int, str]] = []
            for message in chat.messages.values():
                if message.deleted:
                    continue
                who = bot_name if message.from_user_id is None else self.names.get(message.from_user_id, "?")
                body = message.text if message.text is not None else (message.caption or "")
                if message.photo:
                    body = f"[ภาพ{' (อัลบั้ม)' if message.media_group_id else ''}] {body}".rstrip()
                line = f"{who}: {body}"
                if message.reply_markup:
                    labels = [b.get("text", "") for row in message.reply_markup.get("inline_keyboard", [])
                              for b in row]
                    if labels:
                        line += "\n    [ปุ่ม] " + " | ".join(labels)
                rows.append((message.message_id, 0, line))
            for n, press in enumerate(self.presses):
                if press.chat_id == chat_id:
                    answers = self.answers(press.callback_id)
                    toast = next((a.get("text") for a in answers if a.get("text")), None)
                    line = f"{press.user}: (กดปุ่ม «{press.label}»)"
                    if toast:
                        line += f"\n    [แจ้งเตือนบนจอ] {toast}"
                    rows.append((press.after_message_id, n + 1, line))
            return sorted(rows)

        return [line for _mid, _order, line in self.on_loop(read)]


class SimulatedUser:
    """One person: a private chat with the bot, and messages/presses in other chats."""

    def __init__(self, world: TelegramWorld, user_id: int, first_name: str) -> None:
        self.world = world
        self.fake = world.fake
        self.id = user_id
        self.first_name = first_name

    @property
    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": "th"}

    # -- sending ----------------------------------------------------------------------------------------
    def _post(self, chat_id: int | None, build: Callable[[FakeChat], FakeMessage]) -> FakeMessage:
        target = self.id if chat_id is None else chat_id

        def run() -> FakeMessage:
            chat = self.fake.chat(target)
            message = build(chat)
            data = self.fake.message_json(message)
            data["from"] = self.as_json
            self.fake.push_update(message=data)
            return message

        return self.world.on_loop(run)

    def text(self, text: str, *, chat_id: int | None = None, reply_to: int | None = None) -> FakeMessage:
        entities = []
        if text.startswith("/"):
            command = text.split()[0]
            entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._post(chat_id, lambda chat: self.fake._new_message(
            chat, text=text, entities=entities, from_user_id=self.id, reply_to_message_id=reply_to))

    def command(self, command: str, *args: str, chat_id: int | None = None) -> FakeMessage:
        return self.text(" ".join((command, *args)), chat_id=chat_id)

    def photos(self, images: list[bytes], *, album: bool = True, caption: str | None = None,
               chat_id: int | None = None) -> list[FakeMessage]:
        """Send photos: as one album (one update per photo, shared ``media_group_id``) or one by one."""
        group = str(self.world.next_id()) if album and len(images) > 1 else None
        sent = []
        for index, data in enumerate(images):
            def build(chat: FakeChat, data: bytes = data, index: int = index) -> FakeMessage:
                sizes = self.fake._store_upload(data)
                return self.fake._new_message(chat, photo=sizes, media_group_id=group, from_user_id=self.id,
                                              caption=caption if index == 0 else None)

            sent.append(self._post(chat_id, build))
        return sent

    def share_contact(self, phone: str, *, user_id: int | None = None, first_name: str | None = None) -> FakeMessage:
        """Send a contact: by default one's own (what the contact-request button sends, with
        ``user_id`` = the sender); another ``user_id`` (or 0 for none) is a forwarded contact."""

        def run() -> FakeMessage:
            chat = self.fake.chat(self.id)
            message = self.fake._new_message(chat, from_user_id=self.id)
            data = self.fake.message_json(message)
            data["from"] = self.as_json
            contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name or self.first_name}
            if user_id != 0:
                contact["user_id"] = self.id if user_id is None else user_id
            data["contact"] = contact
            self.fake.push_update(message=data)
            return message

        return self.world.on_loop(run)

    def press(self, message: FakeMessage, label_or_data: str) -> str:
        """Press the button whose label contains ``label_or_data`` (or whose data equals it)."""
        button = _find_button(message, label_or_data)
        if button is None:
            raise AssertionError(f"no button {label_or_data!r} on message {message.message_id}: "
                                 f"{_labels(message)}")
        return self.press_data(message, button["callback_data"], label=button.get("text", ""))

    def press_data(self, message: FakeMessage, data: str, *, label: str | None = None) -> str:
        """Send a callback query with any data (a forged press when the data is not on a button)."""
        callback_id = str(self.world.next_id())

        def run() -> None:
            chat = self.fake.chat(message.chat_id)
            current = chat.messages[message.message_id]
            self.world.presses.append(Press(chat.id, chat.next_message_id - 1, self.first_name,
                                            label if label is not None else f"ข้อมูลปลอม {data}", callback_id))
            self.fake.push_update(callback_query={
                "id": callback_id, "from": self.as_json, "chat_instance": f"ci{chat.id}",
                "message": self.fake.message_json(current), "data": data})

        self.world.on_loop(run)
        return callback_id

    # -- reading ----------------------------------------------------------------------------------------
    def inbox(self) -> list[FakeMessage]:
        """What the bot sent this person in their private chat, oldest first."""
        return self.world.bot_messages(self.id)

    def mark(self, chat_id: int | None = None) -> int:
        """The last message id in a chat now (wait for messages after it)."""
        target = self.id if chat_id is None else chat_id
        return self.world.on_loop(lambda: self.fake.chat(target).next_message_id - 1)

    def wait_for_text(self, fragment: str, *, chat_id: int | None = None, after: int = 0,
                      timeout: float = 15.0) -> FakeMessage:
        """The first bot message (after message id ``after``) whose text or caption contains ``fragment``."""
        target = self.id if chat_id is None else chat_id

        def find() -> FakeMessage | None:
            for message in self.fake.posts(target):
                if message.message_id > after and fragment in (message.text or message.caption or ""):
                    return message
            return None

        return self.world.wait_until(find, f"{fragment!r} in chat {target}", timeout)

    def wait_for_button(self, label: str, *, chat_id: int | None = None, after: int = 0,
                        timeout: float = 15.0) -> FakeMessage:
        target = self.id if chat_id is None else chat_id

        def find() -> FakeMessage | None:
            for message in reversed(self.fake.posts(target)):
                if message.message_id > after and _find_button(message, label) is not None:
                    return message
            return None

        return self.world.wait_until(find, f"a button {label!r} in chat {target}", timeout)

    def wait_for_answer(self, callback_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for a press (the toast or alert the person saw)."""
        return self.world.wait_until(lambda: next(iter(self.world.answers(callback_id)), None),
                                     f"an answer to press {callback_id}", timeout)


def _find_button(message: FakeMessage, wanted: str) -> dict[str, Any] | None:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if wanted in button.get("text", "") or button.get("callback_data") == wanted:
                return button
    return None


def _labels(message: FakeMessage) -> list[str]:
    return [b.get("text", "") for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


__all__ = ["SimulatedUser", "TelegramWorld", "_photo_size", "asyncio", "jpeg"]
