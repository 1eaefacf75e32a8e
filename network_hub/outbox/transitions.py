"""Delivery state rules: what each outcome of a send does to the delivery, its outlet and item.

    pending ─claim→ claimed ─start→ sending ─ok→ sent
                                       ├─retryable→ retry_wait (backoff) … → failed after max attempts
                                       ├─rate_limited→ pending (outlet blocked; not an attempt)
                                       ├─needs_human→ pending (outlet paused, admins told; not an attempt)
                                       ├─ambiguous→ unknown (never retried blindly)
                                       └─permanent→ failed
Every write is fenced (``queries.transition``): a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from network_hub import audit
from network_hub.areas import ancestors, village_label
from network_hub.db.models import Area, Delivery, DeliveryAttempt, NewsItem, Outlet, Photo
from network_hub.db.types import UTCDateTime
from network_hub.line.quota import tell_admins_once
from network_hub.line.retry_keys import assign_retry_keys
from network_hub.notifications import NotificationKind, enqueue
from network_hub.outbox import lifecycle, queries, sent_batch_pg
from network_hub.outbox.backoff import full_jitter
from network_hub.outbox.driver_sql import Db, DriverStatement, MultiRowInsert, connection_of, orm_session
from network_hub.outbox.rollup import roll_up_item
from network_hub.outbox.routing_people import admins_of_area, moderators_of_village
from network_hub.states import DeliveryState, ErrorClass, FollowupState, ItemStatus, OutletStatus

log = logging.getLogger(__name__)
S = DeliveryState
_UTC = UTCDateTime()
_D = Delivery.__table__
_T = DeliveryAttempt.__table__
_I = NewsItem.__table__
_O = Outlet.__table__
_P = Photo.__table__
_A = Area.__table__

# The hot path's statements, built once and run on the driver's cursor (``driver_sql``): a delivery
# pays for the database's work, not for constructing or executing statements (``bench/analysis.md``, B1).
_START_UPDATE = (
    update(_D)
    .where(tuple_(_D.c.id, _D.c.fence).in_(bindparam("s_pairs", expanding=True)),
           _D.c.state == S.CLAIMED.value,
           select(_I.c.id).where(_I.c.id == _D.c.item_id,
                                 tuple_(_I.c.id, _I.c.version).in_(bindparam("s_versions", expanding=True)),
                                 _I.c.status.in_(queries.POSTABLE_ITEM_STATES)).exists(),
           select(_O.c.id).where(_O.c.id == _D.c.outlet_id, _O.c.status == OutletStatus.ACTIVE.value,
                                 or_(_O.c.blocked_until.is_(None),
                                     _O.c.blocked_until <= bindparam("s_now", type_=_UTC))).exists())
    .values(state=S.SENDING.value, attempts=_D.c.attempts + 1, lease_until=bindparam("s_until", type_=_UTC),
            sending_started_at=bindparam("s_now", type_=_UTC), updated_at=bindparam("s_now", type_=_UTC))
    .returning(_D.c.id, _D.c.attempts)
)
_START = DriverStatement(_START_UPDATE)
_NEW_ATTEMPTS = MultiRowInsert(_T, ("delivery_id", "attempt_no", "fence", "worker", "started_at", "external_ids"),
                               returning=(_T.c.delivery_id, _T.c.id))
_ITEMS_PUBLISHING = DriverStatement(
    update(_I)
    .where(_I.c.id.in_(bindparam("s_items", expanding=True)),
           _I.c.status.in_((ItemStatus.APPROVED.value, ItemStatus.SCHEDULED.value)))
    .values(status=ItemStatus.PUBLISHING.value, updated_at=bindparam("s_now", type_=_UTC))
)
_SENT = DriverStatement(
    update(_D)
    .where(_D.c.id == bindparam("b_id"), _D.c.fence == bindparam("b_fence"), _D.c.state == S.SENDING.value)
    .values(state=S.SENT.value, external_ids=bindparam("b_ids"), permalink=bindparam("b_link"),
            sent_at=bindparam("b_now", type_=_UTC), lease_owner=None, lease_until=None, last_error=None,
            last_error_class=None, updated_at=bindparam("b_now", type_=_UTC))
)
# Which deliveries the ``_SENT`` executemany wrote, when its row count says not all (``sent_at`` is
# the batch's own stamp, so a row another writer moved to `sent` is not counted as this batch's).
_SENT_READ_BACK = DriverStatement(
    select(_D.c.id, _D.c.fence)
    .where(_D.c.id.in_(bindparam("r_ids", expanding=True)), _D.c.state == S.SENT.value,
           _D.c.sent_at == bindparam("r_now", type_=_UTC))
)
_ATTEMPT_SENT = DriverStatement(
    update(_T).where(_T.c.id == bindparam("b_attempt"))
    .values(finished_at=bindparam("b_now", type_=_UTC), outcome="sent", external_ids=bindparam("b_ids"))
)


# PostgreSQL: the whole start as one statement (one round trip instead of three) — the fenced UPDATE,
# the attempt rows and the items' ``publishing`` as data-modifying CTEs. Same effects as the three
# statements; SQLite has no data-modifying CTEs and runs those (its statements cost no round trip).
_STARTED = _START_UPDATE.returning(_D.c.fence, _D.c.item_id).cte("started")
_STARTED_ATTEMPTS = (
    insert(_T)
    .from_select(["delivery_id", "attempt_no", "fence", "worker", "started_at", "external_ids"],
                 select(_STARTED.c.id, _STARTED.c.attempts, _STARTED.c.fence, bindparam("s_worker", type_=String()),
                        bindparam("s_now", type_=_UTC),
                        bindparam("s_no_ids", [], type_=_T.c.external_ids.type, literal_execute=False)))
    .returning(_T.c.delivery_id, _T.c.id, _T.c.attempt_no)
    .cte("started_attempts")
)
_STARTED_ITEMS = (
    update(_I)
    .where(_I.c.id.in_(select(_STARTED.c.item_id)),
           _I.c.status.in_((ItemStatus.APPROVED.value, ItemStatus.SCHEDULED.value)))
    .values(status=ItemStatus.PUBLISHING.value, updated_at=bindparam("s_now", type_=_UTC))
    .cte("started_items")
)
_START_ONE_STATEMENT = DriverStatement(
    select(_STARTED_ATTEMPTS.c.delivery_id, _STARTED_ATTEMPTS.c.id, _STARTED_ATTEMPTS.c.attempt_no)
    .add_cte(_STARTED_ITEMS)
)
# PostgreSQL, with successes waiting for the group commit: the start and the `sent` batch
# (``sent_batch_pg``) in one statement, one round trip for both. They touch different rows: the
# start moves `claimed` rows, the batch `sending` ones; an item being started has a `claimed`
# delivery, so the batch never publishes it in the same statement.
_START_AND_SENT = DriverStatement(
    union_all(select(literal("started").label("kind"), _STARTED_ATTEMPTS.c.delivery_id.label("id"),
                     _STARTED_ATTEMPTS.c.id.label("attempt_id"), _STARTED_ATTEMPTS.c.attempt_no.label("attempt_no")),
              *sent_batch_pg.SENT_ROWS)
    .add_cte(_STARTED_ITEMS, *sent_batch_pg.SENT_CTES)
)


@dataclass
class SendJob:
    """Everything a worker needs to send one delivery, read in the ``sending`` transaction."""

    delivery_id: int
    fence: int
    attempt_id: int
    attempt_no: int
    outlet_id: int
    platform: str
    address: str
    outlet_name: str
    token_env: str | None
    token_file: str | None
    thai_digits: bool
    item_id: int
    receipt_no: str
    category: str
    title: str
    body: str
    attribution: dict[str, str]
    published_at: datetime
    photos: list[dict[str, Any]] = field(default_factory=list)  # sha256, path, telegram_file_id
    external_ids: list[str] = field(default_factory=list)  # ids posted so far (a resumed post: its parts)
    followup_action: str | None = None
    parts_done: int = 0  # calls of the post plan already done: the send resumes here
    line_retry_key: str | None = None  # LINE: X-Line-Retry-Key (network_hub.line.retry_keys)
    line_retry_key_at: datetime | None = None
    # The claim charged this send to the send ledger: its outcome closes the charge. False skips
    # that UPDATE (an unlimited outlet); a charge left open only counts until the lease ends.
    charged: bool = True
    item_version: int = 0  # the item as read for this job (a claim ahead starts only if it is unchanged)


@dataclass(frozen=True)
class JobKey:
    """What a SendJob is built from: a delivery row (or a claim candidate) and its attempt."""

    delivery_id: int
    item_id: int
    outlet_id: int
    fence: int = 0
    attempt_id: int = 0
    attempt_no: int = 0
    external_ids: tuple[str, ...] = ()
    followup_action: str | None = None
    parts_done: int = 0
    line_retry_key: str | None = None
    line_retry_key_at: datetime | None = None
    charged: bool = True


def load_jobs(session: Db, keys: list[JobKey], now: datetime, media_dir: Path) -> list[SendJob]:
    """Everything the sends of a batch need, in four Core queries (items, outlets, photos, areas)."""
    if not keys:
        return []
    return _build_jobs(session, keys, _item_rows(session, {k.item_id for k in keys}),
                       _outlet_rows(session, {k.outlet_id for k in keys}), now, media_dir)


# What a send job is built from, read in the claim's transaction (driver statements, see above).
_ITEM_ROWS = DriverStatement(select(
    _I.c.id, _I.c.status, _I.c.version, _I.c.receipt_no, _I.c.category, _I.c.title, _I.c.body, _I.c.village_code,
    _I.c.scheduled_at, _I.c.decided_at).where(_I.c.id.in_(bindparam("j_ids", expanding=True))))
_OUTLET_ROWS = DriverStatement(select(
    _O.c.id, _O.c.platform, _O.c.address, _O.c.name, _O.c.token_env, _O.c.token_file, _O.c.thai_digits,
    _O.c.status, _O.c.blocked_until).where(_O.c.id.in_(bindparam("j_ids", expanding=True))))
_PHOTO_ROWS = DriverStatement(
    select(_P.c.item_id, _P.c.sha256, _P.c.path, _P.c.telegram_file_id)
    .where(_P.c.item_id.in_(bindparam("j_ids", expanding=True))).order_by(_P.c.item_id, _P.c.position))
_AREA_ROWS = DriverStatement(select(_A.c.code, _A.c.level, _A.c.name_th, _A.c.is_community)
                             .where(_A.c.code.in_(bindparam("j_codes", expanding=True))))
_RESUME_ROWS = DriverStatement(select(
    _D.c.id, _D.c.external_ids, _D.c.parts_done, _D.c.followup_action, _D.c.line_retry_key,
    _D.c.line_retry_key_at).where(_D.c.id.in_(bindparam("j_ids", expanding=True))))


def _item_rows(session: Db, item_ids: set[int]) -> dict[int, Any]:
    return {r.id: r for r in _ITEM_ROWS.rows(session, {"j_ids": sorted(item_ids)})}


def _outlet_rows(session: Db, outlet_ids: set[int]) -> dict[int, Any]:
    return {o.id: o for o in _OUTLET_ROWS.rows(session, {"j_ids": sorted(outlet_ids)})}


def _build_jobs(session: Db, keys: list[JobKey], items: dict[int, Any], outlets: dict[int, Any],
                now: datetime, media_dir: Path) -> list[SendJob]:
    photos: dict[int, list[dict[str, Any]]] = {}
    for p in _PHOTO_ROWS.rows(session, {"j_ids": sorted({k.item_id for k in keys})}):
        photos.setdefault(p.item_id, []).append(
            {"sha256": p.sha256, "path": str(media_dir / p.path), "telegram_file_id": p.telegram_file_id})
    footers = _attributions(session, {i.village_code for i in items.values()})
    jobs = []
    for key in keys:
        item, outlet = items[key.item_id], outlets[key.outlet_id]
        jobs.append(SendJob(
            delivery_id=key.delivery_id, fence=key.fence, attempt_id=key.attempt_id, attempt_no=key.attempt_no,
            outlet_id=outlet.id, platform=outlet.platform, address=outlet.address, outlet_name=outlet.name,
            token_env=outlet.token_env, token_file=outlet.token_file, thai_digits=bool(outlet.thai_digits),
            item_id=item.id, receipt_no=item.receipt_no, category=item.category, title=item.title,
            body=item.body, attribution=footers[item.village_code],
            published_at=item.scheduled_at or item.decided_at or now,
            photos=[dict(p) for p in photos.get(item.id, [])],
            external_ids=list(key.external_ids),
            followup_action=key.followup_action,
            parts_done=key.parts_done,
            line_retry_key=key.line_retry_key, line_retry_key_at=key.line_retry_key_at,
            charged=key.charged,
        ))
    return jobs


def _attributions(session: Db, village_codes: set[str]) -> dict[str, dict[str, str]]:
    """``areas.attributions`` read with one Core query (the names of each village's chain)."""
    wanted = {code for v in village_codes for code in ancestors(v)}
    chain = {a.code: a for a in _AREA_ROWS.rows(session, {"j_codes": sorted(wanted)})}

    def name(code: str) -> str:
        return chain[code].name_th if code in chain else ""

    return {
        v: {
            "village": village_label(chain[v]) if v in chain else v,  # type: ignore[arg-type]
            "tambon": name(v[:6]),
            "district": name(v[:4]),
            "province": name(v[:2]),
        }
        for v in village_codes
    }


def _load_jobs(session: Session, rows: list[tuple[Delivery, DeliveryAttempt | None]], now: datetime,
               media_dir: Path) -> list[SendJob]:
    return load_jobs(session, [
        JobKey(delivery_id=d.id, item_id=d.item_id, outlet_id=d.outlet_id, fence=d.fence,
               attempt_id=a.id if a else 0, attempt_no=a.attempt_no if a else 0,
               external_ids=tuple(d.external_ids or []), followup_action=d.followup_action,
               parts_done=d.parts_done or 0,
               line_retry_key=d.line_retry_key, line_retry_key_at=d.line_retry_key_at)
        for d, a in rows], now, media_dir)


def prepare_jobs(session: Db, claims: list[queries.Claim], *, now: datetime, media_dir: Path) -> list[SendJob]:
    """The send jobs of claims, read once in the claim's transaction (claim ahead): items, outlets,
    photos, area names and the deliveries' resume fields, in Core queries. Nothing is written; the
    jobs are only sent after ``start_prepared`` marked them ``sending``, which also checks that
    what was read is still what would be sent (the item's version, the outlet's state)."""
    if not claims:
        return []
    rows = {r.id: r for r in _RESUME_ROWS.rows(session, {"j_ids": [c.delivery_id for c in claims]})}
    items = _item_rows(session, {c.item_id for c in claims})
    keys = [JobKey(delivery_id=c.delivery_id, item_id=c.item_id, outlet_id=c.outlet_id, fence=c.fence,
                   external_ids=tuple(rows[c.delivery_id].external_ids or []),
                   followup_action=rows[c.delivery_id].followup_action,
                   parts_done=rows[c.delivery_id].parts_done or 0,
                   line_retry_key=rows[c.delivery_id].line_retry_key,
                   line_retry_key_at=rows[c.delivery_id].line_retry_key_at, charged=c.charged)
            for c in claims if c.delivery_id in rows and c.item_id in items]
    jobs = _build_jobs(session, keys, items, _outlet_rows(session, {c.outlet_id for c in claims}), now, media_dir)
    for job in jobs:
        job.item_version = items[job.item_id].version
    return jobs


def claim_of(job: SendJob) -> queries.Claim:
    return queries.Claim(job.delivery_id, job.fence, job.outlet_id, job.item_id, job.charged)


def start_prepared(session: Db, jobs: list[SendJob], *, worker: str, now: datetime,
                   lease: timedelta, unstarted: list[SendJob] | None = None,
                   riding: sent_batch_pg.SentBatch | None = None) -> list[SendJob]:
    """claimed → sending for prepared jobs about to be sent now, counting an attempt each.

    The hot path is three statements on SQLite (one on PostgreSQL, the same three as CTEs): one
    fenced ``UPDATE … RETURNING`` of the deliveries that only starts a row whose item is still
    postable at the version read and whose outlet is still active and not blocked, one multi-row
    ``INSERT … RETURNING`` of the attempt rows, and the items' ``publishing`` status. A row it did
    not start is settled by ``settle_unstarted`` (here, or by the caller when it passes
    ``unstarted``): lease lost → skipped; item withdrawn → cancelled; anything else (an outlet
    blocked or paused since, an item edited since) → back to ``pending``, claimed again later.

    On PostgreSQL the one statement is atomic by itself, so the dispatcher runs it on an autocommit
    connection: one round trip, no BEGIN and COMMIT (``jobs/dispatch.py``). ``riding`` (PostgreSQL
    only): successes waiting for the group commit, written by the same statement (filled in).
    """
    if not jobs:
        return []
    lifecycle.check(S.CLAIMED, S.SENDING)
    conn = connection_of(session)
    params = {"s_pairs": [(j.delivery_id, j.fence) for j in jobs],
              "s_versions": sorted({(j.item_id, j.item_version) for j in jobs}),
              "s_now": now, "s_until": now + lease}
    if conn.dialect.name == "postgresql" and riding is not None and riding.sent:
        rows = _START_AND_SENT.rows(conn, {**params, "s_worker": worker, **riding.params()})
        riding.read(rows)
        attempts = {r.id: (r.attempt_id, r.attempt_no) for r in rows if r.kind == "started"}
    elif conn.dialect.name == "postgresql":
        # (delivery id → attempt id, attempt number) of the rows started, in one round trip
        attempts = {r.delivery_id: (r.id, r.attempt_no)
                    for r in _START_ONE_STATEMENT.rows(conn, {**params, "s_worker": worker})}
    else:
        started = {r.id: r.attempts for r in _START.rows(conn, params)}
        if started:
            ids = {r.delivery_id: r.id for r in _NEW_ATTEMPTS.rows(conn, [
                {"delivery_id": j.delivery_id, "attempt_no": started[j.delivery_id], "fence": j.fence,
                 "worker": worker, "started_at": now, "external_ids": []} for j in jobs if j.delivery_id in started])}
            _ITEMS_PUBLISHING.execute(conn, {"s_items": sorted({j.item_id for j in jobs if j.delivery_id in started}),
                                             "s_now": now})
            attempts = {d: (ids[d], n) for d, n in started.items()}
        else:
            attempts = {}
    if len(attempts) < len(jobs):
        not_started = [j for j in jobs if j.delivery_id not in attempts]
        if unstarted is None:
            settle_unstarted(session, not_started, now)
        else:  # the caller settles them in a transaction of its own (its connection autocommits)
            unstarted.extend(not_started)
    jobs = [j for j in jobs if j.delivery_id in attempts]
    if not jobs:
        return []
    for job in jobs:
        job.attempt_id, job.attempt_no = attempts[job.delivery_id]
    line = [job for job in jobs if job.platform == "line"]
    if line:
        # LINE: the X-Line-Retry-Key is stored before the send (ORM rows: rare, off the hot path)
        with orm_session(session) as orm:
            deliveries = {d.id: d for d in orm.scalars(
                select(Delivery).where(Delivery.id.in_([j.delivery_id for j in line]))
                .execution_options(populate_existing=True))}
            assign_retry_keys(line, deliveries, now)
    return jobs


def settle_unstarted(session: Db, jobs: list[SendJob], now: datetime) -> None:
    """Claims ``start_prepared`` did not start: why, and what becomes of each (see there)."""
    current = {r.id: r for r in session.execute(
        select(_D.c.id, _D.c.fence, _D.c.state, _I.c.status.label("item_status"))
        .join(_I, _I.c.id == _D.c.item_id).where(_D.c.id.in_([j.delivery_id for j in jobs]))).all()}
    release = []
    for job in jobs:
        row = current.get(job.delivery_id)
        if row is None or row.fence != job.fence or row.state != S.CLAIMED.value:
            continue  # the lease was lost: whoever holds it now decides
        if row.item_status not in queries.POSTABLE_ITEM_STATES:
            queries.transition(session, job.delivery_id, job.fence, (S.CLAIMED,), state=S.CANCELLED,
                               lease_owner=None, lease_until=None, updated_at=now,
                               last_error=f"not sent: the item is {row.item_status}")
        else:
            release.append(claim_of(job))
    queries.release_claims(session, release, now)


def start_sending_batch(session: Session, claims: list[queries.Claim], *, worker: str, now: datetime,
                        lease: timedelta, media_dir: Path) -> list[SendJob]:
    """claimed → sending for a batch about to be sent concurrently, counting an attempt each:
    ``prepare_jobs`` and ``start_prepared`` in one transaction.

    Claims whose lease was lost are skipped; claims of items withdrawn meanwhile are cancelled;
    claims of an outlet blocked or paused since the claim go back to ``pending``.
    """
    jobs = prepare_jobs(session, claims, now=now, media_dir=media_dir)
    read = {j.delivery_id for j in jobs}
    missing = [c for c in claims if c.delivery_id not in read]  # a row or item deleted meanwhile
    if missing:
        queries.release_claims(session, missing, now)
    return start_prepared(session, jobs, worker=worker, now=now, lease=lease)


def start_sending(session: Session, claim: queries.Claim, *, worker: str, now: datetime, lease: timedelta,
                  media_dir: Path) -> SendJob | None:
    """claimed → sending for one claim; None when the lease was lost or the item withdrawn."""
    jobs = start_sending_batch(session, [claim], worker=worker, now=now, lease=lease, media_dir=media_dir)
    return jobs[0] if jobs else None


def _finish_attempt(session: Session, job: SendJob, now: datetime, outcome: str, *,
                    code: str | None = None, message: str | None = None, ids: list[str] | None = None) -> None:
    if job.attempt_id:
        session.execute(
            update(DeliveryAttempt).where(DeliveryAttempt.id == job.attempt_id).values(
                finished_at=now, outcome=outcome, error_code=code, error_message=message, external_ids=ids or [])
        )


def record_sent(session: Session, job: SendJob, *, external_ids: list[str], permalink: str | None,
                photo_file_ids: dict[str, str], now: datetime, roll_up: bool = True) -> bool:
    """sending → sent (fenced). With ``roll_up=False`` the caller rolls the items up once per batch."""
    ok = queries.transition(
        session, job.delivery_id, job.fence, (S.SENDING,),
        state=S.SENT, external_ids=external_ids, permalink=permalink, sent_at=now,
        lease_owner=None, lease_until=None, last_error=None, last_error_class=None, updated_at=now,
    )
    if not ok:
        log.warning("delivery %s: lease lost before recording sent %s", job.delivery_id, external_ids)
        return False
    _finish_attempt(session, job, now, "sent", ids=external_ids)
    for sha, file_id in photo_file_ids.items():
        session.execute(update(Photo).where(Photo.item_id == job.item_id, Photo.sha256 == sha)
                        .values(telegram_file_id=file_id))
    if roll_up:
        roll_up_item(session, job.item_id, now)
    return True


def record_sent_batch(session: Db, sent: list[tuple[SendJob, Any]], *, now: datetime) -> set[int]:
    """``record_sent`` for many deliveries in a few statements; returns the ids recorded.

    One executemany UPDATE for the deliveries; when its row count says some fence moved, the rows
    are read back to know which ones it wrote (running the UPDATE again row by row would find the
    written ones no longer ``sending`` and call them lost); then the attempt rows. (PostgreSQL's
    dispatcher writes its batches of successes with ``sent_batch_pg`` instead: this path serves
    batches with failures, written with an ORM session.)
    """
    if not sent:
        return set()
    conn = connection_of(session)
    done = _record_sent_rows(conn, sent, now)
    record_photo_file_ids(conn, sent, done)
    return done


def record_photo_file_ids(conn: Any, sent: list[tuple[SendJob, Any]], done: set[int]) -> None:
    """Keep the Telegram file ids of photos just sent (a cache: the next post of the same photo
    sends the id instead of the file); warn about rows whose lease was lost."""
    for job, _ in sent:
        if job.delivery_id not in done:
            log.warning("delivery %s: lease lost before recording sent", job.delivery_id)
    photo_ids = [{"b_item": job.item_id, "b_sha": sha, "b_file": file_id}
                 for job, result in sent if job.delivery_id in done
                 for sha, file_id in result.photo_file_ids.items()]
    if photo_ids:
        t = Photo.__table__
        conn.execute(
            update(t).where(t.c.item_id == bindparam("b_item"), t.c.sha256 == bindparam("b_sha"))
            .values(telegram_file_id=bindparam("b_file")), photo_ids)


def _record_sent_rows(conn: Any, sent: list[tuple[SendJob, Any]], now: datetime) -> set[int]:
    params = [{"b_id": job.delivery_id, "b_fence": job.fence, "b_ids": result.external_ids,
               "b_link": result.permalink, "b_now": now} for job, result in sent]
    if _SENT.executemany(conn, params) == len(params):
        done = {job.delivery_id for job, _ in sent}
    else:
        mine = {(job.delivery_id, job.fence) for job, _ in sent}
        done = {r.id for r in _SENT_READ_BACK.rows(conn, {"r_ids": [p["b_id"] for p in params], "r_now": now})
                if (r.id, r.fence) in mine}
    attempts = [{"b_attempt": job.attempt_id, "b_ids": result.external_ids, "b_now": now}
                for job, result in sent if job.delivery_id in done and job.attempt_id]
    if attempts:
        _ATTEMPT_SENT.executemany(conn, attempts)
    return done


def record_failure(
    session: Session,
    job: SendJob,
    *,
    error_class: ErrorClass | str,
    message: str,
    now: datetime,
    code: str | int | None = None,
    retry_after: float | None = None,
    new_chat_id: int | None = None,
    partial_ids: list[str] | None = None,
    completed_calls: int = 0,
    max_attempts: int = 8,
    rng: random.Random | None = None,
) -> str | None:
    """Apply a classified failure; returns the delivery's new state (None if the lease was lost).

    A post refused midway (``partial_ids`` posted by this attempt, ``completed_calls`` plan calls
    done) by a *definite* refusal (RATE_LIMITED, RETRYABLE) stays resumable: the ids so far and
    the calls done are recorded and the next attempt starts at the refused call. Only a part whose
    outcome is truly unknown (AMBIGUOUS, or a publisher that cannot say where it stopped) makes
    the delivery ``unknown``.
    """
    error_class = ErrorClass(error_class)
    code_s = None if code is None else str(code)
    common: dict[str, Any] = {"lease_owner": None, "lease_until": None, "updated_at": now,
                              "last_error": message[:2000], "last_error_class": error_class.value}
    outlet = session.get(Outlet, job.outlet_id)
    assert outlet is not None
    not_an_attempt = {"attempts": queries.D.c.attempts - 1}
    done_calls = max(job.parts_done, completed_calls)
    # Messages residents can already see (calls done that posted nothing, such as Facebook's
    # unpublished photo uploads, leave no ids and do not make a post half-posted).
    posted_ids = [*job.external_ids, *(partial_ids or [])]
    resumable = bool(partial_ids) and completed_calls > job.parts_done and error_class in (
        ErrorClass.RATE_LIMITED, ErrorClass.RETRYABLE)
    if partial_ids or completed_calls > job.parts_done:
        # What is on the platform so far, whatever happens next (never posted again).
        common.update(external_ids=[*job.external_ids, *(partial_ids or [])], parts_done=done_calls)
        common["last_error"] = (f"posted {done_calls} part(s) of the post, then: {message}")[:2000]

    if partial_ids and not resumable:
        # Part of a multi-message post went out and where it stopped is not certain: retrying could
        # post a part twice.
        new_state = S.UNKNOWN
        values = {**common, "state": new_state,
                  "last_error": f"partly posted ({len(partial_ids)} message(s)) then: {message}"[:2000]}
    elif new_chat_id is not None:
        new_state = S.PENDING
        values = {**common, **not_an_attempt, "state": new_state}
    elif error_class is ErrorClass.RATE_LIMITED:
        new_state = S.PENDING
        wait = timedelta(seconds=max(1.0, float(retry_after or 30)))
        values = {**common, **not_an_attempt, "state": new_state, "not_before": now + wait}
    elif error_class is ErrorClass.NEEDS_HUMAN:
        new_state = S.PENDING
        values = {**common, **not_an_attempt, "state": new_state}
    elif error_class is ErrorClass.AMBIGUOUS:
        new_state = S.UNKNOWN
        values = {**common, "state": new_state}
    elif error_class is ErrorClass.RETRYABLE:
        attempts = session.scalar(select(Delivery.attempts).where(Delivery.id == job.delivery_id)) or 0
        if resumable:
            # The refused part is retried soon (half a post must not stay up): not counted as a
            # failed attempt of the whole post, and a short backoff.
            new_state = S.RETRY_WAIT
            values = {**common, **not_an_attempt, "state": new_state,
                      "not_before": now + min(full_jitter(1, rng), timedelta(seconds=5))}
        elif attempts >= max_attempts and posted_ids:
            new_state = S.UNKNOWN
            values = {**common, "state": new_state, "last_error": _half_posted(
                done_calls, posted_ids, f"gave up after {attempts} attempts", message)}
        elif attempts >= max_attempts:
            new_state = S.FAILED
            values = {**common, "state": new_state,
                      "last_error": f"gave up after {attempts} attempts: {message}"[:2000]}
        else:
            new_state = S.RETRY_WAIT
            values = {**common, "state": new_state, "not_before": now + full_jitter(attempts, rng)}
    elif posted_ids:  # permanent with part of the post already out: never `failed` half-posted
        new_state = S.UNKNOWN
        values = {**common, "state": new_state, "last_error": _half_posted(
            done_calls, posted_ids, "the platform refused the rest", message)}
    else:  # permanent, or anything unclassified
        new_state = S.FAILED
        values = {**common, "state": new_state}

    if not queries.transition(session, job.delivery_id, job.fence, (S.SENDING,), **values):
        log.warning("delivery %s: lease lost before recording %s", job.delivery_id, error_class)
        return None
    _finish_attempt(session, job, now, error_class, code=code_s, message=message, ids=partial_ids)

    if new_chat_id is not None:
        audit.record(session, at=now, action="outlet.chat_migrated", object_type="outlet", object_id=outlet.id,
                     before={"address": outlet.address}, after={"address": str(new_chat_id)})
        outlet.address = str(new_chat_id)
        outlet.updated_at = now
    elif error_class is ErrorClass.RATE_LIMITED:
        until = now + timedelta(seconds=max(1.0, float(retry_after or 30)))
        if outlet.blocked_until is None or outlet.blocked_until < until:
            outlet.blocked_until = until
            outlet.blocked_reason = f"rate limited by the platform: {message}"[:500]
        if code_s == "line_quota":  # LINE's month quota is spent: the area's admins hear it once a month
            tell_admins_once(session, outlet, message, now)
    elif error_class is ErrorClass.NEEDS_HUMAN:
        pause_for_human(session, outlet, message, now)
    if new_state == S.UNKNOWN:
        _tell_moderators(session, job, NotificationKind.DELIVERY_NEEDS_PERSON, now,
                         {"state": "unknown", "outlet": outlet.name, "platform": outlet.platform,
                          "delivery_id": job.delivery_id, "error": message[:300]})
    if new_state == S.FAILED:
        _tell_moderators(session, job, NotificationKind.DELIVERY_NEEDS_PERSON, now,
                         {"state": "failed", "outlet": outlet.name, "platform": outlet.platform,
                          "delivery_id": job.delivery_id, "error": message[:300]})
        roll_up_item(session, job.item_id, now)
    return new_state


def _half_posted(parts: int, ids: list[str], why: str, message: str) -> str:
    """The reason a person reads for a post left half-way: which parts are out, and why the rest is not."""
    return (f"half-posted: the first {parts} part(s) of the post are on the platform (message ids "
            f"{', '.join(ids) or 'not known'}); the rest was not posted ({why}: {message}). A person must "
            "finish the post (resolve as not posted: the hub sends only the missing parts) or remove "
            "the posted parts and resolve it as posted")[:2000]


def pause_for_human(session: Session, outlet: Outlet, reason: str, now: datetime) -> None:
    """Pause an outlet whose credentials or rights are broken, and tell the admins of its area once."""
    if outlet.status == OutletStatus.PAUSED:
        return
    outlet.status = OutletStatus.PAUSED
    outlet.paused_reason = f"needs a person: {reason}"[:1000]
    outlet.updated_at = now
    audit.record(session, at=now, action="outlet.paused", object_type="outlet", object_id=outlet.id,
                 after={"status": "paused"}, reason=outlet.paused_reason)
    for member_id in admins_of_area(session, outlet.area_code):
        enqueue(session, member_id=member_id, kind=NotificationKind.OUTLET_NEEDS_HUMAN, now=now,
                payload={"outlet_id": outlet.id, "outlet": outlet.name, "platform": outlet.platform,
                         "reason": reason[:300]})


def _tell_moderators(session: Session, job: SendJob, kind: str, now: datetime, payload: dict[str, Any]) -> None:
    village = session.scalar(select(NewsItem.village_code).where(NewsItem.id == job.item_id))
    for member_id in moderators_of_village(session, village or ""):
        enqueue(session, member_id=member_id, kind=kind, now=now, item_id=job.item_id,
                payload={**payload, "receipt_no": job.receipt_no})


def start_followup(session: Session, claim: queries.Claim, *, now: datetime, media_dir: Path) -> SendJob | None:
    delivery = session.get(Delivery, claim.delivery_id, populate_existing=True)
    if delivery is None or delivery.fence != claim.fence or delivery.followup_state != FollowupState.CLAIMED:
        return None
    return _load_jobs(session, [(delivery, None)], now, media_dir)[0]


def finish_followup(session: Session, job: SendJob, *, state: FollowupState | str, error: str | None,
                    now: datetime) -> bool:
    """Record the end of a correction/withdrawal: done, failed (with why) or unsupported."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == job.delivery_id, Delivery.fence == job.fence,
               Delivery.followup_state == FollowupState.CLAIMED)
        .values(followup_state=state, followup_error=error, lease_owner=None, lease_until=None, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    state = FollowupState(state)
    audit.record(session, at=now, action=f"delivery.{job.followup_action}_{state.value}", object_type="delivery",
                 object_id=job.delivery_id, reason=error)
    return True


def release_followup(session: Session, job: SendJob, *, now: datetime, delay: timedelta, error: str) -> None:
    """A retryable failure of a correction/withdrawal: try again later."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == job.delivery_id, Delivery.fence == job.fence,
               Delivery.followup_state == FollowupState.CLAIMED)
        .values(followup_state=FollowupState.PENDING, followup_error=error, lease_owner=None, lease_until=now + delay,
                updated_at=now)
    )
