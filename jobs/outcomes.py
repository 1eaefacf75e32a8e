"""Group commit of send outcomes: the dispatcher's sends finish one by one, but their results are
written in as few transactions as the database allows — whatever arrived while the previous batch
was committing goes into the next one. Each send still waits until its own outcome is durable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from network_hub.outbox import ledger, transitions
from network_hub.outbox.driver_sql import Db
from network_hub.outbox.rollup import roll_up_items
from network_hub.outbox.sent_batch_pg import SentBatch, record_sent_and_roll_up
from network_hub.outbox.transitions import SendJob
from publishers.base import PublishError, PublishResult

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 200
GATHER_S = 0.003
# Backoff between outcome-write attempts after a lost connection (about 6 s in all, well inside
# a lease, so the lease sweep does not call the delivery `unknown` meanwhile).
RETRY_DELAYS_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


@dataclass
class Outcome:
    job: SendJob
    at: datetime
    result: PublishResult | None = None
    error: PublishError | None = None
    # A refused send: the messages that really went out (None: keep the whole charge).
    sent_messages: int | None = None


class OutcomeWriter:
    def __init__(self, run_db: Callable[[Callable[[Session], T]], Awaitable[T]], *, max_attempts: int,
                 rng: object,
                 run_connection: Callable[[Callable[[Connection], T]], Awaitable[T]] | None = None,
                 run_autocommit: Callable[[Callable[[Connection], T]], Awaitable[T]] | None = None) -> None:
        self._run_db = run_db
        # Batches of successes only need Core and driver statements: a plain Connection is cheaper.
        self._run_connection = run_connection
        # PostgreSQL: a batch of successes is one atomic statement (``sent_batch_pg``), autocommitted.
        self._run_autocommit = run_autocommit
        self._max_attempts = max_attempts
        self._rng = rng
        self._pending: list[tuple[Outcome, asyncio.Future[str | None]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def record(self, outcome: Outcome) -> str | None:
        """Write the outcome (with others arriving meanwhile); returns the delivery's new state,
        or None when this worker had lost its lease."""
        return await self.submit(outcome)

    def submit(self, outcome: Outcome) -> asyncio.Future[str | None]:
        """Queue the outcome for the next group commit; the future gets the delivery's new state."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        self._ensure_drainer()
        return future

    def _ensure_drainer(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    # -- riding along with the dispatcher's next start -------------------------------------
    def take_successes(self) -> list[tuple[Outcome, asyncio.Future[str | None]]]:
        """The queued outcomes, when all are successes, for the caller to write in a transaction it
        runs anyway (the dispatcher's next ``claimed → sending``), saving a transaction each.
        The caller must then ``settle`` them after its commit, or ``give_back`` them if it failed
        before committing (they are then written by the group commit as usual)."""
        if not self._pending or any(o.result is None for o, _ in self._pending):
            return []
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        return batch

    def write_taken(self, connection: Connection, batch: list[tuple[Outcome, asyncio.Future[str | None]]]
                    ) -> list[str | None]:
        """Write taken successes in the caller's transaction (database thread)."""
        return self._apply(connection, [o for o, _ in batch]) if batch else []

    @staticmethod
    def sent_batch(batch: list[tuple[Outcome, asyncio.Future[str | None]]]) -> SentBatch | None:
        """PostgreSQL: taken successes as the batch a start's statement writes beside it."""
        if not batch:
            return None
        outcomes = [o for o, _ in batch]
        return SentBatch([(o.job, o.result) for o in outcomes], max(o.at for o in outcomes),
                         charges=[(o.job.delivery_id, o.job.fence, o.at, None) for o in outcomes if o.job.charged])

    @staticmethod
    def after_sent_statement(conn: Connection, batch: SentBatch) -> None:
        """After the one statement wrote ``batch`` (autocommit connection): the photos' Telegram
        file ids kept (a cache, in a statement of its own; most batches have none). The batch is
        committed by then, so a failure is only logged: raising would make the writer retry a batch
        already written (and call its deliveries lease-lost), or fail a committed start."""
        try:
            transitions.record_photo_file_ids(conn, batch.sent, batch.done)
        except Exception:
            log.exception("could not keep the photo file ids of %d sends", len(batch.sent))

    @staticmethod
    def settle(batch: list[tuple[Outcome, asyncio.Future[str | None]]], states: list[str | None]) -> None:
        for (_, future), state in zip(batch, states, strict=True):
            if not future.done():
                future.set_result(state)

    def give_back(self, batch: list[tuple[Outcome, asyncio.Future[str | None]]]) -> None:
        """Taken outcomes whose transaction did not commit: the group commit writes them."""
        if batch:
            self._pending[:0] = batch
            self._ensure_drainer()

    async def _drain(self) -> None:
        await asyncio.sleep(GATHER_S)  # let the sends finishing right now join this transaction
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                states = await self._write(batch)
            except Exception as exc:
                # The transaction rolled back: nothing of this batch was written. The deliveries stay
                # `sending`; the lease sweep turns them `unknown` — never resent blindly.
                log.exception("could not record %d send outcomes", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), state in zip(batch, states, strict=True):
                if not future.done():
                    future.set_result(state)

    async def _write(self, batch: list[tuple[Outcome, asyncio.Future[str | None]]]) -> list[str | None]:
        """Write a batch, again after a lost database connection: the platform has answered, so
        giving up here would turn a known result into an `unknown` for a person to settle. Each
        write is fenced, so a retry after a commit whose answer was lost changes nothing."""
        outcomes = [o for o, _ in batch]
        successes = all(o.result is not None for o in outcomes)
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            try:
                if successes and self._run_autocommit is not None:
                    states, unsettled = await self._run_autocommit(lambda c: self._apply_autocommitted(c, outcomes))
                    await self._roll_up_unsettled(unsettled, max(o.at for o in outcomes))
                    return states
                if self._run_connection is not None and successes:
                    return await self._run_connection(lambda c: self._apply(c, outcomes))
                return await self._run_db(lambda s: self._apply(s, outcomes))
            except DBAPIError as exc:
                if attempt == len(RETRY_DELAYS_S) or not _transient(exc):
                    raise
                log.warning("database connection lost while recording %d send outcomes (%s); "
                            "retrying the outcome write in %.1fs", len(batch), type(exc.orig).__name__,
                            RETRY_DELAYS_S[attempt])
                await asyncio.sleep(RETRY_DELAYS_S[attempt])
        raise AssertionError("unreachable")

    @staticmethod
    def _apply_autocommitted(conn: Connection, outcomes: list[Outcome]) -> tuple[list[str | None], set[int]]:
        """PostgreSQL, successes only, on an autocommit connection: the deliveries, their attempt
        rows, their ledger charges and the items they complete in one statement; then the photo
        file ids. Returns the states and the items still to roll up."""
        batch = OutcomeWriter.sent_batch([(o, None) for o in outcomes])  # type: ignore[misc]
        assert batch is not None
        record_sent_and_roll_up(conn, batch)
        OutcomeWriter.after_sent_statement(conn, batch)
        return batch.states(), batch.unsettled

    async def _roll_up_unsettled(self, items: set[int], now: datetime) -> None:
        """Items an autocommitted batch finished with a failed delivery: ``roll_up_item``'s path
        (partially published or failed, moderators told) in a transaction. The sends are already
        recorded, so a failure here is only logged: the roll-up sweep finishes these items."""
        if not items:
            return
        try:
            await self._run_db(lambda s: roll_up_items(s, items, now))
        except Exception:
            log.exception("could not roll up items %s; the roll-up sweep will", sorted(items))

    def _apply(self, session: Db, outcomes: list[Outcome]) -> list[str | None]:
        sent = [o for o in outcomes if o.result is not None]
        sent_ok = transitions.record_sent_batch(
            session, [(o.job, o.result) for o in sent], now=max(o.at for o in outcomes))  # type: ignore[misc]
        states: list[str | None] = []
        for o in outcomes:
            if o.result is not None:
                states.append("sent" if o.job.delivery_id in sent_ok else None)
                continue
            assert o.error is not None
            assert isinstance(session, Session), "failures are written with an ORM session (record_failure)"
            e = o.error
            states.append(transitions.record_failure(
                session, o.job, error_class=e.error_class, message=e.message, now=o.at, code=e.code,
                retry_after=e.retry_after, new_chat_id=e.new_chat_id, partial_ids=e.partial_external_ids,
                completed_calls=e.completed_calls, max_attempts=self._max_attempts,
                rng=self._rng))  # type: ignore[arg-type]
        # The send ledger: each post's charge now counts from when its last message went out
        # (only sends the claim charged: an unlimited outlet's outcome has no row to close).
        ledger.close(session, [(o.job.delivery_id, o.job.fence, o.at, None if o.result is not None else o.sent_messages)
                               for o in outcomes if o.job.charged])
        roll_up_items(session, {o.job.item_id for o in sent if o.job.delivery_id in sent_ok},
                      max(o.at for o in outcomes))
        return states


def _transient(exc: DBAPIError) -> bool:
    """A dropped or terminated connection, or SQLite's busy lock: the same write can succeed again."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
