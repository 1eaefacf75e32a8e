"""In-process signals from the newsroom to the delivery engine: "there is work, wake up".

The engine registers callbacks; the newsroom fires them only after the transaction that created
the work has committed (see ``fire_after_commit``), so a woken dispatcher always finds the rows.
A signal is only a hint: the dispatcher also polls, so a lost signal delays, never loses, work.
With no callbacks registered (CLI, tests) firing is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

ItemCallback = Callable[[int], None]

_approved: list[ItemCallback] = []
_followup: list[ItemCallback] = []


def on_item_approved(callback: ItemCallback) -> None:
    """Call ``callback(item_id)`` when an item is approved or rescheduled (deliveries are due)."""
    if callback not in _approved:
        _approved.append(callback)


def on_followup_requested(callback: ItemCallback) -> None:
    """Call ``callback(item_id)`` when a published item is corrected or withdrawn."""
    if callback not in _followup:
        _followup.append(callback)


def clear() -> None:
    """Forget every callback (engine shutdown, tests)."""
    _approved.clear()
    _followup.clear()


def _fire(callbacks: list[ItemCallback], item_id: int) -> None:
    for callback in list(callbacks):
        try:
            callback(item_id)
        except Exception:  # a broken listener must not break the moderator's action
            log.exception("newsroom event callback %r failed for item %s", callback, item_id)


def item_approved(item_id: int) -> None:
    _fire(_approved, item_id)


def followup_requested(item_id: int) -> None:
    _fire(_followup, item_id)


_PENDING_KEY = "newsroom_pending_signals"


def fire_after_commit(session: Session, signal: Callable[[int], None], item_id: int) -> None:
    """Run ``signal(item_id)`` once the session's current transaction commits (never on rollback).

    Pending signals live in ``session.info``; one pair of listeners per session drains them on
    commit and drops them on rollback.
    """
    pending: list[tuple[Callable[[int], None], int]] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = []
        event.listen(session, "after_commit", _drain)
        event.listen(session, "after_rollback", _drop)
    if not pending:
        # Other hub processes (a CLI approval, a second worker): NOTIFY / the change counter,
        # committed with this transaction (network_hub/outbox/signals.py).
        from network_hub.outbox import signals

        signals.announce(session)
    pending.append((signal, item_id))


def _drain(session: Session) -> None:
    pending = session.info.get(_PENDING_KEY) or []
    signals, pending[:] = list(pending), []
    for signal, item_id in signals:
        signal(item_id)


def _drop(session: Session) -> None:
    pending = session.info.get(_PENDING_KEY)
    if pending:
        pending.clear()
