"""The "PDPA in photos" section of docs/PERFORMANCE.md, from bench/results/photo_pdpa.json and
photo_submission.json (rendered by ``bench.run_all``)."""

from __future__ import annotations

import json
from typing import Any

from bench.common import RESULTS_DIR


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _run(r: dict[str, Any]) -> str:
    m = r["machine"]
    return (f"Command: `{r['command']}`  \nRun: {m['date_utc']}, commit {m['commit']}; {m['nproc']} cores "
            f"({m['cpu']}), load average at start {m['load_avg_at_start']} (the machine was shared with other "
            "work: times are indicative, the recall/precision figures are not affected)")


def render_photos() -> list[str]:
    lines = ["## PDPA in photos (target recall ≥ 90 % and precision ≥ 90 % for ID and phone numbers)", ""]
    r = _load("photo_pdpa")
    if r is None:
        return [*lines, "Not run yet: `.venv/bin/python -m bench.photo_pdpa`.", ""]
    f = r["figures"]
    lines += [_run(r), "",
              f"{r['count']} generated photos (`tests/photo_checks/make_set.py`, seed {r['seed']}: ID-card-like "
              "layouts with valid and wrong check digits, signboards with phone numbers, attendance sheets, posters "
              "with dates/amounts only, plain scenes; 12, 8 and 2 megapixels; some rotated 90/180/270°, blurred or "
              "dim). Each photo goes through the hub's path: re-encoded as stored (≤ 2560 px), then "
              f"`photo_checks.detect.check_image` ({r['tesseract']}, Thai + English).", "",
              "| kind | found | missed | false alarms | recall | precision | target |", "|---|---|---|---|---|---|---|"]
    for key, label in (("ids", "Thai national ID numbers"), ("phones", "phone numbers")):
        t = f[key]
        lines.append(f"| {label} | {t['tp']} | {t['fn']} | {t['fp']} | {t['recall']:.1%} | {t['precision']:.1%} | "
                     f"{_verdict(t['recall'] >= 0.9 and t['precision'] >= 0.9)} |")
    held = _load("photo_pdpa_heldout")
    if held is not None:
        h = held["figures"]
        lines += ["", f"The detectors were tuned on seed {r['seed']}. On a held-out set (seed {held['seed']}, "
                  f"{held['count']} photos, `{held['command']}`, run {held['machine']['date_utc']}): ID numbers "
                  f"recall {h['ids']['recall']:.1%}, precision {h['ids']['precision']:.1%} "
                  f"({h['ids']['tp']} found, {h['ids']['fn']} missed, {h['ids']['fp']} false); phone numbers "
                  f"recall {h['phones']['recall']:.1%}, precision {h['phones']['precision']:.1%} "
                  f"({h['phones']['tp']} found, {h['phones']['fn']} missed, {h['phones']['fp']} false). "
                  f"OCR per photo there: median {held['seconds_median']} s, p90 {held['seconds_p90']} s; at 12 MP "
                  f"({held['timing_12mp']['photos']} photos) median {held['timing_12mp']['ocr_median_s']} s, "
                  f"p90 {held['timing_12mp']['ocr_p90_s']} s."]
    misses = [p for p in r["photos"] if p["missed"] or p["false_positives"]]
    listed = "; ".join(f"{p['name']} ({', '.join(p['effects']) or 'clean'}): missed {len(p['missed'])}, "
                       f"false {len(p['false_positives'])}" for p in misses) or "none"
    t = r["timing_12mp"]
    lines += ["", f"Photos with a miss or a false alarm: {listed}.", "",
              f"OCR time per photo over the set (re-encode + read): median {r['seconds_median']} s, "
              f"p90 {r['seconds_p90']} s. At 12-megapixel input ({t['photos']} photos of 4000×3000 or "
              f"4032×3024): re-encoding (on the request path) median {t['prepare_median_s']} s; OCR of the stored "
              f"photo (off the request path) median {t['ocr_median_s']} s, p90 {t['ocr_p90_s']} s.", ""]
    s = _load("photo_submission")
    if s is None:
        return [*lines, "Submission path: not run yet (`.venv/bin/python -m bench.photo_submission`).", ""]
    lines += ["### Submission path with OCR on/off", "", _run(s), "",
              f"`submit_item` with {s['photos_per_item']} photos from the set (12/8-megapixel), SQLite, "
              f"{s['rounds'] * s['per_arm']} submissions per arm (hook arms alternating one by one, OCR arms in "
              f"{s['rounds']} rounds of {s['per_arm']}), medians:", "",
              "| comparison | with | without | ratio |", "|---|---|---|---|",
              f"| photo-check rows written at submission (the only request-path change) | {s['hook']['on_ms']} ms | "
              f"{s['hook']['off_ms']} ms | {s['hook']['ratio']} |",
              f"| a worker reading photos with Tesseract in the same process (concurrency 1) | "
              f"{s['busy']['ocr_running_ms']} ms | {s['busy']['ocr_idle_ms']} ms | {s['busy']['ratio']} |", "",
              "Burst: items with one photo each submitted at once, then drained by the worker:", "",
              "| worker concurrency | items | all submitted after | all checked after | done | not done |",
              "|---|---|---|---|---|---|"]
    for b in s["burst"]:
        lines.append(f"| {b['concurrency']} | {b['items']} | {b['submit_all_s']} s | {b['all_checked_s']} s | "
                     f"{b['done']} | {b['other']} |")
    lines += ["", "Submissions never wait for OCR; while checks are pending, approval of those items waits "
              "(\"กำลังตรวจรูป…\") up to HUB_PHOTO_CHECK_WAIT_S (300 s); after that approval goes on and the "
              "moderator is told \"ตรวจรูปไม่เสร็จ\" on the card and the item page.", ""]
    return lines
