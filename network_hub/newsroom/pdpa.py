"""PDPA flags: personal data a moderator must look at before a post goes public.

Detection is deliberately cautious (a false alarm costs a moderator one click; a leaked ID card
number cannot be taken back). Thai digits are read as Arabic digits first; every Thai digit is
one character, so offsets of the evidence stay valid for the original text.

- Thai national ID: 13 digits passing the mod-11 check digit, written in any grouping with
  dashes or spaces (a leading 0 is allowed: such IDs exist for people without registration).
- Phone numbers: ``phonenumbers.PhoneNumberMatcher`` with region TH (numbers that are part of
  an ID number are not counted twice).
- Bank accounts: 10–12 digit numbers near words such as บัญชี, ธนาคาร, พร้อมเพย์.
- Minors: child titles (ด.ช., ด.ญ., เด็กชาย, เด็กหญิง) or the submitter's answer that the photos
  show children.
- Health or disability words (ผู้ป่วย, ติดเตียง, ผู้พิการ, HIV, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import phonenumbers

from network_hub.newsroom.labels import PDPA_FLAG_TH
from network_hub.states import PdpaFlag
from network_hub.thai import to_arabic_digits


@dataclass(frozen=True)
class Consent:
    """The submitter's answers about the photos."""

    photos_show_children: bool = False
    identifiable_people: bool = False
    consent_given: bool = False

    def to_dict(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Consent:
        data = data or {}
        return cls(**{k: bool(data.get(k, False)) for k in ("photos_show_children", "identifiable_people",
                                                            "consent_given")})


@dataclass(frozen=True)
class PdpaFinding:
    """One piece of evidence: which flag, the text that raised it and where."""

    flag: PdpaFlag
    evidence: str
    start: int = -1  # -1: raised by the consent answers, not by the text
    end: int = -1

    @property
    def label_th(self) -> str:
        return PDPA_FLAG_TH[self.flag]

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag.value, "evidence": self.evidence, "start": self.start, "end": self.end,
                "label_th": self.label_th}


# Digit groups joined by at most one separator (dash, space, no-break space, dot or en dash).
_DIGIT_GROUP = re.compile(r"\d+")
_SEPARATORS = frozenset("- \u00a0.\u2013")

_BANK_WORDS = re.compile(r"บัญชี|ธนาคาร|พร้อมเพย์|พร้อมเพ|promptpay|prompt\s*pay|บช\.|a/c|account", re.IGNORECASE)
_BANK_CONTEXT_BEFORE = 40
_BANK_CONTEXT_AFTER = 15

_MINOR = re.compile(r"ด\.\s?[ชญ]\.|ด\.\s?[ชญ](?![\u0e30-\u0e4e])|เด็กชาย|เด็กหญิง")

_HEALTH_WORDS = (
    "ผู้ป่วย", "คนป่วย", "ป่วยติดเตียง", "ติดเตียง", "ผู้พิการ", "คนพิการ", "พิการ", "บัตรคนพิการ",
    "ทุพพลภาพ", "อัมพาต", "อัมพฤกษ์", "ฟอกไต", "ไตวาย", "มะเร็ง", "ผู้ติดเชื้อ", "เอชไอวี", "เอดส์",
    "จิตเวช", "ป่วยทางจิต", "โรคซึมเศร้า", "ตาบอด", "หูหนวก", "ออทิสติก", "ผู้สูงอายุติดบ้าน",
)
_HEALTH = re.compile(
    "|".join(re.escape(w) for w in sorted(_HEALTH_WORDS, key=len, reverse=True))
    + r"|\bHIV\b|\bAIDS\b",
    re.IGNORECASE,
)


def thai_id_checksum_ok(digits: str) -> bool:
    """The mod-11 check digit of a 13-digit Thai national ID (weights 13..2)."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


@dataclass(frozen=True)
class _NumberRun:
    digits: str
    start: int
    end: int


def _digit_groups(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(text)]


def _number_runs(text: str) -> Iterator[list[tuple[int, int]]]:
    """Chains of digit groups separated by exactly one separator character."""
    chain: list[tuple[int, int]] = []
    for start, end in _digit_groups(text):
        if chain and start - chain[-1][1] == 1 and text[chain[-1][1]] in _SEPARATORS:
            chain.append((start, end))
        else:
            if chain:
                yield chain
            chain = [(start, end)]
    if chain:
        yield chain


def _windows(text: str, lengths: range) -> Iterator[_NumberRun]:
    """Every contiguous sub-chain of groups whose digits add up to a length in ``lengths``.

    Windowing lets "โทร 0812345678 เลข 1-2345-..." and IDs written next to other numbers be seen,
    while a 13-digit stretch inside one longer unbroken number (a card number) is not an ID.
    """
    for chain in _number_runs(text):
        for i in range(len(chain)):
            count = 0
            for j in range(i, len(chain)):
                count += chain[j][1] - chain[j][0]
                if count >= lengths.stop:
                    break
                if count in lengths:
                    start, end = chain[i][0], chain[j][1]
                    yield _NumberRun("".join(ch for ch in text[start:end] if ch.isdigit()), start, end)


def _thai_ids(text: str) -> list[_NumberRun]:
    return [run for run in _windows(text, range(13, 14)) if thai_id_checksum_ok(run.digits)]


def _overlaps(start: int, end: int, spans: list[_NumberRun]) -> bool:
    return any(start < s.end and s.start < end for s in spans)


def find_evidence(text: str, consent: Consent | None = None) -> list[PdpaFinding]:
    """Every PDPA finding in ``text`` (and the consent answers), in text order, for display."""
    original = text or ""
    text = to_arabic_digits(original)  # same length: one Thai digit is one character
    findings: list[PdpaFinding] = []

    ids = _thai_ids(text)
    findings += [PdpaFinding(PdpaFlag.THAI_NATIONAL_ID, original[r.start:r.end], r.start, r.end) for r in ids]

    phones: list[_NumberRun] = []
    for match in phonenumbers.PhoneNumberMatcher(text, "TH", leniency=phonenumbers.Leniency.VALID):
        if not _overlaps(match.start, match.end, ids):
            phones.append(_NumberRun(match.raw_string, match.start, match.end))
            findings.append(PdpaFinding(PdpaFlag.PHONE_NUMBER, original[match.start:match.end],
                                        match.start, match.end))

    for run in _windows(text, range(10, 13)):
        if _overlaps(run.start, run.end, ids):
            continue
        before = text[max(0, run.start - _BANK_CONTEXT_BEFORE):run.start]
        after = text[run.end:run.end + _BANK_CONTEXT_AFTER]
        if _BANK_WORDS.search(before) or _BANK_WORDS.search(after):
            findings.append(PdpaFinding(PdpaFlag.BANK_ACCOUNT, original[run.start:run.end], run.start, run.end))
    # "พร้อมเพย์" followed by a phone or ID number is a payment handle too.
    for match in re.finditer(r"พร้อมเพย์|promptpay", text, re.IGNORECASE):
        near = text[match.end():match.end() + _BANK_CONTEXT_BEFORE]
        if re.search(r"\d", near) and not any(f.flag is PdpaFlag.BANK_ACCOUNT for f in findings):
            findings.append(PdpaFinding(PdpaFlag.BANK_ACCOUNT, original[match.start():match.end()],
                                        match.start(), match.end()))

    for match in _MINOR.finditer(text):
        findings.append(PdpaFinding(PdpaFlag.MINOR, original[match.start():match.end()],
                                    match.start(), match.end()))
    if consent is not None and consent.photos_show_children:
        findings.append(PdpaFinding(PdpaFlag.MINOR, "ผู้ส่งแจ้งว่าภาพมีเด็ก"))

    for match in _HEALTH.finditer(text):
        findings.append(PdpaFinding(PdpaFlag.HEALTH_OR_DISABILITY, original[match.start():match.end()],
                                    match.start(), match.end()))

    findings.sort(key=lambda f: (f.start, f.flag.value))
    return findings


_FLAG_ORDER = {flag: i for i, flag in enumerate(PdpaFlag)}


def detect_flags(text: str, consent: Consent | None = None) -> list[PdpaFlag]:
    """The distinct flags raised by ``text`` and ``consent``, in the enum's order."""
    return sorted({f.flag for f in find_evidence(text, consent)}, key=_FLAG_ORDER.__getitem__)
