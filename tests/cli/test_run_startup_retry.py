"""``network-hub run`` waits for a database that is restarting or cut the connection at start-up
(found by R3: a worker whose first connection was killed exited with 69), but refuses at once a
database that answers and is not initialised."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from network_hub.cli.service import wait_for_database
from network_hub.errors import HubError


def _cut() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_a_cut_connection_is_tried_again_until_the_check_passes() -> None:
    calls, waits = [], []

    def check() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise _cut()

    wait_for_database(check, sleep=waits.append)
    assert len(calls) == 3 and waits == [0.25, 0.5]


def test_it_gives_up_after_its_attempts_with_the_database_error() -> None:
    waits: list[float] = []

    def check() -> None:
        raise _cut()

    with pytest.raises(OperationalError):
        wait_for_database(check, attempts=4, sleep=waits.append)
    assert waits == [0.25, 0.5, 1.0]


def test_an_uninitialised_database_is_refused_at_once() -> None:
    waits: list[float] = []

    def check() -> None:
        raise HubError("the database has no hub schema; run `network-hub init` first", "ฐานข้อมูลยังไม่พร้อม")

    with pytest.raises(HubError):
        wait_for_database(check, sleep=waits.append)
    assert waits == []
