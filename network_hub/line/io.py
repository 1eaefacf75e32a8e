"""The network side of LINE webhook processing, with the hub's own Official Account:
a joined group's name and size, a photo downloaded and re-encoded at once, replies (free)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from linebot.v3.messaging import ReplyMessageRequest, TextMessage

from network_hub.db.models import LineWebhookEvent
from network_hub.errors import HubError
from network_hub.hub import Hub
from network_hub.line.accounts import account_of_bot
from network_hub.line.chat import staging_dir
from network_hub.newsroom.photos import PhotoInput, prepare_photo
from publishers.base import OutletTarget
from publishers.line import LinePublisher

log = logging.getLogger(__name__)


class HubLineIO:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.publisher = LinePublisher(hub.settings, clock=hub.clock)
        self.target = OutletTarget(0, "line", "friends")  # the hub's own OA token (HUB_LINE_CHANNEL_ACCESS_TOKEN)
        self._targets: dict[str, OutletTarget] = {}

    def target_for(self, event: LineWebhookEvent) -> OutletTarget:
        """The OA the event came to: another registered OA's token, else the hub's own."""
        if event.destination not in self._targets:
            with self.hub.transaction() as session:
                account = account_of_bot(session, event.destination)
            token = account.token() if account is not None else None
            self._targets[event.destination] = OutletTarget(0, "line", "friends", token=token or None)
        return self._targets[event.destination]

    async def enrich(self, event: LineWebhookEvent) -> dict[str, Any]:
        payload = event.payload or {}
        if event.event_type == "join":
            group_id = (payload.get("source") or {}).get("groupId")
            api = self.publisher.api(self.target_for(event))
            summary = await api.get_group_summary(group_id)
            count = await api.get_group_member_count(group_id)
            return {"name": summary.group_name, "member_count": count.count}
        message = payload.get("message") or {}
        if event.event_type == "message" and message.get("type") == "image":
            return await self._photo(payload, message)
        return {}

    async def _photo(self, payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        """Download now (LINE deletes content later); keep only the re-encoded JPEG (no EXIF/GPS)."""
        user = (payload.get("source") or {}).get("userId", "unknown")
        data = await self.publisher.download_content(self.target, str(message["id"]))
        try:
            prepared = prepare_photo(PhotoInput(data=data, filename=f"line-{message['id']}.jpg"))
        except HubError as exc:
            return {"error": exc.message("th")}
        folder = staging_dir(self.hub.settings.data_dir) / user
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message['id']}.jpg"
        path.write_bytes(prepared.jpeg)
        return {"staged": str(Path(path))}

    async def reply(self, event: LineWebhookEvent, reply_token: str, messages: list[dict[str, Any]]) -> None:
        api = self.publisher.api(self.target_for(event))
        await api.reply_message(ReplyMessageRequest(reply_token=reply_token,
                                                    messages=[TextMessage.from_dict(m) for m in messages]))

    async def aclose(self) -> None:
        await self.publisher.aclose()
