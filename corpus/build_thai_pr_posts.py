"""Rebuild corpus/thai_pr_posts/ from a git snapshot of PyThaiNLP/thaigov-v2-corpus.

Usage: python corpus/build_thai_pr_posts.py /path/to/thaigov-v2-corpus (a clone; read with git,
no network). Indexes every 2023–2025 news file, then picks posts per feature with a fixed seed.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
SOURCE = re.compile(r"ที่มา\s*:\s*(https?://\S+)\s*$")
OUT = Path(__file__).resolve().parent / "thai_pr_posts"
PICKS: list[tuple[str, int, Any]] = [
    ("emoji opening", 2, lambda x: x["emoji_open"]),
    ("emoji inside", 3, lambda x: x["emoji"]),
    ("hashtags", 5, lambda x: x["hashtag"] and x["u16"] < 4096),
    ("urls", 5, lambda x: x["urls"] and x["u16"] < 4096),
    ("one paragraph, short", 5, lambda x: x["paras"] == 1 and x["u16"] < 1000),
    ("one paragraph, long", 3, lambda x: x["paras"] == 1 and x["u16"] >= 1000),
    ("short, first line <= 200", 4, lambda x: x["u16"] < 1000 and x["first"] <= 200),
    ("over 4,096", 6, lambda x: 4096 < x["u16"] <= 8000),
    ("over 8,000", 7, lambda x: x["u16"] > 8000),
    ("first line over 200", 8, lambda x: x["first"] > 200 and x["u16"] < 4096),
    ("hashtags, long", 2, lambda x: x["hashtag"] and x["u16"] > 4096),
]


def parse(text: str) -> tuple[str, str, str] | None:
    """(url, headline, content) of one dataset file, or None when it is not a news page."""
    found = SOURCE.search(text.strip())
    lines = text.split("\n")
    if not found or not lines:
        return None
    head = lines[0]
    title = head.split("-", 2)[2].strip() if head.count("-") >= 2 else head.strip()
    start = next((i for i, line in enumerate(lines[:10]) if line.strip() == "พิมพ์"), None)
    if start is None:
        return None
    body = lines[start + 1 :]
    while body and body[0].strip() == title:
        body = body[1:]  # the page repeats its headline above the text
    content = "\n".join(body)
    content = content[: content.rfind("ที่มา")].strip()
    return (found.group(1), title, content) if content else None


def files(repo: Path) -> list[tuple[str, str]]:
    listing = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "-z", "HEAD", "data/2023", "data/2024",
                              "data/2025"], capture_output=True, check=True).stdout.decode()
    return [(entry.split("\t", 1)[0].split()[2], entry.split("\t", 1)[1]) for entry in listing.split("\0") if entry]


def main(repo: Path) -> None:
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    index = []
    for sha, path in files(repo):
        text = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", sha], capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
        parsed = parse(text)
        if parsed is None:
            continue
        url, title, content = parsed
        u16 = len(content.encode("utf-16-le")) // 2
        thai = sum("\u0e00" <= c <= "\u0e7f" for c in title) * 2 > len(title)
        if not (thai and 150 <= u16 <= 19_000):
            continue
        index.append({"path": path, "url": url, "title": title, "content": content, "u16": u16,
                      "first": len(content.split("\n")[0]), "paras": content.count("\n") + 1,
                      "emoji_open": bool(EMOJI.search(content[:50])), "emoji": bool(EMOJI.search(content)),
                      "hashtag": "#" in content, "urls": "://" in content})
    random.Random(12).shuffle(index)
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for why, count, wanted in PICKS:
        for entry in [x for x in index if x["url"] not in seen and wanted(x)][:count]:
            seen.add(entry["url"])
            chosen.append({**entry, "why": why})
    OUT.mkdir(exist_ok=True)
    for number, entry in enumerate(chosen, 1):
        record = {"id": f"{number:03d}", "url": entry["url"], "title": entry["title"], "text": entry["content"],
                  "photos": number * 7 % 11, "features": entry["why"], "utf16_units": entry["u16"],
                  "source": {"dataset": "PyThaiNLP/thaigov-v2-corpus (public domain, Thai Copyright Act s.7)",
                             "commit": commit, "path": entry["path"]}}
        (OUT / f"{number:03d}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(chosen)} posts written to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
