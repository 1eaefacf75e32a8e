"""The delivery state machine: every allowed move of ``DeliveryState`` in one table, enforced in
one function (``check``) that every writer of delivery state calls — the fenced transitions of the
engine (``queries.transition``, the claim, the lease sweep) and the newsroom's API (``outbox.api``).

    pending ─claim→ claimed ─start→ sending ─ok→ sent
       ↑  ↖ lease lost/shutdown ─┘      ├─retryable→ retry_wait ─claim→ claimed
       │                                ├─rate_limited / needs_human / chat migrated → pending
       │                                ├─ambiguous, lease lost → unknown ─(found)→ sent
       │                                │                             └─(absent)→ pending
       │                                └─permanent, too many attempts → failed ─(a person)→ pending
       └── cancelled ←─ withdrawn / unscheduled (pending, claimed, retry_wait, failed); re-approved → pending
"""

from __future__ import annotations

from network_hub.errors import Conflict
from network_hub.states import DeliveryState

S = DeliveryState

ALLOWED: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.PENDING: frozenset({S.CLAIMED, S.CANCELLED}),
    S.CLAIMED: frozenset({S.SENDING, S.PENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.SENT, S.RETRY_WAIT, S.PENDING, S.FAILED, S.UNKNOWN}),
    S.RETRY_WAIT: frozenset({S.CLAIMED, S.CANCELLED}),
    S.FAILED: frozenset({S.PENDING, S.CANCELLED}),
    S.UNKNOWN: frozenset({S.SENT, S.PENDING}),
    S.SENT: frozenset(),  # corrections and withdrawals are follow-ups; the post stays sent
    S.CANCELLED: frozenset({S.PENDING}),
}


class IllegalTransition(Conflict):
    """A delivery was asked to move in a way the state machine does not allow (a bug, or a race
    lost to another actor); nothing was changed."""


def allowed(source: DeliveryState | str, target: DeliveryState | str) -> bool:
    return S(target) in ALLOWED[S(source)]


def check(source: DeliveryState | str, target: DeliveryState | str) -> None:
    """Raise ``IllegalTransition`` unless ``source → target`` is in the table (staying is no move)."""
    source, target = S(source), S(target)
    if source is target or target in ALLOWED[source]:
        return
    raise IllegalTransition(
        f"a delivery cannot go from {source.value} to {target.value}; nothing was changed",
        f"รายการเผยแพร่ที่อยู่ในสถานะ {source.value} เปลี่ยนเป็น {target.value} ไม่ได้ ไม่มีการเปลี่ยนแปลงใด",
    )
