"""R3: four ``network-hub run`` workers deliver ≥ 10,000 deliveries on one PostgreSQL database while
their database connections are killed again and again (``pg_terminate_backend``): zero
duplicates, everything delivered, no worker dies or gets stuck.

Only the workers' connections are terminated (they connect with ``application_name`` =
``hub-r3-worker``): the database server is shared with other test runs, which must not be hit.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from network_hub.db.engine import make_engine
from platform_fakes.telegram import FakeTelegram
from reliability.common import (
    Audit,
    add_items,
    add_outlets,
    audit,
    count_states,
    fresh_database,
    make_hub,
    posts_on_fakes,
    seed_people,
    settings_for,
    start_worker,
    worker_env,
)

APP_NAME = "hub-r3-worker"
PREFIX = "R3"


@dataclass
class R3Result:
    workers: int
    deliveries: int
    kill_rounds: int = 0
    connections_killed: int = 0
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)
    audit: Audit | None = None
    exit_codes: list[int | None] = field(default_factory=list)
    db_errors_logged: int = 0
    outcome_write_retries: int = 0
    finished: bool = False
    died: str = ""  # the log tail of a worker that exited on its own (a bug)

    @property
    def ok(self) -> bool:
        return (self.finished and self.audit is not None and self.audit.ok
                and self.states == {"sent": self.deliveries} and all(c == 0 for c in self.exit_codes))


class ConnectionKiller(threading.Thread):
    """Terminates every worker connection, then waits a random moment, until stopped."""

    def __init__(self, admin_url: str, pause: tuple[float, float], rng: random.Random) -> None:
        super().__init__(daemon=True, name="pg-killer")
        self.engine = make_engine(admin_url, pool_size=1)
        self.pause, self.rng = pause, rng
        self.rounds = self.killed = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.rng.uniform(*self.pause)):
            try:
                with self.engine.begin() as conn:
                    n = conn.execute(text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND application_name = :app"), {"app": APP_NAME}).scalar_one()
                self.rounds += 1
                self.killed += int(n)
            except Exception:  # the killer itself must keep going
                time.sleep(0.1)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
        self.engine.dispose()


def with_app_name(url: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}application_name={APP_NAME}"


def run_r3(pg_url: str, workdir: Path, *, workers: int = 4, channels: int = 10, items: int = 1000,
           pause: tuple[float, float] = (0.3, 1.2), timeout: float = 1200, seed: int = 3) -> R3Result:
    rng = random.Random(seed)
    result = R3Result(workers=workers, deliveries=channels * items)
    with FakeTelegram() as tg, fresh_database("postgresql", workdir, pg_url) as db:
        chats = [-1003000000000 - n for n in range(channels)]
        for chat in chats:
            tg.add_channel(chat)
        settings = settings_for(db, workdir, tg, None)
        hub = make_hub(db, settings)
        people = seed_people(hub)
        outlet_ids = add_outlets(hub, chats, [])
        add_items(hub, people.reporter.id, outlet_ids, items, PREFIX)
        env = worker_env(settings, HUB_DATABASE_URL=with_app_name(db.url_for_processes),
                         HUB_DISPATCH_CONCURRENCY="8", HUB_TELEGRAM_BOT_PER_SECOND="0",
                         HUB_DISPATCH_INTERVAL_S="0.5")
        procs = [start_worker(env, workdir / f"r3-worker-{n}.log") for n in range(workers)]
        killer = ConnectionKiller(db.admin_url or pg_url, pause, rng)
        started = time.monotonic()
        killer.start()
        try:
            deadline = started + timeout
            while time.monotonic() < deadline:
                states = count_states(hub)
                if states.get("sent", 0) == result.deliveries:
                    result.finished = True
                    break
                dead = [w for w in procs if w.proc.poll() is not None]
                if dead:  # a worker died: a real bug, reported with its log
                    result.died = f"exit {dead[0].proc.returncode}: " + dead[0].log.read_text(errors="replace")[-3000:]
                    break
                time.sleep(1.0)
        finally:
            killer.stop()
            result.seconds = time.monotonic() - started
            result.kill_rounds, result.connections_killed = killer.rounds, killer.killed
            result.exit_codes = [w.terminate() for w in procs]
        result.states = count_states(hub)
        result.audit = audit(hub, posts_on_fakes(tg, None, chats, [], PREFIX))
        logs = "".join(w.log.read_text(errors="replace") for w in procs)
        result.db_errors_logged = logs.count("OperationalError")
        result.outcome_write_retries = logs.count("retrying the outcome write")
        hub.engine.dispose()
    return result
