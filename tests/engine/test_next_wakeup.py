"""When an idle dispatcher looks again (``queries.next_wakeup`` and ``Dispatcher._sleep_for``): at the
earliest moment waiting work becomes claimable; soon (not at the tick) when some is claimable
already — a pass leaves such work only when another process's claim held its rows."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import update

from jobs.dispatch import DUE_NOW_RETRY_S, Dispatcher
from network_hub.db.models import Delivery, Outlet
from network_hub.outbox import queries
from tests.engine.builders import add_approved_item, add_outlet


def wakeup(hub):
    with hub.transaction() as s:
        return queries.next_wakeup(s, hub.clock.now())


async def test_nothing_waiting_then_later_then_due_now(hub, net, pubs) -> None:
    dispatcher = Dispatcher(hub, pubs, owner="w", rng=random.Random(1))
    assert wakeup(hub) is None
    assert await dispatcher._sleep_for(2.0) == 2.0
    now = hub.clock.now()
    with hub.transaction() as s:
        outlet = add_outlet(s, now)
        add_approved_item(s, now, net.reporter.id, [outlet], due_at=now + timedelta(seconds=30))
        add_approved_item(s, now, net.reporter.id, [outlet], due_at=now + timedelta(seconds=0.5))
    assert wakeup(hub) == now + timedelta(seconds=0.5)
    assert await dispatcher._sleep_for(2.0) == 0.5
    with hub.transaction() as s:  # paced: the outlet's next slot decides, not the row's due time
        s.execute(update(Outlet).values(next_allowed_at=now + timedelta(seconds=1)))
    assert wakeup(hub) == now + timedelta(seconds=1)
    hub.clock.advance(seconds=1)
    assert wakeup(hub) == hub.clock.now()  # claimable now: look again soon
    assert await dispatcher._sleep_for(2.0) == DUE_NOW_RETRY_S
    with hub.transaction() as s:  # claimed by someone: nothing waits any more but the 30 s one
        s.execute(update(Delivery).where(Delivery.due_at <= hub.clock.now()).values(state="claimed"))
    assert wakeup(hub) == now + timedelta(seconds=30)
