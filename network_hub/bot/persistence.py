"""PTB persistence in the hub's ``kv_store`` table: conversations survive a restart of the hub.

Stored: conversation states (namespace ``bot_conv:<name>``, key = the conversation key as JSON),
user data (``bot_user``) and chat data (``bot_chat``), all JSON. Bot data and callback data are
not stored (the hub keeps business state in its own tables; callback data is plain strings).

PTB calls ``update_*`` from ``Application.update_persistence``; the bot calls that after every
update it handles (see ``component``), so a process killed between two messages loses nothing
the person already saw acknowledged. Every database call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from network_hub.db.models import KeyValue
from network_hub.hub import Hub

T = TypeVar("T")
USER_NS = "bot_user"
CHAT_NS = "bot_chat"
CONV_PREFIX = "bot_conv:"


def _put(session: Session, namespace: str, key: str, value: dict[str, Any], now: datetime) -> None:
    row = session.get(KeyValue, (namespace, key))
    if row is None:
        session.add(KeyValue(namespace=namespace, key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


class KvPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Conversation states and user/chat data in ``kv_store``."""

    def __init__(self, hub: Hub, *, update_interval: float = 5.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.hub = hub

    async def _db(self, fn: Callable[[Session, datetime], T]) -> T:
        def work() -> T:
            with self.hub.transaction() as session:
                return fn(session, self.hub.clock.now())

        return await asyncio.to_thread(work)

    async def _load_namespace(self, namespace: str) -> dict[int, dict[str, Any]]:
        def load(session: Session, _now: datetime) -> dict[int, dict[str, Any]]:
            rows = session.execute(select(KeyValue.key, KeyValue.value).where(KeyValue.namespace == namespace))
            return {int(key): dict(value or {}) for key, value in rows}

        return await self._db(load)

    # -- user and chat data -----------------------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return await self._load_namespace(USER_NS)

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return await self._load_namespace(CHAT_NS)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        value = deepcopy(data)
        await self._db(lambda s, now: _put(s, USER_NS, str(user_id), value, now))

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        value = deepcopy(data)
        await self._db(lambda s, now: _put(s, CHAT_NS, str(chat_id), value, now))

    async def drop_user_data(self, user_id: int) -> None:
        await self._db(lambda s, _now: s.execute(
            delete(KeyValue).where(KeyValue.namespace == USER_NS, KeyValue.key == str(user_id))))

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._db(lambda s, _now: s.execute(
            delete(KeyValue).where(KeyValue.namespace == CHAT_NS, KeyValue.key == str(chat_id))))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """Nothing to do: this process is the only writer while it holds the polling lease."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Nothing to do (see ``refresh_user_data``)."""

    # -- bot data and callback data: not stored ---------------------------------------------------
    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        return None

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    # -- conversations ------------------------------------------------------------------------------
    async def get_conversations(self, name: str) -> ConversationDict:
        def load(session: Session, _now: datetime) -> ConversationDict:
            rows = session.execute(select(KeyValue.key, KeyValue.value)
                                   .where(KeyValue.namespace == CONV_PREFIX + name))
            return {tuple(json.loads(key)): (value or {}).get("state") for key, value in rows}

        return await self._db(load)

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        namespace, row_key = CONV_PREFIX + name, json.dumps(list(key))

        def write(session: Session, now: datetime) -> None:
            if new_state is None:
                session.execute(delete(KeyValue).where(KeyValue.namespace == namespace, KeyValue.key == row_key))
            else:
                _put(session, namespace, row_key, {"state": new_state}, now)

        await self._db(write)

    async def flush(self) -> None:
        """Every update is written as it happens; nothing is buffered."""
