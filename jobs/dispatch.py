"""The dispatcher: claims due deliveries, sends them through the publishers, records outcomes.

A pass is a pipeline: while there is room under ``concurrency``, claim more (a short
transaction that commits the lease before any network call), then for each claim:
``claimed → sending`` (fenced, counts an attempt), call the publisher with a timeout shorter
than the lease, and write the outcome (fenced). Database work runs in worker threads so the
event loop that also serves the bot and the web never blocks on it.

An approval calls ``wake()`` (from any thread) so its own process sends at once; other
processes find the work on their next tick.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import queue
import random
import socket
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jobs import crashpoints
from jobs.outcomes import Outcome, OutcomeWriter
from jobs.plans import PlanCost, plan_of, supports_resume
from jobs.posts import post_from_job, target_from_job
from network_hub.hub import Hub
from network_hub.outbox import ledger, queries, transitions
from network_hub.outbox.rollup import roll_up_items
from network_hub.outbox.sent_batch_pg import SentBatch
from network_hub.outbox.transitions import SendJob
from network_hub.states import FollowupState
from publishers.base import ErrorClass, Publisher, PublishError

log = logging.getLogger(__name__)
T = TypeVar("T")
# A free send slot waits at most this share of a send's duration for others to free up (bounds in s).
LINGER_SHARE = 0.1
LINGER_MIN_S, LINGER_MAX_S = 0.001, 0.02
# Due work a pass could not claim (another process's claim held it): the next look, in s.
DUE_NOW_RETRY_S = 0.1


class PublisherSource(Protocol):
    def get(self, platform: str) -> Publisher: ...


def process_identity() -> str:
    """host:pid:boot — unique per process run, readable in the status page."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class PassReport:
    claimed: int = 0
    sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    followups: int = 0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Dispatcher:
    def __init__(
        self,
        hub: Hub,
        publishers: PublisherSource,
        *,
        owner: str | None = None,
        concurrency: int | None = None,
        batch: int | None = None,
        lease: timedelta | None = None,
        send_timeout: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        s = hub.settings
        self.hub = hub
        self.publishers = publishers
        self.owner = owner or process_identity()
        self.concurrency = concurrency or s.dispatch_concurrency
        self.batch = batch or s.dispatch_batch
        self.lease = lease or timedelta(seconds=s.lease_seconds)
        # The publisher call must end well before the lease does, or a sweep could call it unknown.
        self.send_timeout = send_timeout or min(s.http_timeout_s * 2, self.lease.total_seconds() * 0.75)
        self.rng = rng or random.Random()
        self.media_dir = s.resolved_media_dir
        # SQLite has one writer: a single database thread per process avoids its busy-wait sleeps;
        # PostgreSQL takes parallel transactions up to the pool size.
        workers = 1 if hub.engine.dialect.name == "sqlite" else min(16, self.concurrency + 2)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch-db")
        self._postgres = hub.engine.dialect.name == "postgresql"
        # PostgreSQL: autocommit connections kept for starts and group commits (one statement each)
        self._autocommit_connections: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._connections_closed = False
        weakref.finalize(self, _close_all, self._autocommit_connections)
        self.outcomes = OutcomeWriter(self._db, max_attempts=s.max_attempts, rng=self.rng,
                                      run_connection=self._db_connection,
                                      run_autocommit=self._db_autocommit if self._postgres else None)
        # Sliding windows per chat and per bot (the send ledger), charged with each post's plan.
        self.limits = ledger.RateLimits.from_settings(s)
        self.cost = PlanCost(publishers, self.media_dir, hub.clock)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._send_s = 0.05  # a recent publisher call's duration (moving average), for the linger

    # -- database helpers ------------------------------------------------------------------
    async def _db(self, fn: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.hub.transaction() as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def _db_connection(self, fn: Callable[[Connection], T]) -> T:
        """``fn`` in a transaction on a plain Connection: the hot path's Core and driver statements
        need no ORM session, and skipping it saves its per-transaction and per-statement work."""
        def run() -> T:
            with self.hub.engine.begin() as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def _db_autocommit(self, fn: Callable[[Connection], T]) -> T:
        """PostgreSQL: ``fn`` on a kept autocommit connection (each statement commits itself: for
        work whose one statement is atomic, like ``sent_batch_pg``): one round trip, no BEGIN/COMMIT."""
        def run() -> T:
            with self._kept_autocommit() as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    @contextlib.contextmanager
    def _kept_autocommit(self) -> Iterator[Connection]:
        """An autocommit connection kept between calls (no pool checkout or pre-ping; made when
        none is free), put back after a call that ended normally; closed after an error (its state
        is unknown; the caller's retry takes a new one) or after ``close_connections``."""
        try:
            conn = self._autocommit_connections.get_nowait()
        except queue.Empty:
            conn = self.hub.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        if self._connections_closed:
            conn.close()
        else:
            self._autocommit_connections.put(conn)

    # -- waking --------------------------------------------------------------------------
    def wake(self) -> None:
        """Ask for a pass now; safe to call from any thread (e.g. a CLI or web approval)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    # -- one pass ------------------------------------------------------------------------
    async def run_once(self) -> PassReport:
        """Send everything due now (pacing and blocks permitting), then return."""
        self._loop = asyncio.get_running_loop()
        report = PassReport()
        await self._pipeline(report)
        await self._followups(report)
        return report

    async def _pipeline(self, report: PassReport) -> None:
        # A slot of ``concurrency`` is a publisher call in progress. It is freed when the platform
        # answers, not when the outcome is durable: outcomes are group-committed in the background
        # (each still durable before the pass ends), so the next send never waits for a commit.
        #
        # Claim ahead: a claim leases up to ``batch`` rows (`claimed`, kept in ``ahead``); a refill
        # marks `sending` only the rows it starts now. Several refills share one claim transaction,
        # and a row claimed ahead that never starts goes back to `pending` (released at the end of
        # the pass, or by the lease sweep after a crash) — it was never sent, so nothing is lost.
        in_flight: set[asyncio.Task[Outcome]] = set()
        finished = _Finished()
        recording: set[asyncio.Future[str | None]] = set()
        ahead: collections.deque[SendJob] = collections.deque()
        claim_more = True
        # Start in batches, not one slot at a time: each start is a transaction, and half-full
        # batches keep the database work per delivery small while the pipeline stays busy.
        refill_at = max(1, min(self.batch, self.concurrency) // 2)
        claiming_failed = False
        lingered = False
        try:
            while True:
                room = self.concurrency - len(in_flight)
                if ((claim_more or ahead) and (room >= refill_at or not in_flight or (lingered and room > 0))
                        and not self._stopping and not claiming_failed):
                    lingered = False
                    try:
                        jobs, claimed = await self._claim_and_start(ahead, room, claim_more, report)
                    except Exception:
                        # A lost database connection, say. The sends already in flight still have their
                        # outcomes recorded below (leaving them would turn known results into `unknown`);
                        # claiming resumes at the next pass.
                        log.exception("claiming failed; finishing the %d send(s) in flight", len(in_flight))
                        claiming_failed, jobs, claimed = True, [], 0
                    for job in jobs:
                        task = self._track(asyncio.create_task(self._send(job)))
                        task.add_done_callback(finished.signal)
                        in_flight.add(task)
                    # Nothing more was due when the claim found nothing: claim again once a send ends.
                    claim_more = claimed > 0 or (bool(jobs) and not ahead)
                if not in_flight:
                    break
                done = await finished.wait(in_flight)
                in_flight -= done
                if in_flight and self.concurrency - len(in_flight) < refill_at and (claim_more or ahead):
                    # Linger a little for more sends to end, so one start serves several slots; never
                    # longer than a small share of a send, so a free slot does not stay idle for long.
                    loop = asyncio.get_running_loop()
                    until = loop.time() + self._linger_s()
                    while in_flight and self.concurrency - len(in_flight) < refill_at and loop.time() < until:
                        more = await finished.wait(in_flight, until - loop.time())
                        if not more:
                            break
                        in_flight -= more
                        done |= more
                    lingered = True
                failures = []
                for task in done:
                    if task.cancelled():
                        continue
                    outcome = task.result()
                    if outcome.error is None:
                        # queued now (not from a task), so the next start's transaction can take it;
                        # counted when durable by a callback (no task per delivery on the event loop)
                        written = self.outcomes.submit(outcome)
                        recording.add(self._track(written))
                        written.add_done_callback(functools.partial(_counted, report))
                    else:
                        failures.append(outcome)
                # A failure may block or pause the outlet (429, a revoked token): that must be durable
                # before the next start, or the pass would start another send to the same outlet.
                for outcome in failures:
                    await self._track(asyncio.create_task(self._record(outcome, report)))
                if failures and ahead:
                    await self._release_ahead(ahead)  # claimed before the block: claim them again later
                claim_more = True
        finally:
            if ahead:
                await self._release_ahead(ahead)
            if recording:
                await asyncio.gather(*recording, return_exceptions=True)

    def _linger_s(self) -> float:
        """How long a pass waits for more free slots before starting fewer than half of them:
        ``LINGER_SHARE`` of a recent send's duration (so at most that share of a slot's time is idle)."""
        return min(LINGER_MAX_S, max(LINGER_MIN_S, self._send_s * LINGER_SHARE))

    def _track(self, task: asyncio.Future[T]) -> asyncio.Future[T]:
        """Remember a task (or an outcome's future) so ``stop()`` can wait for it."""
        self._in_flight.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._in_flight.discard)  # type: ignore[arg-type]
        return task

    async def _claim_and_start(self, ahead: collections.deque[SendJob], room: int, claim: bool,
                               report: PassReport) -> tuple[list[SendJob], int]:
        """Top up the jobs held ahead when fewer than ``room`` are held (one transaction claims
        and reads them), then mark ``sending`` the ``room`` oldest just before their calls (on
        SQLite a short transaction of three statements, on PostgreSQL one autocommitted
        statement: ``_start_autocommit``). Returns the jobs to send and how many rows were newly
        claimed.

        Outcomes of sends that just ended (successes queued for the group commit) are written with
        the start: on SQLite in its transaction, on PostgreSQL in its one statement (one round trip
        for both). If that fails before its commit they go back to the group commit, which writes
        them as usual."""
        taken = self.outcomes.take_successes()
        written: list[str | None] | None = None

        def work() -> tuple[list[SendJob], int]:
            nonlocal written
            claimed = 0
            if claim and len(ahead) < room:
                now = self.hub.clock.now()
                with self.hub.engine.begin() as s:  # Core and driver statements only: no ORM session
                    claims = queries.claim_due(s, owner=self.owner, now=now, lease=self.lease,
                                               limit=max(room, self.batch) - len(ahead), limits=self.limits,
                                               cost=self.cost)
                    prepared = transitions.prepare_jobs(s, claims, now=now, media_dir=self.media_dir)
                    unread = [c for c in claims if c.delivery_id not in {j.delivery_id for j in prepared}]
                    if unread:  # a row or item deleted under the claim: hand it back
                        queries.release_claims(s, unread, now)
                report.claimed += len(claims)
                claimed = len(claims)
                if claims:
                    crashpoints.reached("after_claim")
                ahead.extend(prepared)
            starting = [ahead.popleft() for _ in range(min(room, len(ahead)))]
            if not starting and (not taken or self._postgres):
                return [], claimed  # (PostgreSQL: nothing to start, the group commit writes them)
            if self._postgres and not any(job.platform == "line" for job in starting):
                riding = self.outcomes.sent_batch(taken)
                jobs = self._start_autocommit(starting, riding)
                written = riding.states() if riding is not None else []
            else:  # SQLite, or a batch with LINE jobs (their retry keys are written with the start)
                with self.hub.engine.begin() as s:
                    states = self.outcomes.write_taken(s, taken)
                    jobs = transitions.start_prepared(s, starting, worker=self.owner, now=self.hub.clock.now(),
                                                      lease=self.lease)
                written = states
            for _ in range(len(starting) - len(jobs)):
                report.count("skipped")
            if jobs:
                crashpoints.reached("after_sending")
            return jobs, claimed

        def settle_taken(_: object) -> None:
            # When the work has ended, not when this coroutine does: a cancelled pass must not give
            # back outcomes a still-running transaction then commits (they would be written twice).
            if written is not None:
                self.outcomes.settle(taken, written)
            else:
                self.outcomes.give_back(taken)

        running = asyncio.get_running_loop().run_in_executor(self._executor, work)
        running.add_done_callback(settle_taken)
        return await asyncio.shield(running)

    def _start_autocommit(self, starting: list[SendJob], riding: SentBatch | None = None) -> list[SendJob]:
        """PostgreSQL: claimed → sending as one autocommitted statement on a connection kept for
        starts (no pool checkout, no pre-ping, no BEGIN or COMMIT: a start is one round trip, and
        on a busy machine each round trip of a database thread costs milliseconds; bench/analysis.md,
        "B1"), with the ``riding`` successes written by the same statement. Rows it did not start
        are settled in a transaction of their own."""
        unstarted: list[SendJob] = []
        now = self.hub.clock.now()
        for attempt in (1, 2):
            try:
                with self._kept_autocommit() as conn:
                    jobs = transitions.start_prepared(conn, starting, worker=self.owner, now=now, lease=self.lease,
                                                      unstarted=unstarted, riding=riding)
                    if riding is not None:
                        self._finish_riding(conn, riding)
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                # The kept connections skip the pool's pre-ping: after a database restart they are
                # all dead. Drop them and try once more on a new one — safe, the start is fenced on
                # `claimed` and the fence, so a row it already started is not started again.
                _close_all(self._autocommit_connections)
                log.warning("a kept start connection was dropped (%s); starting on a new one", exc.orig)
        if unstarted:
            # The started rows are committed: from here nothing may raise for them, or they would
            # never be sent (and end `unknown`). Unsettled rows go back to `pending` at their lease's end.
            try:
                with self.hub.engine.begin() as s:
                    transitions.settle_unstarted(s, unstarted, now)
            except Exception:
                log.exception("could not settle %d deliveries the start did not start", len(unstarted))
        return jobs

    def _finish_riding(self, conn: Connection, riding: SentBatch) -> None:
        """After a start's statement also wrote ``riding``: the photos' file ids
        (``OutcomeWriter.after_sent_statement``), and the items it finished with a failed delivery
        rolled up in a transaction. The start is committed: nothing here may raise, and none of it
        has to (file ids are a cache; the roll-up sweep finishes an item whose roll-up was lost)."""
        OutcomeWriter.after_sent_statement(conn, riding)
        if riding.unsettled:
            try:
                with self.hub.transaction() as session:
                    roll_up_items(session, riding.unsettled, riding.now)
            except Exception:
                log.exception("could not roll up items %s; the roll-up sweep will", sorted(riding.unsettled))

    def close_connections(self) -> None:
        """Close the connections kept for starts (``stop()`` does; so does garbage collection);
        a start still running closes its own when it ends."""
        self._connections_closed = True
        _close_all(self._autocommit_connections)

    async def _release_ahead(self, ahead: collections.deque[SendJob]) -> None:
        """Hand back rows claimed ahead that will not be started in this pass (never sent)."""
        claims = [transitions.claim_of(job) for job in ahead]
        ahead.clear()
        now = self.hub.clock.now()
        try:
            await self._db(lambda s: queries.release_claims(s, claims, now))
        except Exception:  # the lease sweep returns them to `pending` when their lease ends
            log.exception("could not release %d deliveries claimed ahead", len(claims))

    async def _send(self, job: SendJob) -> Outcome:
        """The publisher call; never raises (a failure becomes the outcome's classified error).

        A delivery refused midway before (``parts_done`` > 0) resumes at the call that was refused,
        with the ids already posted, so no part is posted twice.
        """
        try:
            publisher = self.publishers.get(job.platform)
            target = target_from_job(job)
            post = post_from_job(job)
            if job.parts_done and supports_resume(publisher):
                call = publisher.publish(post, target, start_at=job.parts_done,
                                         prior_external_ids=tuple(job.external_ids))
            elif job.parts_done:
                raise PublishError(ErrorClass.AMBIGUOUS, f"{job.parts_done} part(s) of this post were posted "
                                   "before and this publisher cannot resume a post; a person must finish it")
            else:
                call = publisher.publish(post, target)
            began = time.monotonic()
            # (``asyncio.timeout``, not ``wait_for``: no extra task per send on the event loop)
            async with asyncio.timeout(self.send_timeout):
                result = await call
            self._send_s += (time.monotonic() - began - self._send_s) * 0.1
        except PublishError as exc:
            return self._failure(job, exc)
        except TimeoutError:
            return self._failure(job, PublishError(
                ErrorClass.AMBIGUOUS, f"no answer within {self.send_timeout:.0f}s; the post may exist"))
        except Exception as exc:  # a bug after the request may have gone out: never retry blindly
            log.exception("delivery %s: unexpected error from the %s publisher", job.delivery_id, job.platform)
            return self._failure(job, PublishError(
                ErrorClass.AMBIGUOUS, f"unexpected {type(exc).__name__}: {exc}"))
        crashpoints.reached("after_platform_accepted")
        if job.external_ids and result.external_ids[:len(job.external_ids)] != job.external_ids:
            # a resumed post: the delivery keeps every id of the post, the earlier parts first
            result.external_ids = [*job.external_ids, *result.external_ids]
        return Outcome(job, self.hub.clock.now(), result=result)

    def _failure(self, job: SendJob, exc: PublishError) -> Outcome:
        log.warning("delivery %s to outlet %s (%s): %s", job.delivery_id, job.outlet_id, job.platform, exc)
        # The post plan says what a refusal cost against the windows; it is made only for failures
        # (a successful send keeps its whole charge), so the hot path never plans a post twice.
        plan = None
        if job.charged and exc.error_class in _DEFINITE:
            try:
                plan = plan_of(self.publishers.get(job.platform), job)
            except Exception:  # an unknown platform: no plan, the charge is kept
                plan = None
        return Outcome(job, self.hub.clock.now(), error=exc, sent_messages=_messages_sent(job, exc, plan))

    async def _record(self, outcome: Outcome, report: PassReport) -> None:
        written = self.outcomes.submit(outcome)
        with contextlib.suppress(Exception):  # counted as not recorded below
            await asyncio.shield(written)
        _counted(report, written)

    # -- corrections and withdrawals ----------------------------------------------------------
    async def _followups(self, report: PassReport) -> None:
        now = self.hub.clock.now()
        claims = await self._db(lambda s: queries.claim_followups(
            s, owner=self.owner, now=now, lease=self.lease, limit=self.batch))
        await asyncio.gather(*(self._followup(c, report) for c in claims))

    async def _followup(self, claim: queries.Claim, report: PassReport) -> None:
        now = self.hub.clock.now()
        job = await self._db(lambda s: transitions.start_followup(s, claim, now=now, media_dir=self.media_dir))
        if job is None:
            return
        report.followups += 1
        error: PublishError | None = None
        try:
            publisher = self.publishers.get(job.platform)
            target = target_from_job(job)
            if job.followup_action == "delete":
                await asyncio.wait_for(publisher.delete(job.external_ids, target), timeout=self.send_timeout)
            else:
                await asyncio.wait_for(publisher.edit(job.external_ids, post_from_job(job), target),
                                       timeout=self.send_timeout)
        except PublishError as exc:
            error = exc
        except TimeoutError:
            error = PublishError(ErrorClass.RETRYABLE, "no answer in time; will try again")
        except Exception as exc:
            log.exception("follow-up %s of delivery %s failed unexpectedly", job.followup_action, job.delivery_id)
            error = PublishError(ErrorClass.RETRYABLE, f"unexpected {type(exc).__name__}: {exc}")
        done = self.hub.clock.now()
        if error is None:
            await self._db(lambda s: transitions.finish_followup(s, job, state=FollowupState.DONE, error=None,
                                                                 now=done))
            return
        log.warning("follow-up %s of delivery %s: %s", job.followup_action, job.delivery_id, error)

        def record(session: Session, err: PublishError = error) -> None:
            if err.error_class is ErrorClass.PERMANENT:
                transitions.finish_followup(session, job, state=FollowupState.FAILED, error=err.message,
                                             now=done)
                return
            if err.error_class is ErrorClass.NEEDS_HUMAN:
                from network_hub.db.models import Outlet

                outlet = session.get(Outlet, job.outlet_id)
                if outlet is not None:
                    transitions.pause_for_human(session, outlet, err.message, done)
            delay = timedelta(seconds=err.retry_after or 60)
            transitions.release_followup(session, job, now=done, delay=delay, error=err.message)

        await self._db(record)

    # -- the long-running loop ---------------------------------------------------------------
    async def serve(self, interval: float) -> None:
        """Run passes until ``stop()``: after each pass, wait for a wake-up or the interval.

        The wake-up flag is cleared as a pass *starts*: a wake-up that arrives during the pass
        (work committed after its claim looked) stays set and starts the next pass as soon as this
        one ends, without first asking the database how long to sleep. A wake-up is only a hint,
        so clearing it before the claim loses nothing: the claim sees everything committed so far.
        """
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("dispatch pass failed; trying again in %.0fs", interval)
            if self._stopping:
                break
            if self._wake.is_set():
                continue  # woken while the pass ran: look again now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=await self._sleep_for(interval))

    async def _sleep_for(self, interval: float) -> float:
        """Until the next delivery may be claimed (pacing, blocks, backoff), at most ``interval``."""
        try:
            now = self.hub.clock.now()
            at = await self._db(lambda s: queries.next_wakeup(s, now))
        except Exception:
            log.exception("could not compute the next wake-up; using the tick")
            return interval
        if at is None:
            return interval
        if at <= now:  # due work another process's claim held: look again soon, not at the tick
            return min(interval, DUE_NOW_RETRY_S)
        return min(interval, max(0.02, (at - now).total_seconds()))

    async def stop(self, deadline: float = 20.0) -> None:
        """Stop claiming; let in-flight sends finish within ``deadline``; hand back unstarted claims."""
        self._stopping = True
        self.wake()
        # A send that finishes starts the recording of its outcome: wait for those too, or the
        # executor would be shut down under them and known results would become `unknown`.
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while (pending := [t for t in self._in_flight if not t.done()]) and loop.time() < end:
            await asyncio.wait(pending, timeout=end - loop.time())
            for _ in range(3):
                await asyncio.sleep(0)  # let the pipeline start the recordings of what just finished
        for task in [t for t in self._in_flight if not t.done()]:
            task.cancel()  # its lease expires; the sweep marks it unknown (it may have posted)
        now = self.hub.clock.now()
        released = await self._db(lambda s: queries.release_owned(s, self.owner, now))
        if released:
            log.info("released %d claimed deliveries on shutdown", released)
        self._executor.shutdown(wait=False)
        self.close_connections()


class _Finished:
    """Waiting for sends to end. Each send signals when it ends (a done-callback), so waiting costs
    O(1) per send; ``asyncio.wait`` would add and remove a callback on every task in flight each time
    the pipeline waits. What ended is read off the tasks themselves (at most ``concurrency``), so
    sends that ended in the same turn of the event loop are taken together."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def signal(self, _task: asyncio.Task[Outcome]) -> None:
        self._event.set()

    async def wait(self, in_flight: set[asyncio.Task[Outcome]],
                   timeout: float | None = None) -> set[asyncio.Task[Outcome]]:
        """The sends of ``in_flight`` that have ended, once one has; empty if ``timeout`` passed first."""
        done = {task for task in in_flight if task.done()}
        if done or not in_flight:
            return done
        self._event.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            return set()
        return {task for task in in_flight if task.done()}


def _counted(report: PassReport, written: asyncio.Future[str | None]) -> None:
    """Count an outcome once its write has ended (a done-callback, or after awaiting it)."""
    if written.cancelled() or written.exception() is not None:
        # already logged by the writer; the lease sweep makes it `unknown`
        report.count("not_recorded")
        return
    state = written.result()
    report.count(state or "lease_lost")
    if state == "sent":
        report.sent += 1
        crashpoints.reached("after_sent")


def _close_all(connections: queue.SimpleQueue[Connection]) -> None:
    while True:
        try:
            conn = connections.get_nowait()
        except queue.Empty:
            return
        with contextlib.suppress(Exception):
            conn.close()


_DEFINITE = (ErrorClass.RATE_LIMITED, ErrorClass.RETRYABLE, ErrorClass.PERMANENT, ErrorClass.NEEDS_HUMAN)


def _messages_sent(job: SendJob, exc: PublishError, plan: object | None) -> int | None:
    """What a failed send really cost against the chat's windows, when the outcome is definite
    (a refusal: the calls before ``completed_calls``); None keeps the whole charge (unknown)."""
    if exc.error_class not in _DEFINITE:
        return None
    calls = getattr(plan, "calls", None)
    if calls is None:
        return None if exc.partial_external_ids else 0
    done = max(job.parts_done, exc.completed_calls)
    return sum(c.messages for c in calls[job.parts_done:done])
