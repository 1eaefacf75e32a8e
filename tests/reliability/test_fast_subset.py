"""The fast subset of the reliability scenarios (R1, R2, R3, R5; R4 runs whole in test_bad_input.py),
so CI guards what docs/RELIABILITY.md reports. Same code as ``python -m reliability.run``, smaller
counts: a few SIGKILLs, a few faults per class, a hundred deliveries under connection kills."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from jobs.outcomes import Outcome, OutcomeWriter
from reliability.r1_kills import run_r1
from reliability.r2_faults import CASES, run_r2
from reliability.r3_db_kills import run_r3
from reliability.r5_downtime import downtime_row, run_r5
from tests.conftest import PG_URL

R2_SUBSET = ("429 Too Many Requests", "connection dropped after the platform posted", "page token expired",
             "Graph API version expired", "group migrated", "transient error on every try")


def test_r1_random_kills_lose_nothing_and_post_nothing_twice(backend: str, tmp_path: Path) -> None:
    result = run_r1(backend, tmp_path, PG_URL, kills=3, workers=2, initial_items=8, items_per_kill=1,
                    tg_channels=2, fb_pages=1)
    assert result.kills == 3
    assert result.before_resolution is not None and result.before_resolution.unknown_not_surfaced == 0
    assert result.final is not None and result.final.duplicated == 0 and result.final.lost == 0
    assert result.final.states == {"sent": result.deliveries}, result


def test_r2_fault_classes_end_sent_once(backend: str, tmp_path: Path) -> None:
    cases = [c for c in CASES if c.fault.startswith(R2_SUBSET)]
    assert len(cases) >= len(R2_SUBSET)
    result = run_r2(backend, tmp_path, PG_URL, cases=cases)
    for row in result.rows:
        assert (row.final_state, row.posts) == ("sent", 1), row
    told = {r.fault.split(" (")[0]: r.told for r in result.rows}
    assert "admin (outlet_needs_human)" in told["page token expired"]
    assert "moderator (delivery_needs_person)" in told["connection dropped after the platform posted"]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PostgreSQL run skipped: HUB_TEST_DATABASE_URL is not set")
def test_r3_workers_survive_killed_connections(tmp_path: Path) -> None:
    result = run_r3(PG_URL, tmp_path, workers=2, channels=2, items=30, pause=(0.5, 1.0), timeout=120)
    assert result.connections_killed > 0
    assert result.ok, result


def test_outcome_write_is_retried_after_a_lost_connection() -> None:
    """The platform answered; a dropped connection must not turn that into `unknown`."""
    calls: list[int] = []

    async def flaky_db(fn: object) -> list[str | None]:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE deliveries", {}, Exception("server closed the connection unexpectedly"))
        return ["sent"]

    writer = OutcomeWriter(flaky_db, max_attempts=3, rng=None)  # type: ignore[arg-type]
    outcome = Outcome(job=None, at=None, result=object())  # type: ignore[arg-type]
    assert asyncio.run(writer.record(outcome)) == "sent"
    assert len(calls) == 3


def test_r5_ten_hours_down_posts_once_and_plans_no_duplicate_reminders(backend: str, tmp_path: Path) -> None:
    row = asyncio.run(downtime_row(backend, tmp_path, PG_URL, timedelta(hours=10), "10 hours"))
    assert row.posts_per_scheduled == {"+5 min": 1, "+2 h": 1, "+30 h": 0}
    assert row.second_restart_new_reminders == 0 and row.second_restart_new_posts == 0


def test_r5_two_days_down_skips_the_digest_visibly(tmp_path: Path) -> None:
    result = run_r5("sqlite", tmp_path, real=False, downtimes={"2 days": timedelta(days=2)})
    row = result.rows[0]
    assert row.reminders["weekly_digest"] == "1 skipped"
    assert any("passed while the hub was down" in note for note in row.notes)
    assert result.ok
