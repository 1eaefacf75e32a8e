"""The Telegram probe when sends to one channel overlap (several workers, or several deliveries of
one pass in flight at once): message ids then follow the order the requests reached Telegram, not
the order the hub marked the deliveries ``sending``.

Found by the R1 rerun (issue 11). ``network_hub/outbox/reconcile_queries._telegram_bounds`` took
the probe's lower bound (``after_id``) from every known post whose ``sending_started_at`` is earlier
and its upper bound (``before_id``) from every known post whose ``sending_started_at`` is later, and
``publishers/telegram_probe.probe`` counted every message between them as part of the post. With
overlapping sends that is wrong three ways, each reproduced here on the real reconciler, publisher
and fake from rows as the engine leaves them:

- ``after_id`` past the post: W started before U, but U's message landed first → the probe looks
  after U's message, finds nothing → "absent" → U is sent again (a duplicate);
- ``before_id`` before the post: V started after U, but V's message landed first → no id is left
  between the bounds → "absent" → U is sent again (a duplicate);
- two unknowns interleaved: the first one's "found" ids include the other post's message (a later
  correction or withdrawal would edit or delete another item's post).

The fix (the rules are in the docstrings of both modules): a lower bound only from posts whose
ids were known (``sent_at``) before this send began; no upper bound from start times; the ids of
the hub's other deliveries skipped rather than counted as this post's or as "foreign"; a message
carrying another receipt's marker ends a run instead of joining it. Each scenario now settles
every delivery with its own message, or leaves it with a person; none is sent again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from jobs.reconcile import reconcile_unknown
from network_hub.clock import FrozenClock
from network_hub.db.models import Delivery
from platform_fakes.telegram import FakeTelegram
from publishers.registry import Publishers
from publishers.render import marker
from reliability.common import (
    add_items,
    add_outlets,
    add_probe_chat,
    fresh_database,
    make_hub,
    receipt,
    seed_people,
    settings_for,
)

CHANNEL = -1009990001
PREFIX = "RP"

# Each scenario: the deliveries as the engine leaves them — (state, known ids, sending started at
# +s, ids known (sent_at) at +s) — and the order their messages really reached the channel
# (message id = position + 1).
SCENARIOS = {
    "after_id past the post": ([("sent", [1], 0.0, 0.1), ("sent", [3], 1.0, 1.5), ("unknown", [], 1.2, None)],
                               [0, 2, 1]),
    "before_id before the post": ([("sent", [1], 0.0, 0.1), ("unknown", [], 1.0, None), ("sent", [2], 1.2, 1.4)],
                                  [0, 2, 1]),
    "two unknowns interleaved": ([("sent", [1], 0.0, 0.1), ("unknown", [], 1.1, None), ("unknown", [], 1.0, None)],
                                 [0, 2, 1]),
}


async def _reconcile(workdir: Path, rows: list[tuple[str, list[int], float, float | None]],
                     order: list[int]) -> tuple[list[tuple[str, list[str]]], dict[int, str]]:
    async with FakeTelegram() as tg:
        tg.add_channel(CHANNEL)
        with fresh_database("sqlite", workdir, None) as db:
            settings = settings_for(db, workdir, tg, None, probe_chat=add_probe_chat(tg))
            t0 = datetime.now(UTC) - timedelta(minutes=5)
            hub = make_hub(db, settings, FrozenClock(t0))
            people = seed_people(hub)
            outlet = add_outlets(hub, [CHANNEL], [])[0]
            items = add_items(hub, people.reporter.id, [outlet], len(rows), PREFIX)
            for n in order:
                tg._new_message(tg.chats[CHANNEL], text=f"ข่าวลำดับที่ {n}\n{marker(receipt(PREFIX, n))}")
            with hub.transaction() as s:
                for item, (state, ids, started, known) in zip(items, rows, strict=True):
                    s.execute(update(Delivery).where(Delivery.item_id == item).values(
                        state=state, external_ids=[str(i) for i in ids],
                        sending_started_at=t0 + timedelta(seconds=started),
                        sent_at=t0 + timedelta(seconds=known) if known is not None else None,
                        updated_at=t0 + timedelta(seconds=started + 12)))
            hub.clock.set(t0 + timedelta(minutes=4))
            pubs = Publishers(settings)
            try:
                await reconcile_unknown(hub, pubs)
            finally:
                await pubs.aclose()
            with hub.transaction() as s:
                states = [(d.state, list(d.external_ids or []))
                          for d in s.scalars(select(Delivery).order_by(Delivery.item_id))]
            hub.engine.dispose()
    return states, {n: str(i + 1) for i, n in enumerate(order)}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_probe_never_resends_a_post_that_exists_nor_takes_another_posts_ids(scenario: str, tmp_path: Path) -> None:
    rows, order = SCENARIOS[scenario]
    states, where = asyncio.run(_reconcile(tmp_path, rows, order))
    for n, (state, ids) in enumerate(states):
        # every post is on the channel: nothing may be sent again, and a settled delivery names its
        # own message only; undecided (`unknown`, a person looks) is always allowed
        assert state in ("sent", "unknown"), f"{receipt(PREFIX, n)} is {state}: it would be posted twice"
        if state == "sent":
            assert ids == [where[n]], f"{receipt(PREFIX, n)} recorded ids {ids}, its message is {where[n]}"
