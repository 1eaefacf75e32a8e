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
                 run_connection: Callable[[Callable[[Connection], T]], Awaitable[T]] | None = None) -> None:
        self._run_db = run_db
        # Batches of successes only need Core and driver statements: a plain Connection is cheaper.
        self._run_connection = run_connection
        self._max_attempts = max_attempts
        self._rng = rng
        self._pending: list[tuple[Outcome, asyncio.Future[str | None]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def record(self, outcome: Outcome) -> str | None:
        """Write the outcome (with others arriving meanwhile); returns the delivery's new state,
        or None when this worker had lost its lease."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

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
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            try:
                if self._run_connection is not None and all(o.result is not None for o in outcomes):
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
