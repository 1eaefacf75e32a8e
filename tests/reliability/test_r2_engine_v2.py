"""The R2 rows of engine v2 (issue 11), each driven by the real dispatcher, publisher and
reconciler against the loopback Telegram fake, checked by counting what reached the fake:
a 429 on part 2 of a 3-part long Thai post resumes at part 2 (one whole post, nothing doubled),
and reconciliation by forwarding — found, absent (sent again exactly once), probe chat unreadable
(stays with a person)."""

from __future__ import annotations

from pathlib import Path

from reliability.r2_faults import ENGINE_V2_CASES, Case, Row, run_r2
from tests.conftest import PG_URL


def _run(backend: str, tmp_path: Path, fault: str) -> Row:
    cases: list[Case] = [c for c in ENGINE_V2_CASES if c.fault.startswith(fault)]
    assert len(cases) == 1, fault
    return run_r2(backend, tmp_path, PG_URL, cases=cases).rows[0]


def test_429_on_part_two_of_three_resumes_at_part_two_and_posts_one_whole_post(backend: str,
                                                                              tmp_path: Path) -> None:
    row = _run(backend, tmp_path, "429 (retry after 30 s) on part 2")
    assert row.after_fault.startswith("pending; 1 part(s) posted, 1 message(s) in the channel"), row
    assert row.told == "nobody"  # a definite refusal is not a person's job
    assert (row.final_state, row.posts) == ("sent", 1), row
    assert "NOT " not in row.checked and row.checks_ok, row.checked
    assert "the channel holds 3 message(s)" in row.checked
    assert "4 sendMessage calls" in row.checked
    assert row.attempts_counted <= 1  # the 429 is not counted as a failed attempt


def test_probe_finds_the_post_and_sends_nothing_again(backend: str, tmp_path: Path) -> None:
    row = _run(backend, tmp_path, "connection dropped after the platform posted (an earlier post known)")
    assert row.after_fault == "unknown"
    assert "moderator (delivery_needs_person)" in row.told
    assert row.ok, row
    assert "reconciliation: found 1" in row.checked and "sent again 0 time(s)" in row.checked
    assert "0 forwarded copies left in the probe chat" in row.checked


def test_probe_finds_nothing_past_the_end_and_the_post_is_sent_again_once(backend: str, tmp_path: Path) -> None:
    row = _run(backend, tmp_path, "connection dropped before the platform acted (an earlier post known)")
    assert row.after_fault == "unknown"
    assert row.ok, row
    assert "reconciliation: absent 1" in row.checked and "sent again 1 time(s)" in row.checked
    assert "pending after reconciliation" in row.checked


def test_probe_chat_unreadable_leaves_the_delivery_with_a_person(backend: str, tmp_path: Path) -> None:
    row = _run(backend, tmp_path, "connection dropped after the platform posted; the probe chat refuses the bot")
    assert row.after_fault == "unknown"
    assert "moderator (delivery_needs_person)" in row.told
    assert "reconciliation: undecided 1" in row.checked
    assert "unknown after reconciliation (stays with a person)" in row.checked
    assert row.ok and row.posts == 1 and "sent again 0 time(s)" in row.checked, row  # the moderator: posted
