"""Sending the DM outbox through a notifier (the Telegram bot), honouring quiet hours.

Quiet hours move a message's ``due_at`` to the end of the window; they never drop it. A member
marked unreachable (never started the bot, or blocked it) is not tried again: their messages are
marked ``unreachable`` and shown on the dashboard, until they write to the bot again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from network_hub import notifications
from network_hub.db.models import Member, Notification
from network_hub.followup.quiet_hours import first_allowed
from network_hub.hub import Hub
from network_hub.notifications import NotificationKind, Notifier
from network_hub.states import NotificationState

log = logging.getLogger(__name__)
URGENT = frozenset({NotificationKind.OUTLET_NEEDS_HUMAN})  # an admin must hear about a broken outlet now


class NotificationSender:
    def __init__(self, hub: Hub, notifier: Notifier, *, owner: str, batch: int = 50,
                 lease: timedelta = timedelta(seconds=120)) -> None:
        self.hub, self.notifier, self.owner, self.batch, self.lease = hub, notifier, owner, batch, lease

    async def run_once(self) -> dict[str, int]:
        now = self.hub.clock.now()

        def claim() -> list[tuple[Notification, Member]]:
            with self.hub.transaction() as s:
                ids = notifications.claim_due(s, owner=self.owner, now=now, lease=self.lease, limit=self.batch)
                return [(n, s.get(Member, n.member_id)) for n in (s.get(Notification, i) for i in ids) if n]

        claimed = await asyncio.to_thread(claim)
        counts: dict[str, int] = {}
        s = self.hub.settings
        for note, member in claimed:
            allowed = first_allowed(now, s.quiet_hours_window, s.tz)
            if note.kind not in URGENT and allowed > now:
                outcome = notifications.SendOutcome(NotificationState.PENDING, None,
                                                    (allowed - now).total_seconds())
            elif member is None or member.unreachable_since is not None:
                outcome = notifications.SendOutcome(NotificationState.UNREACHABLE,
                                                    "the member cannot be reached on Telegram")
            else:
                try:
                    outcome = await self.notifier.send(note, member)
                except Exception as exc:  # a notifier must not raise; keep the message and retry
                    log.exception("notifier failed on notification %s", note.id)
                    outcome = notifications.SendOutcome(NotificationState.PENDING, str(exc)[:300], 60.0)
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
            done = self.hub.clock.now()
            retry_at = (done + timedelta(seconds=outcome.retry_after or 60)
                        if outcome.state == NotificationState.PENDING else None)

            def record(note_id: int = note.id, outcome: notifications.SendOutcome = outcome,
                       retry_at: object = retry_at, done: object = done) -> None:
                with self.hub.transaction() as session:
                    notifications.finish(session, note_id, owner=self.owner, state=outcome.state,
                                         now=done,  # type: ignore[arg-type]
                                         error=outcome.error, retry_at=retry_at)  # type: ignore[arg-type]

            await asyncio.to_thread(record)
        return counts
