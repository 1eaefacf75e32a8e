"""Run the reliability scenarios R1–R5 and rewrite docs/RELIABILITY.md.

    .venv/bin/python -m reliability.run                 # everything, SQLite and PostgreSQL
    .venv/bin/python -m reliability.run --quick         # smaller counts (minutes, not tens of minutes)
    .venv/bin/python -m reliability.run --only R2,R4    # some scenarios; the others keep their last results
    .venv/bin/python -m reliability.run --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python -m reliability.run --only R1 --kills 60   # R1 with another number of SIGKILLs

PostgreSQL comes from ``--pg`` or ``HUB_TEST_DATABASE_URL``; without either, the PostgreSQL runs
(and R3, which is PostgreSQL only) are skipped and the report says so. Each scenario's result is
kept in ``reliability/results/<scenario>.json`` with the command, machine and date that produced
it, so running one scenario again does not erase the figures of the others.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability.common import ROOT, machine

RESULTS = ROOT / "reliability" / "results"
DOC = ROOT / "docs" / "RELIABILITY.md"
SCENARIOS = ("R1", "R2", "R3", "R4", "R5")


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        data = asdict(value)
        if hasattr(value, "ok"):
            data["ok"] = value.ok
        for name in ("rows", "real"):
            if isinstance(getattr(value, name, None), list):
                data[name] = [_jsonable(r) for r in getattr(value, name)]
        for name in ("audit", "before_resolution", "final"):
            if getattr(value, name, None) is not None:
                data[name] = _jsonable(getattr(value, name))
        return data
    return value


def postgres_version(pg_url: str) -> str:
    from sqlalchemy import text

    from network_hub.db.engine import make_engine

    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        engine.dispose()


def run_scenario(name: str, backends: list[str], pg_url: str | None, quick: bool, workdir: Path,
                 kills: int | None = None) -> dict[str, Any]:
    started = time.monotonic()
    out: dict[str, Any] = {"runs": []}
    if name == "R1":
        from reliability.r1_kills import run_r1

        for backend in backends:
            out["runs"].append(_jsonable(run_r1(backend, workdir / f"r1-{backend}", pg_url,
                                                kills=kills or (20 if quick else 200))))
    elif name == "R2":
        from reliability.r2_faults import run_r2

        for backend in backends:
            out["runs"].append(_jsonable(run_r2(backend, workdir / f"r2-{backend}", pg_url)))
    elif name == "R3":
        from reliability.r3_db_kills import run_r3

        if "postgresql" in backends and pg_url:
            out["runs"].append(_jsonable(run_r3(pg_url, workdir / "r3", items=200 if quick else 1000)))
    elif name == "R4":
        out["runs"].append(run_bad_input_corpus(workdir / "r4"))
    elif name == "R5":
        from reliability.r5_downtime import run_r5

        for backend in backends:
            out["runs"].append(_jsonable(run_r5(backend, workdir / f"r5-{backend}", pg_url)))
    out["seconds"] = round(time.monotonic() - started, 1)
    out["ok"] = bool(out["runs"]) and all(r.get("ok") for r in out["runs"])
    return out


def run_bad_input_corpus(workdir: Path) -> dict[str, Any]:
    """R4 is a parametrized test file; run it and read each case's outcome from its JUnit XML."""
    import xml.etree.ElementTree as ET

    workdir.mkdir(parents=True, exist_ok=True)
    xml = workdir / "r4.xml"
    env = {k: v for k, v in os.environ.items() if k != "HUB_TEST_DATABASE_URL"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/reliability/test_bad_input.py", "-q", "-p",
                           "no:cacheprovider", f"--junitxml={xml}", "-o", "junit_family=xunit1"],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, check=False)
    cases = []
    for case in ET.parse(xml).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        cases.append({"id": case.get("name"), "surface": props.get("surface", "?"),
                      "case": props.get("case", case.get("name")), "error": props.get("error", ""),
                      "unchanged": props.get("unchanged", ""),
                      "result": "skipped" if skipped else "FAILED" if failed else "passed"})
    return {"cases": cases, "ok": proc.returncode == 0 and bool(cases), "pytest_tail": proc.stdout[-500:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (20 kills, 2,000 deliveries in R3)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios, e.g. R1,R3")
    parser.add_argument("--pg", default=os.environ.get("HUB_TEST_DATABASE_URL", ""),
                        help="PostgreSQL URL (default: HUB_TEST_DATABASE_URL)")
    parser.add_argument("--kills", type=int, default=None,
                        help="R1: SIGKILLs per database (default 200, --quick 20)")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/RELIABILITY.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    wanted = [s.strip().upper() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    pg_url = args.pg or None
    backends = ["sqlite", "postgresql"] if pg_url else ["sqlite"]
    command = "python -m reliability.run " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    context = {"command": command.strip(), "machine": machine(),
               "date": datetime.now(UTC).isoformat(timespec="seconds"),
               "postgresql": postgres_version(pg_url) if pg_url else None, "quick": args.quick}
    RESULTS.mkdir(parents=True, exist_ok=True)
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="hub-reliability-") as tmp:
        for name in wanted:
            print(f"{name} …", flush=True)
            result = {**context, **run_scenario(name, backends, pg_url, args.quick, Path(tmp) / name, args.kills)}
            (RESULTS / f"{name.lower()}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1,
                                                                      default=str))
            print(f"{name}: {'ok' if result['ok'] else 'FAILED'} in {result['seconds']} s", flush=True)
            all_ok &= result["ok"]
    if not args.no_doc:
        from reliability.report import write_report

        write_report(RESULTS, DOC)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
