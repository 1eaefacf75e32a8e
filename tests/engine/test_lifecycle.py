"""The delivery state machine: every allowed move passes, every other move is refused (and the
fenced writer refuses it before touching the database)."""

from __future__ import annotations

from itertools import product

import pytest

from network_hub.outbox import lifecycle
from network_hub.states import DeliveryState as S

ALLOWED = {
    (S.PENDING, S.CLAIMED), (S.PENDING, S.CANCELLED),
    (S.CLAIMED, S.SENDING), (S.CLAIMED, S.PENDING), (S.CLAIMED, S.CANCELLED),
    (S.SENDING, S.SENT), (S.SENDING, S.RETRY_WAIT), (S.SENDING, S.PENDING), (S.SENDING, S.FAILED),
    (S.SENDING, S.UNKNOWN),
    (S.RETRY_WAIT, S.CLAIMED), (S.RETRY_WAIT, S.CANCELLED),
    (S.FAILED, S.PENDING), (S.FAILED, S.CANCELLED),
    (S.UNKNOWN, S.SENT), (S.UNKNOWN, S.PENDING),
    (S.CANCELLED, S.PENDING),
}
MOVES = [(a, b) for a, b in product(S, S) if a is not b]


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_allowed_move(source, target) -> None:
    assert lifecycle.allowed(source, target)
    lifecycle.check(source, target)
    lifecycle.check(source.value, target.value)  # stored strings are read the same way


@pytest.mark.parametrize(("source", "target"), [m for m in MOVES if m not in ALLOWED])
def test_refused_move(source, target) -> None:
    assert not lifecycle.allowed(source, target)
    with pytest.raises(lifecycle.IllegalTransition) as caught:
        lifecycle.check(source, target)
    assert source.value in str(caught.value) and target.value in str(caught.value)
    assert "ไม่ได้" in caught.value.message("th")


def test_the_table_is_exactly_the_documented_one() -> None:
    assert {(a, b) for a, targets in lifecycle.ALLOWED.items() for b in targets} == ALLOWED
    assert set(lifecycle.ALLOWED) == set(S)


def test_staying_in_a_state_is_no_move() -> None:
    for state in S:
        lifecycle.check(state, state)


def test_an_unknown_state_name_is_refused() -> None:
    with pytest.raises(ValueError):
        lifecycle.check("pending", "posted")


def test_the_fenced_writer_refuses_an_illegal_move_and_changes_nothing(hub) -> None:
    from network_hub.outbox import queries

    with hub.transaction() as s, pytest.raises(lifecycle.IllegalTransition):
        queries.transition(s, 1, 1, (S.SENT,), state=S.PENDING)
