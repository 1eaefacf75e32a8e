"""Shared set-up for the benchmarks: machine facts, fresh databases, fake platform processes,
bulk-seeded engine data, hub settings, statistics and the result files.

Environment: ``HUB_BENCH_PG_URL`` (an administrative PostgreSQL URL; each benchmark creates and
drops its own ``bench_*`` database there; default ``postgresql://postgres@127.0.0.1:5432/postgres``),
``HUB_BENCH_DIR`` (scratch files, default ``/tmp/hub-bench``).
"""

from __future__ import annotations

import io
import json
import os
import platform
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from network_hub.db.engine import make_engine
from network_hub.db.migrate import stamp_head
from network_hub.db.models import Base, Delivery, NewsItem, Outlet, Photo

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
WORK_DIR = Path(os.environ.get("HUB_BENCH_DIR", "/tmp/hub-bench"))
PG_ADMIN_URL = os.environ.get("HUB_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PYTHON = sys.executable
FB_TOKEN_ENV = "HUB_BENCH_FB_PAGE_TOKEN"


# -- machine and run facts ------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def postgres_version() -> str | None:
    try:
        engine = create_engine(_psycopg(PG_ADMIN_URL))
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception:
        return None


def command_line() -> str:
    """The command that produced this run, as a person would type it."""
    return " ".join([".venv/bin/python -m " + _module_name()] + [shlex.quote(a) for a in sys.argv[1:]])


def _module_name() -> str:
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return spec.name
    return Path(sys.argv[0]).stem


def backends(choice: str) -> list[str]:
    """``sqlite``, ``postgresql`` or ``both`` (PostgreSQL skipped, with a note, when unreachable)."""
    wanted = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in wanted and postgres_version() is None:
        print(f"PostgreSQL at {PG_ADMIN_URL} is unreachable: skipping it", file=sys.stderr)
        wanted.remove("postgresql")
    return wanted


# -- databases ----------------------------------------------------------------------------------------
def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(backend: str, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{WORK_DIR / (name + '.sqlite3')}"
    return make_url(PG_ADMIN_URL).set(database=f"bench_{name}").render_as_string(hide_password=False)


def fresh_database(backend: str, name: str) -> str:
    """An empty database with the hub's schema (stamped current, so ``network-hub run`` accepts it)."""
    url = database_url(backend, name)
    if backend == "sqlite":
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        base = WORK_DIR / (name + ".sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(str(base) + suffix).unlink(missing_ok=True)
    else:
        admin = create_engine(_psycopg(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "bench_{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "bench_{name}"'))
        admin.dispose()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    stamp_head(engine)
    engine.dispose()
    return url


# -- the fake platforms in their own processes ---------------------------------------------------------
@dataclass
class FakeProcess:
    platform: str
    process: subprocess.Popen[bytes]
    ready: dict[str, Any]

    @property
    def origin(self) -> str:
        return str(self.ready["origin"])

    def _post(self, path: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.origin}/_bench/{path}", json=body, timeout=30).raise_for_status()

    def config(self, **values: Any) -> None:
        self._post("config", values)

    def reset(self) -> None:
        self._post("reset", {})

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.origin}/_bench/stats", timeout=120)
        response.raise_for_status()
        return dict(response.json())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_fake(platform_name: str, *, channels: int = 3, pages: int = 1, tag: str = "") -> FakeProcess:
    """Start ``bench.fakes`` in its own process; its output goes to a log file (never a pipe)."""
    logs = WORK_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ready_file = WORK_DIR / f"fake-{platform_name}{tag}-{os.getpid()}.json"
    ready_file.unlink(missing_ok=True)
    log = open(logs / f"fake-{platform_name}{tag}.log", "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [PYTHON, "-m", "bench.fakes", "--platform", platform_name, "--ready-file", str(ready_file),
         "--channels", str(channels), "--pages", str(pages)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the {platform_name} fake did not start; see {logs}")
        time.sleep(0.05)
    return FakeProcess(platform_name, process, json.loads(ready_file.read_text(encoding="utf-8")))


@contextmanager
def fakes(*, channels: int = 3, pages: int = 1, tag: str = "") -> Iterator[tuple[FakeProcess, FakeProcess]]:
    tg = start_fake("telegram", channels=channels, tag=tag)
    try:
        fb = start_fake("facebook", pages=pages, tag=tag)
    except BaseException:
        tg.stop()
        raise
    os.environ[FB_TOKEN_ENV] = next(iter(fb.ready["page_tokens"].values()))
    try:
        yield tg, fb
    finally:
        fb.stop()
        tg.stop()


def settings_for(url: str, data_dir: Path, tg: FakeProcess | None, fb: FakeProcess | None,
                 **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": url, "data_dir": data_dir}
    if tg is not None:
        values.update(telegram_bot_token=tg.ready["token"], telegram_api_base_url=f"{tg.origin}/bot",
                      telegram_file_base_url=f"{tg.origin}/file/bot")
    if fb is not None:
        values.update(facebook_graph_url=fb.origin)
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def hub_env(settings: Settings) -> dict[str, str]:
    """The environment for a ``network-hub`` child process with these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_") or k == FB_TOKEN_ENV}
    for name, value in settings.model_dump().items():
        if value is None or name.startswith("_"):
            continue
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        env[f"HUB_{name.upper()}"] = str(value)
    return env


# -- engine data --------------------------------------------------------------------------------------------
def add_outlets(session: Any, now: datetime, tg: FakeProcess | None, fb: FakeProcess | None, *,
                area: str = "52", channels: int = 1, min_interval_s: float = 0.0) -> list[Outlet]:
    outlets: list[Outlet] = []
    if tg is not None:
        for chat_id in tg.ready["channels"][:channels]:
            outlets.append(Outlet(platform="telegram", name=f"tg {chat_id}", area_code=area, address=str(chat_id),
                                  min_interval_s=min_interval_s, status="active", created_at=now, updated_at=now))
    if fb is not None:
        page_id = next(iter(fb.ready["page_tokens"]))
        outlets.append(Outlet(platform="facebook", name=f"fb {page_id}", area_code=area, address=page_id,
                              token_env=FB_TOKEN_ENV, status="active", created_at=now, updated_at=now))
    session.add_all(outlets)
    session.flush()
    return outlets


def add_approved(session: Any, now: datetime, author_id: int, outlets: Sequence[Outlet], count: int, *,
                 prefix: str, photos_every: int = 0, photo_files: Sequence[tuple[str, str, int]] = (),
                 album_size: int = 3, bodies: Sequence[str] = ()) -> list[int]:
    """``count`` approved items routed to ``outlets``, with pending deliveries due ``now``; every
    ``photos_every``-th item gets an album of ``album_size`` photos; item n's body is
    ``bodies[n % len(bodies)]`` when given. Returns the item ids."""
    item_rows = [dict(receipt_no=f"{prefix}-{n:07d}", village_code="52010101", author_id=author_id,
                      category="announcement", title=f"ข่าวทดสอบ {n}",
                      body=bodies[n % len(bodies)] if bodies else f"ข่าวดีจากหมู่บ้าน ลำดับที่ {n}",
                      status="approved", pdpa_flags=[], consent={}, version=1, submitted_at=now, decided_at=now,
                      created_at=now, updated_at=now) for n in range(count)]
    ids: list[int] = []
    for chunk in _chunks(item_rows, 2000):
        ids.extend(session.execute(insert(NewsItem).returning(NewsItem.id), chunk).scalars().all())
    if photos_every and photo_files:
        photo_rows = [dict(item_id=item_id, position=p, sha256=photo_files[p % len(photo_files)][0],
                           path=photo_files[p % len(photo_files)][1], width=64, height=48,
                           size_bytes=photo_files[p % len(photo_files)][2], content_type="image/jpeg",
                           created_at=now)
                      for n, item_id in enumerate(ids) if n % photos_every == 0 for p in range(album_size)]
        for chunk in _chunks(photo_rows, 2000):
            session.execute(insert(Photo), chunk)
    delivery_rows = [dict(item_id=item_id, outlet_id=o.id, state="pending", due_at=now, attempts=0, fence=0,
                          external_ids=[], created_at=now, updated_at=now) for item_id in ids for o in outlets]
    for chunk in _chunks(delivery_rows, 2000):
        session.execute(insert(Delivery), chunk)
    return ids


def make_photo_files(media_dir: Path, count: int = 3) -> list[tuple[str, str, int]]:
    """Small distinct JPEGs in the media directory: (sha256, relative path, size)."""
    import hashlib

    from PIL import Image

    files = []
    for n in range(count):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (40 * n % 256, 120, 200)).save(buffer, "JPEG")
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        relative = f"bench/{digest}.jpg"
        (media_dir / "bench").mkdir(parents=True, exist_ok=True)
        (media_dir / relative).write_bytes(data)
        files.append((digest, relative, len(data)))
    return files


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def count_states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {state: n for state, n in conn.execute(text("SELECT state, count(*) FROM deliveries GROUP BY state"))}


# -- statistics and results ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) — with 200 samples p99 is the 2nd largest."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def save_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "command": command_line(), "machine": machine(), **result}
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def rss_peak_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [float(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_fraction(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Share of all cores' time that was busy between two ``cpu_times()`` readings."""
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total else float("nan")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a live process has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (float(fields[11]) + float(fields[12])) / os.sysconf("SC_CLK_TCK")
