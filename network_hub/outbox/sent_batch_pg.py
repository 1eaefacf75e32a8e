"""PostgreSQL's group commit of successful sends as one autocommitted statement.

A batch of `sent` outcomes used to be a transaction of five round trips (BEGIN, the deliveries'
fenced UPDATE with their attempt rows, the roll-up read, the items' ``published`` with their audit
rows and notifications, COMMIT). Here it is one statement of data-modifying CTEs over arrays
(``unnest``), atomic by itself, so the dispatcher runs it on an autocommit connection — alone
(the group commit) or, most of the time, riding in the next start's statement
(``transitions._START_AND_SENT``: one round trip for both):

1. ``sent``: the deliveries' fenced UPDATE (``sending`` and the fence this worker holds);
2. ``sent_attempts``: their attempt rows finished; ``charges_closed``: the send ledger's charges
   of the charged ones closed (``ledger.close``);
3. ``counts``: each touched item's deliveries by outcome, counting the rows of ``sent`` as sent
   (a data-modifying CTE's changes are not visible to the rest of its statement, so the counts
   read the statement's snapshot and correct it with ``sent``);
4. ``published``: items whose deliveries are now all sent (or cancelled) become ``published``,
   fenced on the status read (``roll_up_item``'s rule), with an audit row each and a notification
   to an active author whose payload (receipt, title, links in delivery order) the database builds.

It returns the deliveries it wrote and the items that finished with a failed delivery: those take
``roll_up_item``'s per-item path (partially published or failed: moderators are told too) in a
transaction of their own afterwards. If that transaction is lost (a crash between the two), the
roll-up sweep (``sweep_queries.roll_up_finished_items``) finishes it, so no item is left
``publishing`` with all its deliveries done.

The rows written are those of ``transitions.record_sent_batch``, ``ledger.close`` and
``rollup.roll_up_items`` (``tests/engine/test_sent_batch_pg.py`` compares them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from network_hub.db.models import AuditEvent, Delivery, DeliveryAttempt, Member, NewsItem, Notification, Outlet
from network_hub.db.types import UTCDateTime
from network_hub.notifications import NotificationKind
from network_hub.outbox import lifecycle
from network_hub.outbox.driver_sql import DriverStatement
from network_hub.outbox.ledger import L
from network_hub.outbox.rollup import IN_FLIGHT, ROLLABLE
from network_hub.states import DeliveryState, ItemStatus, MemberStatus, NotificationState

S = DeliveryState
_UTC = UTCDateTime()
_D = Delivery.__table__
_T = DeliveryAttempt.__table__
_I = NewsItem.__table__
_M = Member.__table__
_O = Outlet.__table__
_E = AuditEvent.__table__
_N = Notification.__table__
_NOW = bindparam("v_now", type_=_UTC)

_ROWS = func.unnest(
    cast(bindparam("v_ids"), ARRAY(BigInteger)), cast(bindparam("v_fences"), ARRAY(BigInteger)),
    cast(bindparam("v_ext"), ARRAY(Text)), cast(bindparam("v_links"), ARRAY(Text)),
    cast(bindparam("v_attempts"), ARRAY(BigInteger)),
).table_valued(column("id", BigInteger), column("fence", BigInteger), column("ext", Text), column("link", Text),
               column("attempt", BigInteger)).render_derived(name="v")

_SENT = (
    update(_D)
    .where(_D.c.id == _ROWS.c.id, _D.c.fence == _ROWS.c.fence, _D.c.state == S.SENDING.value)
    .values(state=S.SENT.value, external_ids=cast(_ROWS.c.ext, _D.c.external_ids.type), permalink=_ROWS.c.link,
            sent_at=_NOW, lease_owner=None, lease_until=None, last_error=None, last_error_class=None,
            updated_at=_NOW)
    .returning(_D.c.id, _D.c.item_id, _ROWS.c.attempt, _ROWS.c.ext, _ROWS.c.link)
    .cte("sent")
)
_SENT_ATTEMPTS = (
    update(_T).where(_T.c.id == _SENT.c.attempt)
    .values(finished_at=_NOW, outcome="sent", external_ids=cast(_SENT.c.ext, _T.c.external_ids.type))
    .cte("sent_attempts")
)
# The send ledger: each post's charge now counts from when its last message went out (only sends
# the claim charged; fenced on the charge's delivery and fence, like ``ledger.close``).
_CHARGES = func.unnest(
    cast(bindparam("v_charge_ids"), ARRAY(BigInteger)), cast(bindparam("v_charge_fences"), ARRAY(BigInteger)),
    cast(bindparam("v_charge_at"), ARRAY(_UTC)),
).table_valued(column("id", BigInteger), column("fence", BigInteger), column("at", _UTC)).render_derived(name="c")
_CHARGES_CLOSED = (
    update(L).where(L.c.delivery_id == _CHARGES.c.id, L.c.fence == _CHARGES.c.fence)
    .values(at=_CHARGES.c.at, open=False)
    .cte("charges_closed")
)
_JUST_SENT = _SENT.alias("just_sent")  # the same rows, joined to the deliveries read in the snapshot
_COUNTS = (
    select(_D.c.item_id,
           func.count().filter(and_(_JUST_SENT.c.id.is_(None), _D.c.state.in_([s.value for s in IN_FLIGHT])))
           .label("busy"),
           func.count().filter(or_(_JUST_SENT.c.id.is_not(None), _D.c.state == S.SENT.value)).label("sent"),
           func.count().filter(and_(_JUST_SENT.c.id.is_(None), _D.c.state == S.FAILED.value)).label("failed"))
    .select_from(_D.outerjoin(_JUST_SENT, _JUST_SENT.c.id == _D.c.id))
    .where(_D.c.item_id.in_(select(_SENT.c.item_id)))
    .group_by(_D.c.item_id)
    .cte("counts")
)
# the items to publish, with the status they had (for the fence and the audit row)
_TO_PUBLISH = (
    select(_I.c.id, _I.c.status)
    .join(_COUNTS, _COUNTS.c.item_id == _I.c.id)
    .where(_COUNTS.c.busy == 0, _COUNTS.c.failed == 0, _COUNTS.c.sent > 0,
           _I.c.status.in_([s.value for s in ROLLABLE if s != ItemStatus.PUBLISHED]))
    .cte("to_publish")
)
_PUBLISHED = (
    update(_I)
    .where(_I.c.id == _TO_PUBLISH.c.id, _I.c.status == _TO_PUBLISH.c.status)
    .values(status=ItemStatus.PUBLISHED.value, version=_I.c.version + 1, updated_at=_NOW,
            published_at=func.coalesce(_I.c.published_at, _NOW))
    .returning(_I.c.id, _I.c.receipt_no, _I.c.title, _I.c.author_id, _TO_PUBLISH.c.status.label("before"))
    .cte("published")
)
_PUBLISHED_AUDIT = (
    insert(_E).from_select(
        ["at", "actor_id", "actor_label", "action", "object_type", "object_id", "before", "after", "reason"],
        select(_NOW, null(), literal("system"), literal(f"item.{ItemStatus.PUBLISHED}"), literal("news_item"),
               cast(_PUBLISHED.c.id, String), func.jsonb_build_object("status", _PUBLISHED.c.before),
               func.jsonb_build_object("status", literal(ItemStatus.PUBLISHED.value)), null()))
    .cte("published_audit")
)
_LINK_SENT = _SENT.alias("link_sent")
_LINKS_OF_PUBLISHED = (
    select(func.coalesce(func.jsonb_agg(aggregate_order_by(
        func.jsonb_build_object(
            "outlet", _O.c.name, "platform", _O.c.platform,
            "permalink", case((_LINK_SENT.c.id.is_not(None), _LINK_SENT.c.link), else_=_D.c.permalink)),
        _D.c.id)), func.jsonb_build_array()))
    .select_from(_D.join(_O, _O.c.id == _D.c.outlet_id).outerjoin(_LINK_SENT, _LINK_SENT.c.id == _D.c.id))
    .where(_D.c.item_id == _PUBLISHED.c.id, or_(_LINK_SENT.c.id.is_not(None), _D.c.state == S.SENT.value))
    .scalar_subquery()
)
_PUBLISHED_NOTICES = (
    insert(_N).from_select(
        ["member_id", "kind", "item_id", "payload", "state", "due_at", "attempts", "created_at"],
        select(_PUBLISHED.c.author_id, literal(str(NotificationKind.ITEM_PUBLISHED)), _PUBLISHED.c.id,
               func.jsonb_build_object("receipt_no", _PUBLISHED.c.receipt_no, "title", _PUBLISHED.c.title,
                                       "links", _LINKS_OF_PUBLISHED, "failed", 0),
               literal(NotificationState.PENDING.value), _NOW, literal(0), _NOW)
        .join(_M, _M.c.id == _PUBLISHED.c.author_id)
        .where(_M.c.status == MemberStatus.ACTIVE.value))
    .cte("published_notices")
)
# What the statement returns, four columns a row (so a start can return its rows beside these:
# ``transitions._START_AND_SENT``): ("delivery", id) for each delivery written, ("item", id) for
# each item that finished with a failed delivery.
_NO_ID = cast(null(), BigInteger)
SENT_ROWS = (
    select(literal("delivery").label("kind"), _SENT.c.id.label("id"), _NO_ID.label("attempt_id"),
           _NO_ID.label("attempt_no")),
    select(literal("item"), _COUNTS.c.item_id, _NO_ID, _NO_ID).where(_COUNTS.c.busy == 0, _COUNTS.c.failed > 0),
)
# The data-modifying CTEs not reached from ``SENT_ROWS`` (PostgreSQL runs them all the same).
SENT_CTES = (_SENT_ATTEMPTS, _CHARGES_CLOSED, _PUBLISHED_AUDIT, _PUBLISHED_NOTICES)
_SENT_AND_ROLLED_UP = DriverStatement(union_all(*SENT_ROWS).add_cte(*SENT_CTES))


@dataclass
class SentBatch:
    """Successful sends to write with one statement — alone (``record_sent_and_roll_up``) or riding
    in a start's statement — and what it wrote: the deliveries (a row whose lease was lost is left
    to its new owner) and the items that still need ``roll_up_item`` (finished with a failure)."""

    sent: list[tuple[Any, Any]]  # (SendJob, PublishResult)
    now: datetime
    # the send ledger's charges to close: (delivery id, fence, when the last message went out, None)
    charges: list[tuple[int, int, datetime, None]] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    unsettled: set[int] = field(default_factory=set)

    def params(self) -> dict[str, Any]:
        lifecycle.check(S.SENDING, S.SENT)
        sent = self.sent
        return {"v_ids": [job.delivery_id for job, _ in sent], "v_fences": [job.fence for job, _ in sent],
                "v_ext": [json.dumps(result.external_ids) for _, result in sent],
                "v_links": [result.permalink for _, result in sent],
                "v_attempts": [job.attempt_id or None for job, _ in sent], "v_now": self.now,
                "v_charge_ids": [c[0] for c in self.charges], "v_charge_fences": [c[1] for c in self.charges],
                "v_charge_at": [c[2] for c in self.charges]}

    def states(self) -> list[str | None]:
        """Each send's new state, in the order of ``sent``: "sent", or None where the lease was lost."""
        return ["sent" if job.delivery_id in self.done else None for job, _ in self.sent]

    def read(self, rows: list[Any]) -> None:
        """Take this batch's rows out of the statement's result."""
        self.done = {r.id for r in rows if r.kind == "delivery"}
        self.unsettled = {r.id for r in rows if r.kind == "item"}


def record_sent_and_roll_up(conn: Any, batch: SentBatch) -> SentBatch:
    """Write a batch of successful sends and publish the items they complete, in one statement
    (see the module docstring); fills in ``batch.done`` and ``batch.unsettled``."""
    if batch.sent:
        batch.read(_SENT_AND_ROLLED_UP.rows(conn, batch.params()))
    return batch
