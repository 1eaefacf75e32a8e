"""From words read in a photo to PDPA findings with the region of the photo they came from.

The detectors are the body text's own (``newsroom.pdpa.find_evidence``). OCR text needs two
repairs first, both keeping one character per character so offsets map back to words:

- digit look-alikes inside number-like words (O→0, l/I/|→1, S→5, B→8) — Tesseract's Thai+English
  model reads a printed "0" as "O" now and then;
- numbers split into several words ("1", "-", "2345") are joined within a line segment: a lone
  separator is attached without spaces, so the chain rules of ``pdpa`` see one grouped number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from PIL import Image

from network_hub.newsroom import pdpa
from network_hub.newsroom.labels import PDPA_FLAG_TH
from network_hub.photo_checks.ocr import OcrResult, read_words
from network_hub.states import PdpaFlag
from network_hub.thai import to_arabic_digits

_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "i": "1",
                            "S": "5", "B": "8"})
_SEPARATOR_WORD = re.compile(r"^[-–.]+$")
_DIGITISH = re.compile(r"^[\dOoDlI|iSB\-–.]+$")
# Tesseract's Thai model gives one "word" per character or syllable; Thai is written without spaces.
_THAI = re.compile(r"[\u0e00-\u0e7f]")


@dataclass(frozen=True)
class PhotoFinding:
    flag: PdpaFlag
    evidence: str  # the text as joined from the photo, e.g. "1-2345-67890-12-1"
    box: tuple[int, int, int, int]  # left, top, right, bottom in the stored photo's pixels
    conf: float = 100.0  # the lowest Tesseract confidence (0-100) of the words it was read from

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.evidence if ch.isdigit())

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag.value, "label_th": PDPA_FLAG_TH[self.flag], "evidence": self.evidence,
                "box": list(self.box), "conf": round(self.conf, 1)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhotoFinding:
        return cls(PdpaFlag(data["flag"]), str(data["evidence"]), tuple(int(v) for v in data["box"]),  # type: ignore[arg-type]
                   float(data.get("conf", 100.0)))


def _clean_word(text: str) -> str:
    text = to_arabic_digits(text)
    digits = sum(ch.isdigit() for ch in text)
    # Only words that are mostly digits already: "Soi" or "Bangkok" must stay words.
    if digits >= 2 and _DIGITISH.match(text) and digits * 2 >= len(text):
        text = text.translate(_LOOKALIKE)
    return text


def _ends_number(text: str) -> bool:
    return bool(text) and (text[-1].isdigit() or text[-1] in "-–.")


def line_texts(result: OcrResult) -> list[tuple[str, list[int]]]:
    """Each line segment's text and, per character, the index of the word it came from (-1: a space)."""
    segments: dict[tuple[int, int], list[int]] = {}
    for index, word in enumerate(result.words):
        segments.setdefault(word.line[:2], []).append(index)
    out: list[tuple[str, list[int]]] = []
    for indices in segments.values():
        indices.sort(key=lambda i: result.words[i].line[2])
        chars: list[str] = []
        owners: list[int] = []
        previous = ""
        for i in indices:
            text = _clean_word(result.words[i].text)
            glue = previous and not (_SEPARATOR_WORD.match(text) and previous[-1].isdigit()) \
                and not (previous[-1] in "-–." and _ends_number(previous) and text[:1].isdigit()) \
                and not (_THAI.match(previous[-1]) and _THAI.match(text[0]))
            if glue:
                chars.append(" ")
                owners.append(-1)
            chars.extend(text)
            owners.extend([i] * len(text))
            previous = text
        out.append(("".join(chars), owners))
    return out


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def find_in_words(result: OcrResult) -> list[PhotoFinding]:
    """PDPA findings in an OCR result, each with the union box of the words it spans."""
    readings: list[PhotoFinding] = []
    for text, owners in line_texts(result):
        for evidence in pdpa.find_evidence(text):
            if evidence.start < 0:
                continue
            words = sorted({o for o in owners[evidence.start:evidence.end] if o >= 0})
            if not words:
                continue
            readings.append(PhotoFinding(evidence.flag, evidence.evidence,
                                         _union([result.words[w].box for w in words]),
                                         min(result.words[w].conf for w in words)))
    findings: list[PhotoFinding] = []
    seen: set[tuple[PdpaFlag, str]] = set()
    for finding in _one_reading_per_region(readings):
        key = (finding.flag, finding.digits or finding.evidence)  # one number printed twice: reported once
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return findings


def _same_region(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    shared_w = min(a[2], b[2]) - max(a[0], b[0])
    shared_h = min(a[3], b[3]) - max(a[1], b[1])
    if shared_w <= 0 or shared_h <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return shared_w * shared_h >= 0.5 * max(1, smaller)


def _one_reading_per_region(readings: list[PhotoFinding]) -> list[PhotoFinding]:
    """Where the OCR passes read one printed number differently, keep the reading most passes agree
    on, then the most confident one.

    On the generated set most false phone numbers were a second, misread copy of a number another
    pass had read right (a 3 read as 5 or 8 in a dim photo); both passed the validity checks.
    """
    groups: list[list[PhotoFinding]] = []
    for reading in readings:
        for group in groups:
            if group[0].flag is reading.flag and any(_same_region(g.box, reading.box) for g in group):
                group.append(reading)
                break
        else:
            groups.append([reading])
    chosen = []
    for group in groups:
        votes: dict[str, int] = {}
        for reading in group:
            votes[reading.digits or reading.evidence] = votes.get(reading.digits or reading.evidence, 0) + 1
        chosen.append(max(group, key=lambda r: (votes[r.digits or r.evidence], r.conf)))
    order = {id(f): i for i, f in enumerate(readings)}
    return sorted(chosen, key=lambda f: order[id(f)])


def check_image(image: Image.Image) -> list[PhotoFinding]:
    """Read ``image`` and return its PDPA findings (raises if Tesseract is missing: check first)."""
    return find_in_words(read_words(image))
