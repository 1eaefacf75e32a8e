"""Plan follow-up reminders: one occurrence per rule × person × period, ever.

Each pass computes who should be reminded now (set-based queries, so a whole country plans in
seconds), inserts the occurrences with ``ON CONFLICT DO NOTHING`` on the unique key, and queues
a DM only for the rows this pass actually inserted — so several planners on several processes,
or a planner restarted mid-pass, never remind anyone twice.

Periods coalesce downtime: daily rules use the Bangkok date (missed days fold into today's one
reminder); a quiet village is reminded once per quiet spell (the period is the date of its last
news); a weekly digest whose time passed long ago is recorded as ``skipped`` with a note.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from network_hub.areas import ancestors
from network_hub.db.models import (
    Area,
    Delivery,
    Member,
    NewsItem,
    Notification,
    Outlet,
    ReminderOccurrence,
    RoleGrant,
)
from network_hub.followup.quiet_hours import first_allowed
from network_hub.followup.rules import Rule, Thresholds
from network_hub.notifications import NotificationKind
from network_hub.states import AreaLevel, DeliveryState, ItemStatus, MemberStatus, OccurrenceState, Role

MAX_LISTED = 30  # how many villages/items one DM lists; the count says the rest


@dataclass
class Candidate:
    rule: str
    member_id: int
    subject: str
    period: str
    payload: dict[str, Any]
    state: str = OccurrenceState.PLANNED
    note: str | None = None


@dataclass
class PlanReport:
    considered: int = 0
    created: int = 0
    skipped: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


def _grants_by_area(session: Session, role: str) -> dict[str, list[int]]:
    rows = session.execute(
        select(RoleGrant.area_code, RoleGrant.member_id)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.role == role, Member.status == MemberStatus.ACTIVE)
    ).all()
    out: dict[str, list[int]] = defaultdict(list)
    for area, member in rows:
        out[area].append(member)
    return out


def _covering(grants: dict[str, list[int]], code: str) -> set[int]:
    return {m for a in ancestors(code) for m in grants.get(a, ())}


def _local_date(now: datetime, th: Thresholds) -> str:
    return now.astimezone(th.tz).date().isoformat()


def _listed(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(rows), "entries": rows[:MAX_LISTED]}


# -- the rules ----------------------------------------------------------------------------------
def quiet_villages(session: Session, now: datetime, th: Thresholds) -> list[Candidate]:
    last_news = (
        select(NewsItem.village_code.label("code"), func.max(NewsItem.submitted_at).label("last"))
        .group_by(NewsItem.village_code)
        .subquery()
    )
    rows = session.execute(
        select(Area.code, Area.name_th, Area.created_at, last_news.c.last)
        .outerjoin(last_news, last_news.c.code == Area.code)
        .where(Area.level == AreaLevel.VILLAGE)
    ).all()
    reporters = _grants_by_area(session, Role.REPORTER)
    coordinators = _grants_by_area(session, Role.COORDINATOR)
    out: list[Candidate] = []
    escalate: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    today = _local_date(now, th)
    for code, name, created_at, last in rows:
        since = last or created_at
        quiet_for = now - since
        if quiet_for < th.quiet_village:
            continue
        days = quiet_for.days
        spell = since.astimezone(th.tz).date().isoformat()
        # Reporters of the village itself or of its tambon are the ones to nudge.
        for member_id in {*reporters.get(code, ()), *reporters.get(code[:6], ())}:
            out.append(Candidate(Rule.QUIET_VILLAGE, member_id, f"village:{code}", spell,
                                 {"village": code, "village_name": name, "days": days,
                                  "last_news": last.isoformat() if last else None}))
        if quiet_for >= 2 * th.quiet_village:
            for area in ancestors(code):
                for member_id in coordinators.get(area, ()):
                    escalate[(member_id, area)].append({"village": code, "village_name": name, "days": days})
    for (member_id, area), villages in escalate.items():
        villages.sort(key=lambda v: -v["days"])
        out.append(Candidate(Rule.QUIET_VILLAGES_ESCALATION, member_id, f"area:{area}", today,
                             {"area": area, **_listed(villages)}))
    return out


def pending_approvals(session: Session, now: datetime, th: Thresholds) -> list[Candidate]:
    rows = session.execute(
        select(NewsItem.id, NewsItem.receipt_no, NewsItem.title, NewsItem.village_code, NewsItem.submitted_at)
        .where(NewsItem.status == ItemStatus.SUBMITTED, NewsItem.submitted_at <= now - th.pending_approval)
        .order_by(NewsItem.submitted_at)
    ).all()
    if not rows:
        return []
    moderators = _grants_by_area(session, Role.MODERATOR)
    coordinators = _grants_by_area(session, Role.COORDINATOR)
    per_mod: dict[int, list[dict[str, Any]]] = defaultdict(list)
    per_coord: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item_id, receipt, title, village, submitted in rows:
        waited = now - submitted
        entry = {"item_id": item_id, "receipt_no": receipt, "title": title[:80], "village": village,
                 "hours": int(waited.total_seconds() // 3600)}
        for member_id in _covering(moderators, village):
            per_mod[member_id].append(entry)
        if waited >= 2 * th.pending_approval:
            for member_id in _covering(coordinators, village):
                per_coord[member_id].append(entry)
    today = _local_date(now, th)
    return [Candidate(Rule.PENDING_APPROVAL, m, "queue", today, _listed(e)) for m, e in per_mod.items()] + [
        Candidate(Rule.PENDING_APPROVAL_ESCALATION, m, "queue", today, _listed(e)) for m, e in per_coord.items()]


def delivery_problems(session: Session, now: datetime, th: Thresholds) -> list[Candidate]:
    rows = session.execute(
        select(Delivery.id, Delivery.state, Delivery.last_error, NewsItem.receipt_no, NewsItem.village_code,
               Outlet.name)
        .join(NewsItem, NewsItem.id == Delivery.item_id)
        .join(Outlet, Outlet.id == Delivery.outlet_id)
        .where(Delivery.state.in_((DeliveryState.FAILED, DeliveryState.UNKNOWN)),
               Delivery.updated_at <= now - th.delivery_problem_age,
               NewsItem.status != ItemStatus.WITHDRAWN)
        .order_by(Delivery.id)
    ).all()
    if not rows:
        return []
    moderators = _grants_by_area(session, Role.MODERATOR)
    admins = _grants_by_area(session, Role.ADMIN)
    per_person: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for delivery_id, state, error, receipt, village, outlet in rows:
        entry = {"delivery_id": delivery_id, "state": state, "receipt_no": receipt, "outlet": outlet,
                 "error": (error or "")[:160]}
        for member_id in _covering(moderators, village) or _covering(admins, village):
            per_person[member_id].append(entry)
    today = _local_date(now, th)
    return [Candidate(Rule.DELIVERY_PROBLEMS, m, "deliveries", today, _listed(e)) for m, e in per_person.items()]


def outlets_needing_reconnect(session: Session, now: datetime, th: Thresholds) -> list[Candidate]:
    rows = session.execute(
        select(Outlet.id, Outlet.name, Outlet.platform, Outlet.area_code, Outlet.paused_reason)
        .where(Outlet.status == "paused", Outlet.paused_reason.like("needs a person%"))
    ).all()
    if not rows:
        return []
    admins = _grants_by_area(session, Role.ADMIN)
    today = _local_date(now, th)
    return [
        Candidate(Rule.OUTLET_NEEDS_RECONNECT, member_id, f"outlet:{oid}", today,
                  {"outlet_id": oid, "outlet": name, "platform": platform, "reason": (reason or "")[:300]})
        for oid, name, platform, area, reason in rows
        for member_id in _covering(admins, area)
    ]


def last_digest_time(now: datetime, th: Thresholds) -> datetime:
    """The most recent digest time at or before ``now`` (APScheduler's cron, named weekday)."""
    trigger = CronTrigger(day_of_week=th.digest_weekday, hour=th.digest_hour, minute=0, timezone=th.tz)
    fire = trigger.get_next_fire_time(None, now - timedelta(days=8))
    last = fire
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert last is not None
    return last


def _prefix_range(prefix: str) -> Any:
    if prefix == "TH":
        return True
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(NewsItem.village_code >= prefix, NewsItem.village_code < upper)


def digest_payload(session: Session, area: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Counts per village of ``area`` for [start, end): submitted, published, waiting now."""
    in_area = _prefix_range(area)
    q = (
        select(
            NewsItem.village_code,
            func.count().filter(and_(NewsItem.submitted_at >= start, NewsItem.submitted_at < end)),
            func.count().filter(and_(NewsItem.published_at >= start, NewsItem.published_at < end)),
            func.count().filter(NewsItem.status == ItemStatus.SUBMITTED),
            func.max(NewsItem.submitted_at),
        )
        .where(in_area)
        .group_by(NewsItem.village_code)
    )
    villages = [
        {"village": code, "submitted": sub, "published": pub, "waiting": wait,
         "last_news": last.isoformat() if last else None}
        for code, sub, pub, wait, last in session.execute(q).all()
    ]
    villages.sort(key=lambda v: (-v["submitted"], v["village"]))
    totals = {k: sum(v[k] for v in villages) for k in ("submitted", "published", "waiting")}
    from network_hub.line.share import least_shared  # LINE hook (issue 14): items shared least this week

    return {"area": area, "from": start.isoformat(), "to": end.isoformat(), "totals": totals,
            "villages": villages[:MAX_LISTED], "village_count": len(villages),
            "least_shared_on_line": least_shared(session, area, start, end)}


def weekly_digests(session: Session, now: datetime, th: Thresholds) -> list[Candidate]:
    fire = last_digest_time(now, th)
    iso = fire.astimezone(th.tz).isocalendar()
    period = f"{iso.year}-W{iso.week:02d}"
    stale = now - fire > th.digest_stale_after
    grants = session.execute(
        select(RoleGrant.member_id, RoleGrant.area_code)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.role == Role.COORDINATOR, Member.status == MemberStatus.ACTIVE)
        .order_by(RoleGrant.member_id, RoleGrant.area_code)
    ).all()
    out: list[Candidate] = []
    for member_id, area in grants:
        if stale:
            out.append(Candidate(Rule.WEEKLY_DIGEST, member_id, f"area:{area}", period, {"area": area},
                                 state=OccurrenceState.SKIPPED,
                                 note=f"digest time {fire.isoformat()} passed while the hub was down; skipped"))
        else:
            # The payload is computed only for occurrences this pass creates (see _insert).
            out.append(Candidate(Rule.WEEKLY_DIGEST, member_id, f"area:{area}", period,
                                 {"area": area, "_digest": [fire - timedelta(days=7), fire]}))
    return out


RULES = (quiet_villages, pending_approvals, delivery_problems, outlets_needing_reconnect, weekly_digests)
KIND_FOR = {Rule.WEEKLY_DIGEST: NotificationKind.DIGEST}


# -- inserting occurrences exactly once ------------------------------------------------------------
def _existing_keys(session: Session, candidates: list[Candidate]) -> set[tuple[str, int, str, str]]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for c in candidates:
        wanted[c.rule].add(c.period)
    keys: set[tuple[str, int, str, str]] = set()
    for rule, periods in wanted.items():
        plist = sorted(periods)
        for i in range(0, len(plist), 500):
            keys.update(tuple(row) for row in session.execute(
                select(ReminderOccurrence.rule, ReminderOccurrence.member_id, ReminderOccurrence.subject,
                       ReminderOccurrence.period)
                .where(ReminderOccurrence.rule == rule, ReminderOccurrence.period.in_(plist[i:i + 500]))
            ).all())
    return keys


def _chunks(rows: list[dict[str, Any]], size: int = 500) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _insert(session: Session, candidates: list[Candidate], now: datetime, th: Thresholds,
            report: PlanReport) -> None:
    existing = _existing_keys(session, candidates)
    fresh = [c for c in candidates if (c.rule, c.member_id, c.subject, c.period) not in existing]
    if not fresh:
        return
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    by_key = {(c.rule, c.member_id, c.subject, c.period): c for c in fresh}
    inserted: list[tuple[int, str, int, str, str]] = []
    rows = [{"rule": c.rule, "member_id": c.member_id, "subject": c.subject, "period": c.period,
             "state": c.state, "payload": {k: v for k, v in c.payload.items() if not k.startswith("_")},
             "note": c.note, "created_at": now} for c in by_key.values()]
    table = ReminderOccurrence.__table__
    for chunk in _chunks(rows):
        stmt = dialect_insert(table).values(chunk).on_conflict_do_nothing(
            index_elements=["rule", "member_id", "subject", "period"])
        inserted.extend(tuple(row) for row in session.execute(stmt.returning(
            table.c.id, table.c.rule, table.c.member_id, table.c.subject, table.c.period)).all())
    due = first_allowed(now, th.quiet_hours, th.tz)
    for occ_id, rule, member_id, subject, period in inserted:
        cand = by_key[(rule, member_id, subject, period)]
        report.by_rule[rule] = report.by_rule.get(rule, 0) + 1
        if cand.state == OccurrenceState.SKIPPED:
            report.skipped += 1
            continue
        payload = dict(cand.payload)
        if "_digest" in payload:
            start, end = payload.pop("_digest")
            payload = digest_payload(session, payload["area"], start, end)
            session.execute(table.update().where(table.c.id == occ_id).values(payload=payload))
        note = Notification(member_id=member_id, kind=KIND_FOR.get(rule, NotificationKind.REMINDER),
                            payload={"rule": rule, "occurrence_id": occ_id, **payload}, state="pending",
                            due_at=due, created_at=now)
        session.add(note)
        session.flush()
        session.execute(table.update().where(table.c.id == occ_id)
                        .values(notification_id=note.id, state=OccurrenceState.SENT))
        report.created += 1


def plan_reminders(session: Session, now: datetime, th: Thresholds) -> PlanReport:
    """One planning pass over every rule. Safe to run concurrently on several processes."""
    report = PlanReport()
    candidates: list[Candidate] = []
    for rule in RULES:
        candidates.extend(rule(session, now, th))
    report.considered = len(candidates)
    _insert(session, candidates, now, th, report)
    return report
