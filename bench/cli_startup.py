"""CLI start-up: how long ``network-hub --help`` and a simple listing (``network-hub member list``) take.

    .venv/bin/python -m bench.cli_startup            # measures, writes bench/results/cli_startup.json
    .venv/bin/python -m bench.cli_startup --runs 5   # fewer runs per figure

Three trees are measured in the same run, alternating, so they share the machine's load:

- "eager": the ``BASELINE`` tree with every command module imported up front, as before issue 13
  (this tree's command modules import less at module level, so they would understate it);
- "lazy loader": the tree at ``BASELINE`` (issue 13's lazy command loading, whose listing still
  imported the ORM services, permissions, phone numbers and Thai text through ``cli/common.py``),
  extracted with ``git archive`` and run as ``python -m network_hub`` from that directory;
- "now": this tree, through the ``network-hub`` console script.

Each figure is the wall time of the whole process (median and minimum) and its CPU time (user +
system, less sensitive to the other work on a shared machine). Three ``python -X importtime``
runs per tree and command give the import self time (each module's minimum) summed by top-level
package. Every process lists the same initialised hub (empty roster), created with
``network-hub init`` in a temporary directory.

``bench.run_all`` renders the "CLI start-up" section of docs/PERFORMANCE.md from the result file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "cli_startup.json"
RUNS = 10
BASELINE = "6fbe7b0"  # main before the CLI start-up work of issue 13 part 6 (lazy loader, heavy listing)
EAGER = ("import network_hub.cli.areas, network_hub.cli.deliveries, network_hub.cli.invites, network_hub.cli.members, "
         "network_hub.cli.news, network_hub.cli.outlets, network_hub.cli.reminders, network_hub.cli.pdpa, "
         "network_hub.cli.line, network_hub.cli.service, rich; ")
CASES = {"help": ["--help"], "list": ["member", "list"]}
TARGETS = {"help": 0.4, "list": 0.6}
VARIANTS = ("eager", "lazy_loader", "now")
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def _command(variant: str, args: list[str], baseline: Path) -> tuple[list[str], Path]:
    """The argv and working directory that run ``network-hub ARGS`` in ``variant``."""
    if variant == "eager":  # the baseline's command modules, all imported up front
        return [sys.executable, "-c", EAGER + f"from network_hub.cli.app import main; main({args!r})"], baseline
    if variant == "lazy_loader":
        return [sys.executable, "-m", "network_hub", *args], baseline
    return [str(Path(sys.executable).with_name("network-hub")), *args], ROOT


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_profile(argv: list[str], cwd: Path, env: dict[str, str], runs: int = 3) -> dict[str, Any]:
    """``-X importtime`` runs: module count, and import self time (each module's minimum over ``runs``, to
    damp the machine's load) in total and summed by top-level package."""
    if Path(argv[0]).name == "network-hub":  # the console script is a Python file: run it under -X importtime
        argv = [sys.executable, argv[0], *argv[1:]]
    best: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=cwd, env=env, capture_output=True,
                              text=True, check=True)
        for line in done.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if match:
                module, self_us = match.group(4), int(match.group(1))
                best[module] = min(best.get(module, self_us), self_us)
    by_package: Counter[str] = Counter()
    for module, self_us in best.items():
        by_package[module.split(".")[0]] += self_us
    ranked = by_package.most_common()
    top = {name: round(us / 1000, 1) for name, us in ranked[:25]}
    if len(ranked) > 25:
        top[f"({len(ranked) - 25} other packages)"] = round(sum(us for _, us in ranked[25:]) / 1000, 1)
    return {"modules": len(best), "self_ms_total": round(sum(best.values()) / 1000, 1), "self_ms_by_package": top}


def measure(runs: int = RUNS, baseline_ref: str = BASELINE) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    try:
        data_dir, baseline = work / "data", work / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "archive", baseline_ref, "network_hub", "config", "publishers", "jobs"],
                                 cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(HUB_DATA_DIR=str(data_dir), HUB_DATABASE_URL=f"sqlite:///{data_dir / 'hub.sqlite3'}")
        cli = str(Path(sys.executable).with_name("network-hub"))
        subprocess.run([cli, "init"], cwd=ROOT, env=env, capture_output=True, check=True)
        out: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs,
                               "baseline": baseline_ref, "load_average_before": os.getloadavg()[0],
                               "cpus": os.cpu_count()}
        for name, args in CASES.items():
            for variant in VARIANTS:  # warm-up: byte-compile the extracted tree, fill the page cache
                _run(*_command(variant, args, baseline), env)
            samples: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
            for _ in range(runs):  # alternate, so every tree sees the same load
                for variant in VARIANTS:
                    samples[variant].append(_run(*_command(variant, args, baseline), env))
            out[name] = {}
            for variant in VARIANTS:
                walls, cpus = [w for w, _ in samples[variant]], [c for _, c in samples[variant]]
                out[name][variant] = {"median": statistics.median(walls), "min": min(walls),
                                      "cpu_median": statistics.median(cpus), "cpu_min": min(cpus),
                                      "imports": import_profile(*_command(variant, args, baseline), env)}
        out["load_average_after"] = os.getloadavg()[0]
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render_cli_startup() -> list[str]:
    lines = ["## CLI start-up (target: `--help` ≤ 0.4 s, a simple listing ≤ 0.6 s)", ""]
    if not RESULT.exists():
        return [*lines, "Not run yet: `.venv/bin/python -m bench.cli_startup`.", ""]
    r = json.loads(RESULT.read_text(encoding="utf-8"))
    if "now" not in r.get("list", {}):
        return [*lines, "The result file is from an older version of the benchmark: run "
                "`.venv/bin/python -m bench.cli_startup` again.", ""]
    quick = " — *quick run (3 of each), not a full figure*" if r.get("quick") else ""
    lines += [f"Measured {r['at']} with `.venv/bin/python -m bench.cli_startup`{quick} ({r['runs']} runs of each, "
              f"the three trees alternating; {r['cpus']} CPUs shared with other work, load average "
              f"{r['load_average_before']:.1f} before and {r['load_average_after']:.1f} after). \"Eager\" imports "
              f"every command module of the {r['baseline']} tree up front, as `network_hub/cli/app.py` did before "
              "issue 13; \"lazy loader\" is that tree as it runs (commands loaded only when they run, but a "
              "listing still imported the ORM, every model, the roster services, permissions, phone numbers, "
              "Thai text and GeoThai); "
              "\"now\" imports inside each command only what it uses, and `member list` reads with two Core "
              "statements on a connection (`network_hub/roster/listing.py`), so neither the ORM nor the models "
              "are imported. Each cell: wall time of the whole process, median (minimum), / CPU time (user + "
              "system) median, which depends less on the other work on the machine.", "",
              "| command | eager | lazy loader | now | target (wall median) |", "|---|---|---|---|---|"]
    labels = {"help": "`network-hub --help`", "list": "`network-hub member list` (empty roster)"}
    for key, label in labels.items():
        cells = [f"{v['median']:.2f} s ({v['min']:.2f}) / {v['cpu_median']:.2f} s"
                 for v in (r[key][variant] for variant in VARIANTS)]
        verdict = "met" if r[key]["now"]["median"] <= TARGETS[key] else "missed"
        lines.append(f"| {label} | {' | '.join(cells)} | ≤ {TARGETS[key]} s: {verdict} |")
    before, now = r["list"]["lazy_loader"]["imports"], r["list"]["now"]["imports"]
    lines += ["", "Import self time of `member list` by top-level package, ms (each module's minimum of three "
              "`python -X importtime` runs; the flag adds overhead, and the load inflates every figure alike; "
              "\"-\": not imported):", "",
              "| package | lazy loader | now |", "|---|---|---|"]
    top = [*list(before["self_ms_by_package"])[:12], *list(now["self_ms_by_package"])[:12]]
    for name in dict.fromkeys(top):
        lines.append(f"| {name} | {before['self_ms_by_package'].get(name, '-')} | "
                     f"{now['self_ms_by_package'].get(name, '-')} |")
    lines += [f"| all ({before['modules']} → {now['modules']} modules) | {before['self_ms_total']} | "
              f"{now['self_ms_total']} |", "",
              "What the listing still imports it cannot do without: SQLAlchemy Core and its SQLite dialect, "
              "pydantic and pydantic-settings for the settings (which pull in asyncio), and typer (which "
              "builds a pydantic adapter per option). Details: bench/analysis.md, \"CLI start-up\".", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the 'lazy loader' tree")
    parser.add_argument("--quick", action="store_true", help="3 runs (bench.run_all --quick)")
    args = parser.parse_args()
    result = measure(3 if args.quick else args.runs, args.baseline)
    if args.quick:
        result["quick"] = True
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("\n".join(render_cli_startup()))


if __name__ == "__main__":
    main()
