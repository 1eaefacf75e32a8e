"""What every reliability scenario needs: a fresh database (SQLite file or a PostgreSQL schema),
the loopback platform fakes, bulk-seeded approved items, real ``network-hub`` worker processes,
and the final audit of the two promises (nothing lost, nothing posted twice)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, func, insert, select, text

from config.settings import Settings
from network_hub.clock import FrozenClock
from network_hub.db.engine import make_engine, make_session_factory
from network_hub.db.migrate import stamp_head
from network_hub.db.models import Base, Delivery, NewsItem, Notification, Outlet
from network_hub.hub import Hub
from network_hub.outbox.resolution import resolve_unknown
from network_hub.permissions import load_actor
from platform_fakes.facebook import FakeFacebook
from platform_fakes.telegram import FakeTelegram
from tests.factories import People, seed_network

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
# The private chat the hub owns for reading channels by forwarding (HUB_TELEGRAM_PROBE_CHAT_ID):
# on the fake, a private chat with the hub's operator, where the bot may post and delete.
PROBE_CHAT = 777000999


class ShiftedClock(FrozenClock):
    """The real time plus an offset: the harness runs the production sweeps 'later' than now
    (a dead worker's lease is over) without waiting for it in real time."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        super().__init__(datetime.now(UTC))
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Database:
    backend: str
    engine: Engine
    url_for_processes: str  # what HUB_DATABASE_URL says in a worker process
    schema: str | None
    admin_url: str | None  # PostgreSQL: the server, for pg_terminate_backend


def subprocess_db_url(url: str, schema: str | None) -> str:
    if schema is None:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_database(backend: str, workdir: Path, pg_url: str | None) -> Iterator[Database]:
    """An initialised, empty hub database (as ``network-hub init`` leaves it), dropped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = workdir / f"hub-{uuid.uuid4().hex[:8]}.sqlite3"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        stamp_head(engine)
        try:
            yield Database("sqlite", engine, url, None, None)
        finally:
            engine.dispose()
        return
    if not pg_url:
        raise RuntimeError("PostgreSQL scenario needs --pg URL or HUB_TEST_DATABASE_URL")
    schema = f"rel_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(pg_url, schema=schema, pool_size=5)
    try:
        Base.metadata.create_all(engine)
        stamp_head(engine)
        yield Database("postgresql", engine, subprocess_db_url(pg_url, schema), schema, pg_url)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_hub(db: Database, settings: Settings, clock: FrozenClock | None = None) -> Hub:
    return Hub(settings=settings, engine=db.engine, sessions=make_session_factory(db.engine),
               clock=clock or ShiftedClock())


def add_probe_chat(tg: FakeTelegram, chat_id: int = PROBE_CHAT) -> int:
    """The probe chat on the fake (the bot may post there and delete what it forwarded)."""
    tg.add_private(chat_id, first_name="ห้องตรวจของศูนย์")
    return chat_id


def settings_for(db: Database, workdir: Path, tg: FakeTelegram | None, fb: FakeFacebook | None, *,
                 probe_chat: int | None = None) -> Settings:
    s = Settings(_env_file=None, data_dir=workdir / "data", database_url=db.url_for_processes)  # type: ignore[call-arg]
    # The faults under test are kills and platform errors, not pacing: the fakes here enforce no
    # per-chat limit, so the hub's 20-a-minute window would only stretch a run to hours.
    s.telegram_chat_per_window = 0
    if tg is not None:
        s.telegram_bot_token = tg.token
        s.telegram_api_base_url, s.telegram_file_base_url = tg.base_url, tg.file_base_url
    if probe_chat is not None:
        s.telegram_probe_chat_id = str(probe_chat)
    if fb is not None:
        s.facebook_graph_url = fb.graph_url
    return s


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
        "HUB_TELEGRAM_API_BASE_URL": settings.telegram_api_base_url,
        "HUB_TELEGRAM_FILE_BASE_URL": settings.telegram_file_base_url,
        "HUB_FACEBOOK_GRAPH_URL": settings.facebook_graph_url,
        "HUB_TELEGRAM_PROBE_CHAT_ID": settings.telegram_probe_chat_id,
        # The worker processes pace as the harness's settings say (settings_for turns the per-chat
        # window off: the fakes here enforce none).
        "HUB_TELEGRAM_CHAT_PER_WINDOW": str(settings.telegram_chat_per_window),
        "HUB_FACEBOOK_GRAPH_VERSION": settings.facebook_graph_version,
        "HUB_LEASE_SECONDS": "10",
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
    })
    env.update(extra)
    return env


# -- worker processes ------------------------------------------------------------------------
@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def is_running_loop(self) -> bool:
        """The service logged that it runs (imports done, scheduler and dispatcher started)."""
        try:
            return "running (" in self.log.read_text(errors="replace")
        except FileNotFoundError:
            return False

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def start_worker(env: dict[str, str], log: Path, *args: str) -> Worker:
    """``network-hub run --no-bot --no-web`` with its output in ``log`` (an unread pipe blocks it)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "network_hub", *(args or ("run", "--no-bot", "--no-web"))],
                                env=env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
    return Worker(proc, log)


def wait_until_running(worker: Worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not worker.is_running_loop():
        if worker.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.proc.returncode}: "
                               f"{worker.log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start within {timeout}s")
        time.sleep(0.05)


# -- seeding ------------------------------------------------------------------------------------
def seed_people(hub: Hub) -> People:
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


def add_outlets(hub: Hub, tg_channels: list[int], fb_pages: list[tuple[str, str]], area: str = "52") -> list[int]:
    """Telegram channel outlets and Facebook page outlets (page id, name of the token variable)."""
    now = hub.clock.now()
    with hub.transaction() as s:
        rows = [Outlet(platform="telegram", name=f"ช่อง {c}", area_code=area, address=str(c), status="active",
                       created_at=now, updated_at=now) for c in tg_channels]
        rows += [Outlet(platform="facebook", name=f"เพจ {p}", area_code=area, address=p, token_env=var,
                        status="active", created_at=now, updated_at=now) for p, var in fb_pages]
        s.add_all(rows)
        s.flush()
        return [o.id for o in rows]


def add_items(hub: Hub, author_id: int, outlet_ids: list[int], count: int, prefix: str, *,
              start: int = 0, due_at: datetime | None = None, status: str = "approved",
              title: str | None = None, body: str | None = None) -> list[int]:
    """``count`` approved (or scheduled) items, each with one pending delivery per outlet.
    Receipt numbers are ``PREFIX-000123``: the marker the audit finds in every post. ``title`` and
    ``body`` replace the short test text (a long Thai post of several parts)."""
    now = hub.clock.now()
    due = due_at or now
    with hub.transaction() as s:
        ids = s.execute(insert(NewsItem).returning(NewsItem.id), [
            {"receipt_no": receipt(prefix, n), "village_code": "52010101", "author_id": author_id,
             "category": "announcement", "title": title or f"ข่าวทดสอบ {n}",
             "body": body or f"ข่าวลำดับที่ {n} จากหมู่บ้าน",
             "status": status, "pdpa_flags": [], "consent": {}, "version": 1, "submitted_at": now,
             "decided_at": now, "scheduled_at": due if status == "scheduled" else None,
             "created_at": now, "updated_at": now} for n in range(start, start + count)]).scalars().all()
        s.execute(insert(Delivery), [
            {"item_id": i, "outlet_id": o, "state": "pending", "due_at": due, "attempts": 0, "fence": 0,
             "external_ids": [], "created_at": now, "updated_at": now} for i in ids for o in outlet_ids])
    return list(ids)


def receipt(prefix: str, n: int) -> str:
    return f"{prefix}-{n:06d}"


# -- what the platforms hold ------------------------------------------------------------------------
@dataclass
class PlatformPost:
    outlet_address: str
    receipt_no: str
    external_id: str


def posts_on_fakes(tg: FakeTelegram | None, fb: FakeFacebook | None, tg_channels: list[int],
                   fb_pages: list[str], prefix: str) -> list[PlatformPost]:
    marker = re.compile(rf"{re.escape(prefix)}-\d{{6}}")
    out: list[PlatformPost] = []
    for chat in tg_channels if tg is not None else []:
        for m in tg.posts(chat):  # type: ignore[union-attr]
            found = marker.search((m.text or "") + (m.caption or ""))
            if found:
                out.append(PlatformPost(str(chat), found.group(), str(m.message_id)))
    for page in fb_pages if fb is not None else []:
        for p in fb.posts(page):  # type: ignore[union-attr]
            found = marker.search(p.message or "")
            if found:
                out.append(PlatformPost(page, found.group(), p.id))
    return out


# -- the audit ------------------------------------------------------------------------------------
@dataclass
class Audit:
    deliveries: int
    states: dict[str, int]
    posts: int
    duplicated: int  # (outlet, receipt) pairs with more than one post
    sent_without_exactly_one_post: int
    lost: int  # not sent, not unknown-and-surfaced, not legitimately failed
    unknown_not_surfaced: int
    posted_but_not_sent: int  # a post exists while the row says pending/failed (would be resent)
    # a sent row whose recorded ids are not its one post's id (a later edit or delete would touch
    # another message): reconciliation must name the post it found, nothing else
    sent_with_other_ids: int = 0

    @property
    def ok(self) -> bool:
        return not (self.duplicated or self.sent_without_exactly_one_post or self.lost
                    or self.unknown_not_surfaced or self.posted_but_not_sent or self.sent_with_other_ids)


def surfaced_delivery_ids(hub: Hub) -> set[int]:
    with hub.transaction() as s:
        payloads = s.scalars(select(Notification.payload).where(Notification.kind == "delivery_needs_person"))
        return {int(p["delivery_id"]) for p in payloads if p and "delivery_id" in p}


def audit(hub: Hub, posts: list[PlatformPost], *, legit_failures: set[int] | None = None) -> Audit:
    with hub.transaction() as s:
        rows = s.execute(select(Delivery.id, Delivery.state, Delivery.external_ids, Outlet.address,
                                NewsItem.receipt_no)
                         .join(Outlet, Outlet.id == Delivery.outlet_id)
                         .join(NewsItem, NewsItem.id == Delivery.item_id)).all()
    per_pair = Counter((p.outlet_address, p.receipt_no) for p in posts)
    ids_of = {(p.outlet_address, p.receipt_no): p.external_id for p in posts}
    surfaced = surfaced_delivery_ids(hub)
    sent_bad = lost = unsurfaced = posted_not_sent = other_ids = 0
    for r in rows:
        n = per_pair.get((r.address, r.receipt_no), 0)
        if r.state == "sent":
            sent_bad += n != 1
            other_ids += n == 1 and [str(i) for i in r.external_ids or []] != [ids_of[(r.address, r.receipt_no)]]
        elif r.state == "unknown":
            unsurfaced += r.id not in surfaced
        elif r.state == "failed":
            lost += r.id not in (legit_failures or set()) and r.id not in surfaced
            posted_not_sent += n > 0
        elif r.state in ("pending", "retry_wait", "claimed", "sending"):
            lost += 1
            posted_not_sent += n > 0 and r.state in ("pending", "retry_wait")
    return Audit(deliveries=len(rows), states=dict(Counter(r.state for r in rows)), posts=len(posts),
                 duplicated=sum(1 for c in per_pair.values() if c > 1), sent_without_exactly_one_post=sent_bad,
                 lost=lost, unknown_not_surfaced=unsurfaced, posted_but_not_sent=posted_not_sent,
                 sent_with_other_ids=other_ids)


def count_states(hub: Hub) -> dict[str, int]:
    with hub.transaction() as s:
        return dict(s.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())


def resolve_telegram_unknowns(hub: Hub, tg: FakeTelegram, moderator_id: int, prefix: str) -> tuple[int, int]:
    """What a moderator does: look at the channel, answer 'it is posted' or 'send it'.
    Returns (answered posted, answered not posted)."""
    with hub.transaction() as s:
        rows = s.execute(select(Delivery.id, Outlet.address, NewsItem.receipt_no)
                         .join(Outlet, Outlet.id == Delivery.outlet_id)
                         .join(NewsItem, NewsItem.id == Delivery.item_id)
                         .where(Delivery.state == "unknown", Outlet.platform == "telegram")).all()
    on_platform = {(p.outlet_address, p.receipt_no)
                   for p in posts_on_fakes(tg, None, sorted({int(r.address) for r in rows}), [], prefix)}
    posted = not_posted = 0
    for r in rows:
        seen = (r.address, r.receipt_no) in on_platform
        with hub.transaction() as s:
            resolve_unknown(s, r.id, posted=seen, actor=load_actor(s, moderator_id), now=hub.clock.now())
        posted += seen
        not_posted += not seen
    return posted, not_posted


def machine() -> str:
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU ({cpu}){mem}, "
            f"Python {platform.python_version()}")
