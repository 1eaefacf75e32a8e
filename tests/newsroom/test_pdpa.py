"""PDPA flags: Thai ID checksum (property tests), phones, bank accounts, minors, health words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network_hub.newsroom.pdpa import Consent, detect_flags, find_evidence, thai_id_checksum_ok
from network_hub.states import PdpaFlag
from network_hub.thai import to_thai_digits

ID = PdpaFlag.THAI_NATIONAL_ID


def with_check_digit(first12: str) -> str:
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return first12 + str((11 - total % 11) % 10)


twelve_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)
separators = st.sampled_from(["", "-", " "])


def formatted(digits: str, seps: list[str], thai: list[bool]) -> str:
    """Digits with a separator (or none) before each of the 12 gaps and some digits in Thai."""
    out = []
    for i, d in enumerate(digits):
        out.append(to_thai_digits(d) if thai[i] else d)
        if i < 12:
            out.append(seps[i])
    return "".join(out)


# Around the number: Thai words, never digits or separators touching it.
surroundings = st.sampled_from(["", "เลขบัตร ", "ผู้รับทุน: ", "(บัตรประชาชน ", "ID:"])
endings = st.sampled_from(["", " ครับ", ")", " ค่ะ\nขอบคุณ"])


@settings(max_examples=300, deadline=None)
@given(twelve_digits, st.lists(separators, min_size=12, max_size=12), st.lists(st.booleans(), min_size=13,
       max_size=13), surroundings, endings)
def test_valid_ids_are_always_flagged_in_any_formatting(first12: str, seps: list[str], thai: list[bool],
                                                        before: str, after: str) -> None:
    number = with_check_digit(first12)
    text = before + formatted(number, seps, thai) + after
    assert ID in detect_flags(text)
    evidence = [f.evidence for f in find_evidence(text) if f.flag is ID]
    assert evidence == [formatted(number, seps, thai)]


@settings(max_examples=300, deadline=None)
@given(twelve_digits, st.integers(min_value=1, max_value=9), st.lists(separators, min_size=12, max_size=12),
       st.lists(st.booleans(), min_size=13, max_size=13), surroundings, endings)
def test_numbers_failing_the_checksum_are_never_flagged_as_id(first12: str, wrong_by: int, seps: list[str],
                                                              thai: list[bool], before: str, after: str) -> None:
    valid = with_check_digit(first12)
    number = valid[:12] + str((int(valid[12]) + wrong_by) % 10)
    assert not thai_id_checksum_ok(number)
    assert ID not in detect_flags(before + formatted(number, seps, thai) + after)


def test_known_id_with_leading_zero_and_usual_layout() -> None:
    number = with_check_digit("012345678901")
    text = f"เลขประจำตัว {number[0]}-{number[1:5]}-{number[5:10]}-{number[10:12]}-{number[12]}"
    assert detect_flags(text) == [ID]


def test_an_id_inside_a_longer_number_is_not_an_id() -> None:
    number = with_check_digit("110370012345")
    assert ID not in detect_flags(f"รหัสพัสดุ 99{number}")


@pytest.mark.parametrize(("text", "flags"), [
    ("สนใจสั่งซื้อโทร 081-234-5678", [PdpaFlag.PHONE_NUMBER]),
    ("โทร ๐๘๑๒๓๔๕๖๗๘ ได้ทุกวัน", [PdpaFlag.PHONE_NUMBER]),
    ("สำนักงาน อบต. 054-123456", [PdpaFlag.PHONE_NUMBER]),
    ("โอนเงินเข้าบัญชีธนาคารกรุงไทย เลขที่บัญชี 123-4-56789-0", [PdpaFlag.BANK_ACCOUNT]),
    ("บริจาคได้ที่ บัญชี 1234567890 ชื่อบัญชีกองทุนหมู่บ้าน", [PdpaFlag.BANK_ACCOUNT]),
    ("พร้อมเพย์ 0812345678", [PdpaFlag.PHONE_NUMBER, PdpaFlag.BANK_ACCOUNT]),
    ("ด.ช.สมชาย ได้รางวัลที่ 1", [PdpaFlag.MINOR]),
    ("ด.ญ. มะลิ และเด็กหญิงแก้ว", [PdpaFlag.MINOR]),
    ("เด็กชายแดงช่วยงาน", [PdpaFlag.MINOR]),
    ("เยี่ยมผู้ป่วยติดเตียง 3 ราย", [PdpaFlag.HEALTH_OR_DISABILITY]),
    ("มอบรถเข็นให้ผู้พิการ", [PdpaFlag.HEALTH_OR_DISABILITY]),
    ("รณรงค์ตรวจ HIV ฟรี", [PdpaFlag.HEALTH_OR_DISABILITY]),
    # Ordinary village news: numbers that are prices, dates, counts, years are not personal data.
    ("ผ้าทอราคา 350 บาท จำหน่ายวันที่ 24 พ.ย. 2569 มีผู้ร่วมงาน 1,250 คน", []),
    ("ประชุมหมู่บ้าน ครั้งที่ 12/2569 งบประมาณ 1,500,000 บาท", []),
    ("ยอดขายปี 2568 รวม 1234567890 บาท", []),  # ten digits, no bank word near
])
def test_text_flags(text: str, flags: list[PdpaFlag]) -> None:
    assert detect_flags(text) == flags


def test_photos_showing_children_raise_minor_even_without_words() -> None:
    assert detect_flags("งานวันเด็ก", Consent(photos_show_children=True)) == [PdpaFlag.MINOR]
    assert detect_flags("งานวันเด็ก", Consent(photos_show_children=False)) == []


def test_evidence_points_into_the_original_text() -> None:
    text = "ติดต่อ ๐๘๑-๒๓๔-๕๖๗๘ หรือ ด.ญ.มะลิ"
    for finding in find_evidence(text):
        assert text[finding.start:finding.end] == finding.evidence
        assert finding.label_th
