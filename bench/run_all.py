"""Run the benchmarks and rewrite docs/PERFORMANCE.md from their result files.

    .venv/bin/python -m bench.run_all                  # every benchmark at its default size
    .venv/bin/python -m bench.run_all --quick          # smoke sizes (figures marked "quick")
    .venv/bin/python -m bench.run_all --only b1 b3     # some of them
    .venv/bin/python -m bench.run_all --render-only    # rewrite the document from bench/results/

Each benchmark writes bench/results/<name>.json (its figures, the exact command, the machine and
the date); the document is generated from those files plus the hand-written analysis in
bench/analysis.md, so a figure in the document always comes with the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from bench.common import RESULTS_DIR, ROOT

BENCHMARKS = {
    "b1": "bench.b1_dispatch_overhead",
    "b2": "bench.b2_rate_limits",
    "b3": "bench.b3_latency",
    "b4": "bench.b4_national_scale",
    "b5": "bench.b5_scale_out",
}
RESULT_NAMES = {"b2_line": "b2_line", "b1": "b1_dispatch_overhead", "b2": "b2_rate_limits", "b3": "b3_latency",
                "b4": "b4_national_scale", "b5": "b5_scale_out"}
DOC = ROOT / "docs" / "PERFORMANCE.md"
ANALYSIS = ROOT / "bench" / "analysis.md"


def load(key: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{RESULT_NAMES[key]}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def header(result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    quick = " — *quick smoke run, not a full figure*" if result.get("quick") else ""
    return [f"Command: `{result['command']}`{quick}  ",
            f"Run: {m['date_utc']}, commit {m['commit']}; {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
            f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}; "
            f"load average at start {m['load_avg_at_start']}", ""]


def render_b1(r: dict[str, Any]) -> list[str]:
    lines = ["## B1 — dispatch overhead (hub ÷ bare publisher loop, target ≥ 0.8)", "", *header(r)]
    lines += [f"{r['deliveries_per_arm']} deliveries per arm (half Telegram, half Facebook), concurrency "
              f"{r['concurrency']}, {r['rounds']} rounds, arms alternating; medians.", "",
              "| database | fake latency | bare deliveries/s | hub deliveries/s | ratio | target | "
              "CPU ms/delivery bare | CPU ms/delivery hub |", "|---|---|---|---|---|---|---|---|"]
    for c in r["cases"]:
        lines.append(f"| {c['backend']} | {c['latency_ms']} ms | {c['median_bare_per_s']} | {c['median_hub_per_s']} | "
                     f"{c['median_ratio']} | {verdict(c['median_ratio'] >= 0.8)} | {c['median_cpu_ms_bare']} | "
                     f"{c['median_cpu_ms_hub']} |")
    lines += ["", "Per round (bare/hub deliveries/s, ratio): " + "; ".join(
        f"{c['backend']} {c['latency_ms']} ms: " + ", ".join(
            f"{x['bare']['per_s']}/{x['hub']['per_s']} ({x['ratio']})" for x in c["rounds"]) for c in r["cases"]), ""]
    return lines


def render_b2(r: dict[str, Any]) -> list[str]:
    lines = ["## B2 — rate-limit fidelity (target ≥ 95 % of allowed, zero 429)", "", *header(r)]
    lines += [f"{r['channels']} channels, fake limits {r['limits']['per_chat_per_minute']}/min per channel and "
              f"{r['limits']['per_bot_per_second']}/s per bot, one item in {r['album_every']} an album of 3, "
              + ("texts mixed: long Thai texts of 2 and 3 messages, albums whose long caption overflows into a "
                 "reply, plain posts; " if r.get("mixed_texts") else "one-line texts; ")
              + f"window {r['window_s']:.0f} s of real time on {r['backend']}.", "",
              "| messages accepted in window | allowed (steady rate) | fidelity | 429 answers | duplicates "
              "| half-posted |",
              "|---|---|---|---|---|---|",
              f"| {r['messages_in_window']} | {r['allowed_in_window']:.0f} | {r['fidelity']:.1%} "
              f"({verdict(r['fidelity'] >= 0.95)}) | {r['status_429']} ({verdict(r['status_429'] == 0)}) | "
              f"{r['duplicated_receipts']} | {r.get('half_posted', 'not measured')} |", "",
              f"Answers by status: {r['status_counts']}; messages per channel over the whole run: {r['per_channel']}.",
              ""]
    line = load("b2_line")
    if line is not None:
        lines += render_b2_line(line)
    return lines


def render_b2_line(r: dict[str, Any]) -> list[str]:
    """B2's LINE row (issue 14): quota fidelity, measured by `python -m bench.b2_line`."""
    return ["### B2 — LINE: quota fidelity (target: zero over-quota sends, zero duplicates)", "", *header(r),
            f"{r['groups']} LINE groups of {r['members']} members each, a month's quota of {r['quota']} messages "
            f"with {r['reserve_percent']:.0f} % kept in reserve (usable {r['usable']}), {r['items_queued']} items "
            f"→ {r['deliveries_queued']} deliveries queued at once on {r['backend']}.", "",
            "| pushes accepted | messages counted by the fake | fidelity to usable quota | 429 over quota "
            "| duplicates | held for next month | seconds to fill |",
            "|---|---|---|---|---|---|---|",
            f"| {r['pushes_accepted']} | {r['messages_counted']} | {r['fidelity']:.3f} | "
            f"{r['over_quota_refusals_429']} ({verdict(r['over_quota_refusals_429'] == 0)}) | {r['duplicates']} "
            f"({verdict(r['duplicates'] == 0)}) | {r['delivery_states'].get('pending', 0)} | {r['seconds_to_fill']} |",
            ""]


def _b3_target_ms(case: dict[str, Any]) -> int:
    """Issue 11: an approval from another process is sent within 300 ms (PostgreSQL, LISTEN/NOTIFY) or
    600 ms (SQLite, the change counter polled); the in-process path keeps the first round's 1 s."""
    if case["path"] != "cross-process":
        return 1000
    return 300 if case["backend"] == "postgresql" else 600


def render_b3(r: dict[str, Any]) -> list[str]:
    lines = ["## B3 — approve → sent latency on an idle hub (issue 11 targets: cross-process p99 ≤ 300 ms on "
             "PostgreSQL, ≤ 600 ms on SQLite; in-process p99 ≤ 1 s)", "", *header(r)]
    lines += [f"Dispatcher tick (HUB_DISPATCH_INTERVAL_S) {r['dispatch_interval_s']} s.", "",
              "| database | path | items | p50 | p90 | p99 | max | target |", "|---|---|---|---|---|---|---|---|"]
    for c in r["cases"]:
        lines.append(f"| {c['backend']} | {c['path']} | {c['items']} | {c['p50_ms']} ms | {c['p90_ms']} ms | "
                     f"{c['p99_ms']} ms | {c['max_ms']} ms | {verdict(c['p99_ms'] <= _b3_target_ms(c))} |")
    lines += ["", "*in-process*: the approval happens in the hub's own process (web dashboard, bot) and the "
              "newsroom's after-commit signal wakes the dispatcher. *cross-process*: approved from another process "
              "(`network-hub news approve` in a shell); the approval's transaction announces the work (NOTIFY on "
              "PostgreSQL, the outbox change counter polled every 0.25 s on SQLite) and the hub's listener wakes "
              "its dispatcher (engine v2; before, it waited for the next 2 s tick).", ""]
    return lines


def render_b4(r: dict[str, Any]) -> list[str]:
    lines = ["## B4 — national scale", "", *header(r)]
    for c in r["cases"]:
        run = c["network_hub_run"]
        lines += [f"### {c['backend']}", "",
                  f"Rows: {c['counts']}. Load time {c['load_s']} s ({c['load_parts_s']}).", "",
                  "| measurement | p50 | p99 | target |", "|---|---|---|---|"]
        for key, label in (("pending_queue", f"`pending_queue` (moderator of tambon {c['moderator_tambon']}, "
                                              f"{c['queue_items']} waiting)"),
                           ("queue_page", "web `/queue` page (TestClient)"),
                           ("village_statistics", f"`village_statistics` (district {c['district']}, "
                                                  f"{c['district_villages']} villages, 30 days)"),
                           ("stats_page", "web `/stats` page (TestClient)")):
            t = c[key]
            lines.append(f"| {label} | {t['p50_ms']} ms | {t['p99_ms']} ms | {verdict(t['p99_ms'] <= 50)} (≤ 50 ms) |")
        first, second = c["plan_reminders_first_pass_s"], c["plan_reminders_second_pass_s"]
        lines += ["", "`network-hub reminders run --once` over the whole country (includes CLI start-up): "
                  f"pass 1 of this run {first} s ({c['plan_reminders_first_pass_report']}), "
                  f"{verdict(first is not None and first <= 5)}; pass 2 {second} s "
                  f"({c['plan_reminders_second_pass_report']}), {verdict(second is not None and second <= 5)} "
                  "(target ≤ 5 s).", "",
                  f"`network-hub run --no-bot` (web on) for {run['seconds']:.0f} s on this database: peak RSS "
                  f"{run['peak_rss_mib']} MiB, {verdict(run['peak_rss_mib'] <= 300)} (≤ 300 MB); jobs that ran: "
                  f"{', '.join(run['jobs_seen'])}; errors in its log: {run['errors_in_log']}.", ""]
    return lines


def render_b5(r: dict[str, Any]) -> list[str]:
    lines = ["## B5 — scaling out on one PostgreSQL (target 4:1 ≥ 3, zero duplicates)", "", *header(r)]
    lines += [f"Fakes adding {r['latency_ms']} ms per call; {r['channels']} Telegram channels and one Facebook Page; "
              "per-bot limit off.", "",
              "| processes | deliveries | deliveries/s | machine CPU busy | hub CPU ms/delivery | duplicates | 429 |",
              "|---|---|---|---|---|---|---|"]
    for x in r["runs"]:
        lines.append(f"| {x['processes']} | {x['deliveries']} | {x['per_s']} | {x['machine_busy_fraction']:.0%} | "
                     f"{x['hub_cpu_ms_per_delivery']} | {x['duplicated_receipts']} | {x['status_429']} |")
    lines += ["", f"Medians: {r['median_per_s']}; ratio 2:1 = {r['ratio_2_to_1']}, 4:1 = {r['ratio_4_to_1']} "
              f"({verdict(r['ratio_4_to_1'] >= 3)}); duplicates {r['duplicates_total']} "
              f"({verdict(r['duplicates_total'] == 0)}); not sent {r['lost_total']}.", ""]
    return lines


def render() -> None:
    lines = ["# Performance", "",
             "Generated by `.venv/bin/python -m bench.run_all` from `bench/results/*.json` (do not edit by hand; "
             "the analysis comes from `bench/analysis.md`). The machine is shared: figures are ratios within one "
             "run where possible, and each section says when and under what load it ran.", ""]
    renderers = {"b1": render_b1, "b2": render_b2, "b3": render_b3, "b4": render_b4, "b5": render_b5}
    for key, fn in renderers.items():
        result = load(key)
        if result is None:
            lines += [f"## {key.upper()}", "", "Not run yet.", ""]
            continue
        try:
            lines += fn(result)
        except (KeyError, TypeError) as exc:
            lines += [f"## {key.upper()}", "", f"Result file incomplete ({exc}); run it again.", ""]
    from bench.photo_report import render_photos  # PHOTOS hook (issue 16): the "PDPA in photos" section

    lines += render_photos()
    from bench.cli_startup import render_cli_startup  # OFFICE-UI hook (issue 13): the "CLI start-up" section

    lines += render_cli_startup()
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text(encoding="utf-8").rstrip(), ""]
    DOC.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=sorted(BENCHMARKS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    failed = []
    if not args.render_only:
        for key in args.only:
            command = [sys.executable, "-m", BENCHMARKS[key]] + (["--quick"] if args.quick else [])
            print("running", " ".join(command), flush=True)
            if subprocess.run(command, cwd=ROOT).returncode != 0:
                failed.append(key)
    render()
    if failed:
        raise SystemExit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
