"""R2: the platform fault matrix through the real publishers (python-telegram-bot, facebook-sdk)
and the loopback fakes, each fault on a fresh database: the state the fault leaves, who is told,
what settles it (time passing, reconciliation, a moderator's answer, an admin's fix), the final
state and the posts on the platform — never lost, never doubled."""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from jobs.dispatch import Dispatcher
from jobs.reconcile import reconcile_unknown
from network_hub.clock import FrozenClock
from network_hub.db.models import Delivery, Member, Notification, Outlet
from network_hub.hub import Hub
from network_hub.outbox.resolution import resolve_unknown, retry_failed
from network_hub.permissions import load_actor
from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeMessage, FakeTelegram
from publishers.registry import Publishers
from reliability.common import (
    PROBE_CHAT,
    ROOT,
    add_items,
    add_outlets,
    fresh_database,
    make_hub,
    receipt,
    seed_people,
    settings_for,
)
from tests.factories import People

CHANNEL = -1002000000001
PAGE = "204857600001"
TOKEN_VAR = "HUB_R2_PAGE_TOKEN"
PREFIX = "R2"


@dataclass
class Ctx:
    hub: Hub
    tg: FakeTelegram
    fb: FakeFacebook
    people: People
    outlet_id: int
    platform: str
    pubs: Publishers
    send_timeout: float | None = None
    item_id: int | None = None  # the item under test (an earlier anchor post may exist too)
    receipt: str = receipt(PREFIX, 0)
    notes: list[str] = field(default_factory=list)  # what the row's own checks saw
    failed_checks: list[str] = field(default_factory=list)

    @property
    def clock(self) -> FrozenClock:
        return self.hub.clock  # type: ignore[return-value]

    async def dispatch(self) -> None:
        d = Dispatcher(self.hub, self.pubs, owner="r2", rng=random.Random(1), send_timeout=self.send_timeout)
        await d.run_once()

    def delivery(self) -> Delivery:
        with self.hub.transaction() as s:
            q = select(Delivery).order_by(Delivery.id.desc())
            if self.item_id is not None:
                q = q.where(Delivery.item_id == self.item_id)
            return s.scalars(q).first()

    def check(self, ok: bool, note: str) -> None:
        """A row's own check of what reached the fake; a failed one fails the row."""
        self.notes.append(note if ok else f"NOT {note}")
        if not ok:
            self.failed_checks.append(note)

    def channel_messages(self) -> list[FakeMessage]:
        return [m for c in sorted(self.tg.chats) if c < 0 for m in self.tg.posts(c)]

    def outlet(self) -> Outlet:
        with self.hub.transaction() as s:
            return s.get(Outlet, self.outlet_id)

    def told(self) -> str:
        with self.hub.transaction() as s:
            rows = s.execute(select(Notification.kind, Member.name).join(Member, Member.id == Notification.member_id)
                             ).all()
        who = {self.people.moderator.name: "moderator", self.people.admin.name: "admin",
               self.people.reporter.name: "reporter",
               self.people.coordinator.name: "coordinator"}
        return ", ".join(sorted({f"{who.get(name, name)} ({kind})" for kind, name in rows})) or "nobody"

    def posts(self) -> int:
        """Posts of the item under test on the platform: messages carrying its receipt marker
        (a post of several parts carries it once, in its last part)."""
        if self.platform == "telegram":
            return sum(self.receipt in (m.text or "") + (m.caption or "") for m in self.channel_messages())
        return sum(self.receipt in (p.message or "") for p in self.fb.posts(PAGE))

    def moderator_answers(self, posted: bool) -> None:
        with self.hub.transaction() as s:
            resolve_unknown(s, self.delivery().id, posted=posted, actor=load_actor(s, self.people.moderator.id),
                            now=self.clock.now())

    def resume_outlet(self) -> None:
        with self.hub.transaction() as s:
            outlet = s.get(Outlet, self.outlet_id)
            outlet.status, outlet.paused_reason = "active", None


@dataclass
class Case:
    platform: str
    fault: str
    inject: Callable[[Ctx], None]
    remedy_name: str
    remedy: Callable[[Ctx], Awaitable[None]]
    send_timeout: float | None = None
    graph_version: str | None = None
    anchor: bool = False  # an earlier post of the hub in the channel (the probe counts ids from it)
    body: str | None = None  # the item's text (default: one short line)
    probe_chat_blocked: bool = False  # the bot cannot post in the probe chat (forwarding fails)
    check: Callable[[Ctx], None] | None = None  # the row's own count of what reached the fake


@dataclass
class Row:
    platform: str
    fault: str
    after_fault: str
    told: str
    remedy: str
    final_state: str
    posts: int
    attempts_counted: int
    checked: str = ""  # the row's own checks (forwards, parts, ids), "NOT ..." for a failed one
    checks_ok: bool = True

    @property
    def ok(self) -> bool:
        return self.final_state == "sent" and self.posts == 1 and self.checks_ok


@dataclass
class R2Result:
    backend: str
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)


# -- remedies ---------------------------------------------------------------------------------------
async def wait_it_out(ctx: Ctx, **delta: float) -> None:
    ctx.clock.advance(**delta)
    await ctx.dispatch()


def after(**delta: float) -> Callable[[Ctx], Awaitable[None]]:
    async def remedy(ctx: Ctx) -> None:
        await wait_it_out(ctx, **delta)

    return remedy


async def moderator_checks_channel(ctx: Ctx) -> None:
    ctx.moderator_answers(posted=ctx.posts() > 0)
    await ctx.dispatch()


async def reconcile_then_dispatch(ctx: Ctx) -> None:
    ctx.clock.advance(minutes=3)  # past the reconciliation grace period
    await reconcile_unknown(ctx.hub, ctx.pubs)
    await ctx.dispatch()


async def moderator_retries(ctx: Ctx) -> None:
    with ctx.hub.transaction() as s:
        retry_failed(s, ctx.delivery().id, actor=load_actor(s, ctx.people.moderator.id), now=ctx.clock.now())
    await ctx.dispatch()


async def new_fb_token_and_resume(ctx: Ctx) -> None:
    os.environ[TOKEN_VAR] = ctx.fb.issue_token(PAGE)
    ctx.resume_outlet()
    await ctx.dispatch()


async def new_bot_token_and_resume(ctx: Ctx) -> None:
    ctx.tg.token_revoked = False  # the admin put a fresh token in place
    ctx.resume_outlet()
    await ctx.dispatch()


async def bot_readded_and_resume(ctx: Ctx) -> None:
    ctx.tg.set_bot_rights(CHANNEL, status="administrator", can_post_messages=True)
    ctx.resume_outlet()
    await ctx.dispatch()


async def version_fixed_and_resume(ctx: Ctx) -> None:
    await ctx.pubs.aclose()
    ctx.hub.settings.facebook_graph_version = "v25.0"
    ctx.pubs = Publishers(ctx.hub.settings)
    ctx.resume_outlet()
    await ctx.dispatch()


def nothing_more(ctx: Ctx) -> None:
    return None


# -- engine v2 rows: a 429 midway through a long post, reconciliation by forwarding --------------------
LONG_POST = ROOT / "corpus" / "thai_pr_posts" / "037.json"  # a real thaigov.go.th post, 9,293 UTF-16 units


def long_thai_post() -> tuple[str, str]:
    """(title, text) of a real Thai government post long enough for three Telegram messages."""
    record = json.loads(LONG_POST.read_text(encoding="utf-8"))
    return record.get("title") or "", record["text"]


def _sends(ctx: Ctx) -> list[str]:
    """The text of every sendMessage call to a channel, answered or refused, in order."""
    return [str(c.params.get("text")) for c in ctx.tg.calls("sendMessage")
            if str(c.params.get("chat_id", "")).startswith("-")]


def whole_post_once(ctx: Ctx) -> None:
    """The 3-part post after a 429 on part 2: parts 1-3 once each, in order, nothing else."""
    sends, messages = _sends(ctx), ctx.channel_messages()
    ctx.check(len(messages) == 3, f"the channel holds {len(messages)} message(s) (3 expected)")
    ctx.check(len(sends) == 4 and sends[1] == sends[2],
              f"{len(sends)} sendMessage calls: part 1, part 2 refused (429), part 2 again after the wait, part 3")
    ctx.check([m.html for m in messages] == [sends[0], *sends[2:]], "parts 1-3 in the channel in order, each once")
    ids = [str(m.message_id) for m in messages]
    ctx.check(list(ctx.delivery().external_ids or []) == ids, f"the delivery's ids are the 3 messages {', '.join(ids)}")


def reconcile_by_forwarding(expect: str) -> Callable[[Ctx], Awaitable[None]]:
    """The reconciler's probe settles the Telegram unknown (``expect``: found / absent / undecided,
    the last one then answered by a moderator), checked by counting the fake's calls."""

    async def remedy(ctx: Ctx) -> None:
        sends_before = len(_sends(ctx))
        ctx.clock.advance(minutes=3)  # past the Telegram grace period
        counts = await reconcile_unknown(ctx.hub, ctx.pubs)
        d = ctx.delivery()
        forwards = ctx.tg.calls("forwardMessage")
        left = ctx.tg.posts(PROBE_CHAT) if PROBE_CHAT in ctx.tg.chats else []
        said = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        ctx.check(counts.get(expect) == 1, f"reconciliation: {expect} 1 ({said})")
        ctx.check(bool(forwards), f"{len(forwards)} forwardMessage call(s) into the probe chat")
        ctx.check(not left, f"{len(left)} forwarded copies left in the probe chat (deleted: "
                            f"{len(ctx.tg.calls('deleteMessage'))})")
        if expect == "found":
            marked = [str(m.message_id) for m in ctx.channel_messages() if ctx.receipt in (m.text or "")]
            ctx.check(d.state == "sent" and list(d.external_ids or []) == marked,
                      f"sent with the id of the post in the channel ({', '.join(marked)})")
        elif expect == "absent":
            ctx.check(d.state == "pending", f"{d.state} after reconciliation (pending: sent again)")
        else:
            ctx.check(d.state == "unknown", f"{d.state} after reconciliation (stays with a person)")
            ctx.moderator_answers(posted=ctx.posts() > 0)
        await ctx.dispatch()
        resent = len(_sends(ctx)) - sends_before
        ctx.check(resent == (1 if expect == "absent" else 0), f"sent again {resent} time(s)")

    return remedy


ENGINE_V2_CASES: list[Case] = [
    Case("telegram", "429 (retry after 30 s) on part 2 of a 3-part long Thai post",
         lambda c: c.tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 30",
                                  retry_after=30, after=1),
         "31 s pass: resumes at part 2", after(seconds=31), body="long", check=whole_post_once),
    Case("telegram", "connection dropped after the platform posted (an earlier post known)",
         lambda c: c.tg.drop_next("sendMessage", commit=True), "reconciliation by forwarding: found",
         reconcile_by_forwarding("found"), anchor=True),
    Case("telegram", "connection dropped before the platform acted (an earlier post known)",
         lambda c: c.tg.drop_next("sendMessage", commit=False), "reconciliation by forwarding: absent, sent again",
         reconcile_by_forwarding("absent"), anchor=True),
    Case("telegram", "connection dropped after the platform posted; the probe chat refuses the bot",
         lambda c: c.tg.drop_next("sendMessage", commit=True),
         "reconciliation by forwarding: cannot read, a moderator checks: posted",
         reconcile_by_forwarding("undecided"), anchor=True, probe_chat_blocked=True),
]

CASES: list[Case] = [
    Case("telegram", "429 Too Many Requests (retry after 30 s)",
         lambda c: c.tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 30",
                                  retry_after=30), "31 s pass", after(seconds=31)),
    Case("facebook", "rate limit (#32, regain access in 5 min)",
         lambda c: c.fb.fail_next("feed", code=32, message="(#32) Page request limit reached", eta_minutes=5),
         "5 min pass", after(minutes=5, seconds=1)),
    Case("telegram", "500 Internal Server Error (ambiguous: may have posted)",
         lambda c: c.tg.fail_next("sendMessage", error_code=500), "a moderator checks: not posted",
         moderator_checks_channel),
    Case("facebook", "500 transient error (code 2)",
         lambda c: c.fb.fail_next("feed", code=2, message="Service temporarily unavailable", is_transient=True),
         "backoff passes", after(hours=1)),
    Case("facebook", "502 HTML page from a proxy",
         lambda c: c.fb.html_error_next("feed", status=502), "reconciliation: absent, sent again",
         reconcile_then_dispatch),
    Case("facebook", "transient error on every try until attempts run out",
         lambda c: c.fb.fail_next("feed", code=2, message="Service temporarily unavailable", is_transient=True,
                                  times=100),
         "a moderator retries after the platform recovers", moderator_retries),
    Case("telegram", "connection dropped before the platform acted",
         lambda c: c.tg.drop_next("sendMessage", commit=False), "a moderator checks: not posted",
         moderator_checks_channel),
    Case("telegram", "connection dropped after the platform posted",
         lambda c: c.tg.drop_next("sendMessage", commit=True), "a moderator checks: posted",
         moderator_checks_channel),
    Case("telegram", "answer slower than the send timeout (posted)",
         lambda c: c.tg.latency(1.5, methods=["sendMessage"]), "a moderator checks: posted",
         moderator_checks_channel, send_timeout=0.5),
    Case("facebook", "connection dropped before the platform acted",
         lambda c: c.fb.drop_next("feed", commit=False), "reconciliation: absent, sent again",
         reconcile_then_dispatch),
    Case("facebook", "connection dropped after the platform posted",
         lambda c: c.fb.drop_next("feed", commit=True), "reconciliation: found by receipt marker",
         reconcile_then_dispatch),
    Case("facebook", "answer slower than the send timeout (posted)",
         lambda c: c.fb.latency(1.5, routes=["feed"]), "reconciliation: found by receipt marker",
         reconcile_then_dispatch, send_timeout=0.5),
    Case("telegram", "bot token revoked (401)", lambda c: c.tg.revoke_token(),
         "admin sets a new token, resumes the outlet", new_bot_token_and_resume),
    Case("facebook", "page token expired (190/463)",
         lambda c: c.fb.set_token_state(os.environ[TOKEN_VAR], "expired"),
         "admin sets a new token, resumes the outlet", new_fb_token_and_resume),
    Case("telegram", "bot removed from the channel",
         lambda c: c.tg.set_bot_rights(CHANNEL, status="left", can_post_messages=False),
         "admin re-adds the bot, resumes the outlet", bot_readded_and_resume),
    Case("telegram", "group migrated to a supergroup", nothing_more, "none needed (next pass)", after(seconds=1)),
    Case("facebook", "Graph API version expired (v20.0 < fake's v21.0)", nothing_more,
         "admin sets HUB_FACEBOOK_GRAPH_VERSION=v25.0, resumes", version_fixed_and_resume, graph_version="v20.0"),
    Case("telegram", "400 Bad Request (permanent)",
         lambda c: c.tg.fail_next("sendMessage", error_code=400, description="Bad Request: message is too long"),
         "a moderator retries", moderator_retries),
    *ENGINE_V2_CASES,
]


async def run_case(case: Case, backend: str, workdir: Path, pg_url: str | None) -> Row:
    async with FakeTelegram() as tg, FakeFacebook() as fb:
        with fresh_database(backend, workdir, pg_url) as db:
            tg.add_channel(CHANNEL)
            tg.add_private(PROBE_CHAT, first_name="ห้องตรวจของศูนย์", blocked=case.probe_chat_blocked)
            fb.add_page(PAGE)
            os.environ[TOKEN_VAR] = fb.issue_token(PAGE)
            settings = settings_for(db, workdir, tg, fb, probe_chat=PROBE_CHAT)
            settings.max_attempts = 3
            if case.graph_version:
                settings.facebook_graph_version = case.graph_version
            # Facebook reconciliation compares our clock with the platform's: start them together.
            hub = make_hub(db, settings, FrozenClock(datetime.now(UTC)))
            people = seed_people(hub)
            if case.fault.startswith("group migrated"):
                tg.add_group(-4002, supergroup=False)
                tg.set_bot_rights(-4002, status="administrator")
                tg.migrate_chat(-4002, -1004002)
                outlet_id = add_outlets(hub, [-4002], [])[0]
            elif case.platform == "telegram":
                outlet_id = add_outlets(hub, [CHANNEL], [])[0]
            else:
                outlet_id = add_outlets(hub, [], [(PAGE, TOKEN_VAR)])[0]
            ctx = Ctx(hub, tg, fb, people, outlet_id, case.platform, Publishers(settings), case.send_timeout)
            try:
                first = 0
                if case.anchor:  # an earlier post, sent and known: where the probe counts message ids from
                    add_items(hub, people.reporter.id, [outlet_id], 1, PREFIX)
                    await ctx.dispatch()
                    ctx.clock.advance(seconds=5)  # the frozen clock: the next post starts later
                    first = 1
                title, body = long_thai_post() if case.body == "long" else (None, case.body)
                ctx.item_id = add_items(hub, people.reporter.id, [outlet_id], 1, PREFIX, start=first,
                                        title=title, body=body)[0]
                ctx.receipt = receipt(PREFIX, first)
                case.inject(ctx)
                await ctx.dispatch()
                if case.fault.startswith("transient error on every try"):
                    for _ in range(settings.max_attempts):
                        await wait_it_out(ctx, hours=2)
                    fb.reset_faults()
                d, o = ctx.delivery(), ctx.outlet()
                after_fault = d.state
                if d.parts_done:
                    after_fault += f"; {d.parts_done} part(s) posted, {len(ctx.channel_messages())} message(s) " \
                                   "in the channel"
                if o.status != "active":
                    after_fault += f"; outlet {o.status}"
                if o.blocked_until and o.blocked_until > ctx.clock.now():
                    after_fault += f"; outlet blocked {int((o.blocked_until - ctx.clock.now()).total_seconds())} s"
                if case.fault.startswith("group migrated"):
                    after_fault += f"; outlet address {o.address}"
                told = ctx.told()
                tg.latency(0)
                fb.latency(0)
                await case.remedy(ctx)
                # One more pass and a reconciliation: whatever is left must not post again.
                ctx.clock.advance(minutes=3)
                await reconcile_unknown(ctx.hub, ctx.pubs)
                await ctx.dispatch()
                if case.check is not None:
                    case.check(ctx)
                final = ctx.delivery()
                return Row(case.platform, case.fault, after_fault, told, case.remedy_name, final.state, ctx.posts(),
                           final.attempts, "; ".join(ctx.notes), not ctx.failed_checks)
            finally:
                await ctx.pubs.aclose()
                hub.engine.dispose()


def run_r2(backend: str, workdir: Path, pg_url: str | None = None, cases: list[Case] | None = None) -> R2Result:
    result = R2Result(backend)
    for case in cases or CASES:
        result.rows.append(asyncio.run(run_case(case, backend, workdir, pg_url)))
    return result

