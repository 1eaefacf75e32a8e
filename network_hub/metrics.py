"""Prometheus metrics read from the database at scrape time.

A custom collector instead of counters kept in memory: with several hub processes (web, workers)
on one database, only the database knows how many deliveries are due or how many sends failed,
so any process that serves ``/metrics`` reports the whole hub. Each scrape runs a handful of
grouped counts that indexes answer (deliveries by outlet and state, not joined to outlets) and
counts send attempts incrementally (``AttemptTally``: only the last hour's attempts are read
again), so a scrape stays cheap on a hub with 100,000 deliveries (bench/metrics_scrape.py); the
request-latency histogram is the only per-process series (web/metrics.py).

Series (all prefixed ``hub_``):

- ``deliveries{state,platform}``: deliveries by state and outlet platform;
- ``oldest_due_delivery_age_seconds``: how long the oldest due, unsent delivery has waited;
- ``send_attempts_total{platform,outcome}``: send attempts by outcome (``sent`` or an error class:
  retryable, rate_limited, ambiguous, needs_human, permanent);
- ``rate_limited_total{platform}``: attempts a platform refused with "too many requests" (429);
- ``unknown_deliveries_waiting``: deliveries whose outcome is unknown and wait for a person;
- ``items_waiting_for_approval``;
- ``line_quota_remaining_messages``: LINE messages left this month (NaN while unknown or LINE off),
  as LINE said at the last outlet check (``network_hub.line.quota``: daily and on demand), and
  ``line_quota_checked_timestamp_seconds``: when that was;
- ``reminder_occurrences{state}`` and ``reminder_occurrences_by_rule{rule,state}``;
- ``notifications{state}`` and ``dm_failures``: direct messages to members, failed or unreachable.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from network_hub.db.models import (
    Delivery,
    DeliveryAttempt,
    KeyValue,
    NewsItem,
    Notification,
    Outlet,
    ReminderOccurrence,
)
from network_hub.hub import Hub
from network_hub.states import (
    DeliveryState,
    ErrorClass,
    ItemStatus,
    NotificationState,
    OccurrenceState,
    Platform,
)

LINE_QUOTA_NAMESPACE = "line_quota_status"
DUE_STATES = (DeliveryState.PENDING, DeliveryState.RETRY_WAIT)
SETTLED_AFTER = timedelta(hours=1)  # an attempt's outcome is written long before this (AttemptTally)
JOIN_ABOVE = 5_000  # attempts: above this many in one read, join to deliveries instead of looking each up


def record_line_quota(session: Session, account: str, limit: int | None, used: int, now: datetime) -> None:
    """Remember what LINE last said about an Official Account's monthly quota (``limit`` None:
    unlimited), so ``/metrics`` can report it without calling LINE on every scrape."""
    row = session.get(KeyValue, (LINE_QUOTA_NAMESPACE, account))
    value = {"limit": limit, "used": used, "at": now.isoformat()}
    if row is None:
        session.add(KeyValue(namespace=LINE_QUOTA_NAMESPACE, key=account, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def line_quota_remaining(session: Session, now: datetime | None = None) -> float:
    """Messages left over every known LINE account; NaN when no account has reported one.

    A reading from an earlier quota month (Asia/Bangkok) counts nothing used: LINE starts again."""
    return line_quota_readings(session, now)[0]


def line_quota_readings(session: Session, now: datetime | None = None) -> tuple[float, float]:
    """(messages left over every known account, Unix time of the oldest reading); NaN, NaN when none."""
    remaining: float | None = None
    oldest = math.nan
    month = _bangkok_month(now) if now is not None else None
    for value in session.scalars(select(KeyValue.value).where(KeyValue.namespace == LINE_QUOTA_NAMESPACE)):
        if not isinstance(value, dict):
            continue
        at = _parse_time(value.get("at"))
        if at is not None:
            oldest = at.timestamp() if math.isnan(oldest) else min(oldest, at.timestamp())
        if value.get("limit") is None:
            remaining = math.inf
            continue
        used = int(value.get("used") or 0)
        if month is not None and at is not None and _bangkok_month(at) != month:
            used = 0
        remaining = (remaining or 0.0) + max(0, int(value["limit"]) - used)
    return (math.nan if remaining is None else remaining), oldest


def _bangkok_month(when: datetime) -> str:
    from network_hub.thai import BANGKOK

    return when.astimezone(BANGKOK).strftime("%Y-%m")


def _parse_time(value: object) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def snapshot(session: Session, now: datetime, tally: AttemptTally | None = None) -> dict[str, Any]:
    """Every number the collector reports, as plain data (also handy in tests).

    ``tally``: the collector's running count of send attempts (a fresh one counts them all)."""
    platform_of = dict(session.execute(select(Outlet.id, Outlet.platform)).all())
    deliveries: Counter[tuple[str, str]] = Counter()
    # Grouped by (outlet_id, state): the ix_deliveries_outlet_state index answers it alone, without
    # joining 100k deliveries to their outlets (the platform comes from the small outlets table).
    for outlet_id, state, count in session.execute(
            select(Delivery.outlet_id, Delivery.state, func.count()).group_by(Delivery.outlet_id, Delivery.state)):
        deliveries[(state, platform_of.get(outlet_id, "unknown"))] += count
    oldest_due = session.scalar(select(func.min(Delivery.due_at)).where(
        Delivery.state.in_(DUE_STATES), Delivery.due_at <= now,
        (Delivery.not_before.is_(None)) | (Delivery.not_before <= now)))
    if oldest_due is not None and oldest_due.tzinfo is None:
        oldest_due = oldest_due.replace(tzinfo=now.tzinfo)
    attempts: Counter[tuple[str, str]] = Counter()
    for (outlet_id, outcome), count in (tally or AttemptTally()).counts(session, now).items():
        attempts[(platform_of.get(outlet_id, "unknown"), outcome)] += count
    line_quota, line_quota_checked_at = line_quota_readings(session, now)
    return {
        "deliveries": dict(deliveries),
        "oldest_due_age_s": max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0,
        "attempts": dict(attempts),
        "unknown": sum(n for (state, _p), n in deliveries.items() if state == DeliveryState.UNKNOWN),
        "waiting_items": session.scalar(select(func.count()).select_from(NewsItem)
                                        .where(NewsItem.status == ItemStatus.SUBMITTED)) or 0,
        "line_quota": line_quota,
        "line_quota_checked_at": line_quota_checked_at,
        "reminders": dict(((rule, state), count) for rule, state, count in session.execute(
            select(ReminderOccurrence.rule, ReminderOccurrence.state, func.count())
            .group_by(ReminderOccurrence.rule, ReminderOccurrence.state))),
        "notifications": dict(session.execute(
            select(Notification.state, func.count()).group_by(Notification.state)).all()),
    }


class AttemptTally:
    """Send attempts by (outlet, outcome), counted incrementally across scrapes.

    ``delivery_attempts`` only grows, and an attempt's outcome is written when its send ends —
    within the send timeout, far less than ``SETTLED_AFTER``. So attempts that started more than
    ``SETTLED_AFTER`` ago are counted once into running totals (up to an id watermark: a primary
    key range, no new index) and each scrape counts only the attempts after the watermark: the
    last hour's, not the whole history. The first scrape of a process counts everything once.
    Staleness: none for outcomes written within the hour; an attempt still without an outcome
    after an hour (its process died mid-send) stays ``in_flight`` in this process's totals.
    Attempts deleted with their item stay counted until the process restarts (a counter never
    goes down; Prometheus treats the restart as a counter reset).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watermark = 0  # attempts with id ≤ watermark are in _totals
        self._totals: Counter[tuple[int, str]] = Counter()

    def counts(self, session: Session, now: datetime) -> Counter[tuple[int, str]]:
        a = DeliveryAttempt
        with self._lock:
            first_recent = session.scalar(select(func.min(a.id)).where(
                a.id > self._watermark, a.started_at >= now - SETTLED_AFTER))
            boundary = (first_recent - 1) if first_recent is not None else (
                session.scalar(select(func.max(a.id))) or self._watermark)
            if boundary > self._watermark:
                self._totals.update(_attempts_between(session, self._watermark, boundary))
                self._watermark = boundary
            result = Counter(self._totals)
            result.update(_attempts_between(session, self._watermark, None))
            return result


def _attempts_between(session: Session, after: int, up_to: int | None) -> Counter[tuple[int, str]]:
    """Attempts with ``after < id ≤ up_to`` by (outlet, outcome), a primary-key range of attempts.

    A short range (each scrape's last hour) looks each attempt's delivery up by its primary key; a
    long one (a process's first scrape folding the whole history) joins, which reads every
    delivery once instead of one lookup per attempt."""
    a = DeliveryAttempt
    where = [a.id > after] + ([a.id <= up_to] if up_to is not None else [])
    if up_to is not None and up_to - after > JOIN_ABOVE:
        query = (select(Delivery.outlet_id, a.outcome, func.count()).join(Delivery, Delivery.id == a.delivery_id)
                 .where(*where).group_by(Delivery.outlet_id, a.outcome))
    else:
        outlet = select(Delivery.outlet_id).where(Delivery.id == a.delivery_id).scalar_subquery()
        query = select(outlet, a.outcome, func.count()).where(*where).group_by(outlet, a.outcome)
    counts: Counter[tuple[int, str]] = Counter()
    for outlet_id, outcome, count in session.execute(query):
        counts[(outlet_id, outcome or "in_flight")] += count
    return counts


class HubCollector(Collector):
    """Reads the hub's database on every scrape (see the module docstring for the series)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tally = AttemptTally()

    def collect(self) -> Iterator[Metric]:
        with self.hub.sessions() as session:
            data = snapshot(session, self.hub.clock.now(), self.tally)

        deliveries = GaugeMetricFamily("hub_deliveries", "Deliveries by state and outlet platform",
                                       labels=["state", "platform"])
        platforms = sorted({p.value for p in Platform} | {p for _s, p in data["deliveries"]})
        for state in DeliveryState:
            for platform in platforms:
                deliveries.add_metric([state.value, platform], data["deliveries"].get((state.value, platform), 0))
        yield deliveries

        yield GaugeMetricFamily("hub_oldest_due_delivery_age_seconds",
                                "How long the oldest due, unsent delivery has waited", value=data["oldest_due_age_s"])

        attempts = CounterMetricFamily("hub_send_attempts", "Send attempts by platform and outcome "
                                       "(sent or the error class)", labels=["platform", "outcome"])
        outcomes = ["sent", *(e.value for e in ErrorClass)]
        seen_outcomes = sorted({o for _p, o in data["attempts"]} - set(outcomes))
        for platform in platforms:
            for outcome in (*outcomes, *seen_outcomes):
                attempts.add_metric([platform, outcome], data["attempts"].get((platform, outcome), 0))
        yield attempts

        limited = CounterMetricFamily("hub_rate_limited", "Sends a platform refused as too many requests (429)",
                                      labels=["platform"])
        for platform in platforms:
            limited.add_metric([platform], data["attempts"].get((platform, ErrorClass.RATE_LIMITED.value), 0))
        yield limited

        yield GaugeMetricFamily("hub_unknown_deliveries_waiting",
                                "Deliveries with an unknown outcome waiting for a person", value=data["unknown"])
        yield GaugeMetricFamily("hub_items_waiting_for_approval", "News items waiting for a moderator",
                                value=data["waiting_items"])
        yield GaugeMetricFamily("hub_line_quota_remaining_messages",
                                "LINE messages left this month over the known Official Accounts (NaN: unknown)",
                                value=data["line_quota"])
        yield GaugeMetricFamily("hub_line_quota_checked_timestamp_seconds",
                                "When LINE's quota was last read (the oldest reading over the accounts; outlet checks)",
                                value=data["line_quota_checked_at"])

        reminders = GaugeMetricFamily("hub_reminder_occurrences", "Reminder occurrences by state",
                                      labels=["state"])
        states = sorted({s.value for s in OccurrenceState} | {s for _r, s in data["reminders"]})
        for state in states:
            reminders.add_metric([state], sum(n for (_r, s), n in data["reminders"].items() if s == state))
        yield reminders
        by_rule = GaugeMetricFamily("hub_reminder_occurrences_by_rule", "Reminder occurrences by rule and state",
                                    labels=["rule", "state"])
        for (rule, state), count in sorted(data["reminders"].items()):
            by_rule.add_metric([rule, state], count)
        yield by_rule

        notifications = GaugeMetricFamily("hub_notifications", "Direct messages to members by state",
                                          labels=["state"])
        for state in NotificationState:
            notifications.add_metric([state.value], data["notifications"].get(state.value, 0))
        yield notifications
        failed = sum(data["notifications"].get(s, 0) for s in (NotificationState.FAILED, NotificationState.UNREACHABLE))
        yield GaugeMetricFamily("hub_dm_failures", "Direct messages that failed or could not reach the member",
                                value=failed)
