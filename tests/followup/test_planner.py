"""Follow-up planning with an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from network_hub.db.models import Area, NewsItem, Notification, Outlet, ReminderOccurrence
from network_hub.followup.planner import last_digest_time, plan_reminders
from network_hub.followup.quiet_hours import first_allowed, in_quiet_hours
from network_hub.followup.rules import Rule, Thresholds
from tests.engine.builders import add_approved_item, add_outlet
from tests.factories import seed_network


@pytest.fixture
def th(hub) -> Thresholds:
    return Thresholds.from_settings(hub.settings)


@pytest.fixture
def net(hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


def occurrences(hub, rule: str | None = None) -> list[ReminderOccurrence]:
    with hub.transaction() as s:
        q = select(ReminderOccurrence).order_by(ReminderOccurrence.id)
        if rule:
            q = q.where(ReminderOccurrence.rule == rule)
        return list(s.scalars(q))


def plan(hub, th):
    with hub.transaction() as s:
        return plan_reminders(s, hub.clock.now(), th)


def test_quiet_village_nudges_the_reporter_once_then_escalates(hub, net, th) -> None:
    hub.clock.advance(days=13)
    plan(hub, th)
    assert occurrences(hub, Rule.QUIET_VILLAGE) == []
    hub.clock.advance(days=1)
    plan(hub, th)
    plan(hub, th)  # a second pass (or a restart) reminds nobody twice
    quiet = occurrences(hub, Rule.QUIET_VILLAGE)
    assert sorted(o.member_id for o in quiet) == sorted([net.reporter.id, net.reporter2.id])
    hub.clock.advance(days=3)
    plan(hub, th)
    assert len(occurrences(hub, Rule.QUIET_VILLAGE)) == 2  # same quiet spell
    assert occurrences(hub, Rule.QUIET_VILLAGES_ESCALATION) == []
    hub.clock.advance(days=11)  # 28 days = 2N
    plan(hub, th)
    [esc] = occurrences(hub, Rule.QUIET_VILLAGES_ESCALATION)
    assert esc.member_id == net.coordinator.id
    assert {v["village"] for v in esc.payload["entries"]} == {"52010101", "52010102", "52010201"}


def test_news_starts_a_new_spell(hub, net, th) -> None:
    hub.clock.advance(days=14)
    plan(hub, th)
    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now(), net.reporter.id, [], village="52010101")
    hub.clock.advance(days=14)
    plan(hub, th)
    mine = [o for o in occurrences(hub, Rule.QUIET_VILLAGE) if o.member_id == net.reporter.id]
    assert len(mine) == 2 and mine[0].period != mine[1].period


def test_pending_approval_reminds_moderators_then_coordinators(hub, net, th) -> None:
    with hub.transaction() as s:
        item = add_approved_item(s, hub.clock.now(), net.reporter.id, [], status="submitted")
    hub.clock.advance(hours=23)
    plan(hub, th)
    assert occurrences(hub, Rule.PENDING_APPROVAL) == []
    hub.clock.advance(hours=2)
    plan(hub, th)
    [rem] = occurrences(hub, Rule.PENDING_APPROVAL)
    assert rem.member_id == net.moderator.id
    assert rem.payload["entries"][0]["item_id"] == item.id
    assert occurrences(hub, Rule.PENDING_APPROVAL_ESCALATION) == []
    hub.clock.advance(hours=24)
    plan(hub, th)
    [esc] = occurrences(hub, Rule.PENDING_APPROVAL_ESCALATION)
    assert esc.member_id == net.coordinator.id


def test_quiet_hours_delay_the_dm_and_never_drop_it(hub, net, th) -> None:
    # 22:30 Bangkok: inside 21:00-07:00
    hub.clock.set(datetime(2026, 12, 8, 15, 30, tzinfo=UTC))
    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now() - timedelta(hours=30), net.reporter.id, [], status="submitted")
    plan(hub, th)
    with hub.transaction() as s:
        note = s.scalar(select(Notification).where(Notification.member_id == net.moderator.id))
    assert note is not None and note.state == "pending"
    assert note.due_at == datetime(2026, 12, 9, 0, 0, tzinfo=UTC)  # 07:00 Bangkok


def test_quiet_hours_window_arithmetic(th) -> None:
    tz = th.tz
    assert in_quiet_hours(datetime(2026, 1, 1, 14, 0, tzinfo=UTC), th.quiet_hours, tz)  # 21:00
    assert not in_quiet_hours(datetime(2026, 1, 1, 0, 0, tzinfo=UTC), th.quiet_hours, tz)  # 07:00
    assert first_allowed(datetime(2026, 1, 1, 18, 0, tzinfo=UTC), th.quiet_hours, tz) == datetime(
        2026, 1, 2, 0, 0, tzinfo=UTC)
    noon = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert first_allowed(noon, th.quiet_hours, tz) == noon


def test_weekly_digest_once_per_coordinator_with_counts(hub, net, th) -> None:
    # Monday 7 December 2026, 08:05 Bangkok (digest at 08:00 on Mondays)
    hub.clock.set(datetime(2026, 12, 7, 1, 5, tzinfo=UTC))
    assert last_digest_time(hub.clock.now(), th) == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    with hub.transaction() as s:
        add_approved_item(s, hub.clock.now() - timedelta(days=2), net.reporter.id, [], village="52010101",
                          status="submitted")
    plan(hub, th)
    plan(hub, th)
    [digest] = occurrences(hub, Rule.WEEKLY_DIGEST)
    assert digest.member_id == net.coordinator.id and digest.period == "2026-W50"
    assert digest.payload["totals"]["submitted"] == 1
    with hub.transaction() as s:
        assert s.scalar(select(Notification.kind).where(Notification.id == digest.notification_id)) == "digest"


def test_digest_missed_during_long_downtime_is_skipped_visibly(hub, net, th) -> None:
    hub.clock.set(datetime(2026, 12, 8, 3, 0, tzinfo=UTC))  # Tuesday: Monday's digest is 26 h old
    plan(hub, th)
    [digest] = occurrences(hub, Rule.WEEKLY_DIGEST)
    assert digest.state == "skipped" and "passed while the hub was down" in digest.note
    assert digest.notification_id is None


def test_outlet_needing_a_person_reminds_admins_daily(hub, net, th) -> None:
    with hub.transaction() as s:
        outlet = add_outlet(s, hub.clock.now())
        o = s.get(Outlet, outlet.id)
        o.status, o.paused_reason = "paused", "needs a person: token expired"
    plan(hub, th)
    plan(hub, th)
    hub.clock.advance(days=1)
    plan(hub, th)
    rems = occurrences(hub, Rule.OUTLET_NEEDS_RECONNECT)
    assert [r.member_id for r in rems] == [net.admin.id, net.admin.id]
    assert rems[0].period != rems[1].period


def test_concurrent_planners_create_each_occurrence_once(hub, net, th, backend) -> None:
    if backend == "sqlite":
        pytest.skip("several planners on one database is a PostgreSQL deployment")
    hub.clock.advance(days=30)
    with hub.transaction() as s:
        for n in range(3, 40):
            s.add(Area(code=f"520101{n:02d}", level="village", name_th=f"บ้าน{n}", parent_code="520101",
                       created_at=hub.clock.now() - timedelta(days=60)))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def planner() -> None:
        try:
            barrier.wait()
            plan(hub, th)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=planner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    keys = [(o.rule, o.member_id, o.subject, o.period) for o in occurrences(hub)]
    assert len(keys) == len(set(keys))
    with hub.transaction() as s:
        notes = s.scalars(select(Notification.payload)).all()
    occ_ids = [n["occurrence_id"] for n in notes]
    assert len(occ_ids) == len(set(occ_ids)) == len([o for o in occurrences(hub) if o.state == "sent"])
    assert NewsItem is not None
