"""PDPA in photos: recall and precision of ID and phone numbers on the generated photo set, and OCR time.

The set (tests/photo_checks/make_set.py, fixed seed) is rendered into a temporary directory; each
photo goes through the hub's own path: ``prepare_photo`` (re-encoded, at most 2560 px, as stored)
then ``photo_checks.detect.check_image``. A number counts as found when a finding of the right
kind has the same digits; anything else reported is a false positive (decoys: IDs with a wrong
check digit, dates, times, amounts, postcodes).

    .venv/bin/python -m bench.photo_pdpa                 # 64 photos + timing at 12 MP
    .venv/bin/python -m bench.photo_pdpa --count 12      # a smoke run
    .venv/bin/python -m bench.photo_pdpa --seed 61 --result-name photo_pdpa_heldout   # photos not tuned on
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bench import common
from network_hub.newsroom.photos import PhotoInput, prepare_photo
from network_hub.photo_checks.detect import check_image
from network_hub.photo_checks.ocr import tesseract_status
from network_hub.states import PdpaFlag
from tests.photo_checks.make_set import generate, jpeg_bytes

KIND_OF_FLAG = {PdpaFlag.THAI_NATIONAL_ID: "ids", PdpaFlag.PHONE_NUMBER: "phones"}


def evaluate(seed: int, count: int, keep: Path | None) -> dict[str, Any]:
    tally = {k: {"tp": 0, "fn": 0, "fp": 0} for k in ("ids", "phones")}
    per_photo: list[dict[str, Any]] = []
    seconds: list[float] = []
    for case, image in generate(seed, count):
        data = jpeg_bytes(image)
        if keep:
            (keep / f"{case.name}.jpg").write_bytes(data)
        started = time.perf_counter()
        stored = prepare_photo(PhotoInput(data, f"{case.name}.jpg"))
        findings = check_image(Image.open(io.BytesIO(stored.jpeg)))
        seconds.append(time.perf_counter() - started)
        found = {"ids": {f.digits for f in findings if f.flag is PdpaFlag.THAI_NATIONAL_ID},
                 "phones": {f.digits for f in findings if f.flag is PdpaFlag.PHONE_NUMBER}}
        missed, extra = [], []
        for kind in ("ids", "phones"):
            truth = set(getattr(case, kind))
            tally[kind]["tp"] += len(truth & found[kind])
            tally[kind]["fn"] += len(truth - found[kind])
            tally[kind]["fp"] += len(found[kind] - truth)
            missed += sorted(truth - found[kind])
            extra += sorted(found[kind] - truth)
        per_photo.append({"name": case.name, "size": list(case.size), "effects": case.effects,
                          "missed": missed, "false_positives": extra, "seconds": round(seconds[-1], 2)})
        print(f"{case.name:24} {'x'.join(map(str, case.size)):10} {','.join(case.effects):24} "
              f"{seconds[-1]:5.1f}s missed={missed} extra={extra}", flush=True)
    figures = {}
    for kind, t in tally.items():
        recall = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 1.0
        precision = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 1.0
        figures[kind] = {**t, "recall": round(recall, 3), "precision": round(precision, 3)}
    return {"figures": figures, "photos": per_photo,
            "seconds_median": round(statistics.median(seconds), 2),
            "seconds_p90": round(common.percentile(seconds, 90), 2)}


def time_12mp(seed: int, samples: int) -> dict[str, Any]:
    """Stored-path timing on 12-megapixel inputs: re-encode (as at submission) + OCR of the stored photo."""
    twelve_mp = ((4000, 3000), (3000, 4000), (4032, 3024))
    cases = [(c, img) for c, img in generate(seed + 1, samples * 8) if c.size in twelve_mp]
    prepare_s, ocr_s = [], []
    for _case, image in cases[:samples]:
        data = jpeg_bytes(image)
        t0 = time.perf_counter()
        stored = prepare_photo(PhotoInput(data))
        t1 = time.perf_counter()
        check_image(Image.open(io.BytesIO(stored.jpeg)))
        t2 = time.perf_counter()
        prepare_s.append(t1 - t0)
        ocr_s.append(t2 - t1)
    return {"photos": len(ocr_s), "prepare_median_s": round(statistics.median(prepare_s), 2),
            "ocr_median_s": round(statistics.median(ocr_s), 2), "ocr_p90_s": round(common.percentile(ocr_s, 90), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--timing-samples", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="also write the generated photos here")
    parser.add_argument("--result-name", default="photo_pdpa",
                        help="result file name; photo_pdpa_heldout for a seed the checks were not tuned on")
    args = parser.parse_args()
    status = tesseract_status()
    if not status.available:
        raise SystemExit(f"photo checks unavailable: {status.reason}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    result = evaluate(args.seed, args.count, args.keep)
    result["timing_12mp"] = time_12mp(args.seed, args.timing_samples)
    result.update({"seed": args.seed, "count": args.count, "tesseract": status.reason,
                   "quick": args.count < 60})
    common.save_result(args.result_name, result)
    f = result["figures"]
    print(f"IDs: recall {f['ids']['recall']:.1%} precision {f['ids']['precision']:.1%}; phones: recall "
          f"{f['phones']['recall']:.1%} precision {f['phones']['precision']:.1%}; per photo median "
          f"{result['seconds_median']} s p90 {result['seconds_p90']} s; 12 MP: {result['timing_12mp']}")


if __name__ == "__main__":
    main()
