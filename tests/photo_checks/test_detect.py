"""From OCR words to findings: the repairs OCR text needs, and the region of each finding.

No Tesseract here: the words are given as Tesseract would return them.
"""

from __future__ import annotations

from network_hub.photo_checks.detect import PhotoFinding, find_in_words, line_texts
from network_hub.photo_checks.ocr import OcrResult, Word, _geometric_lines, _unrotate_box
from network_hub.states import PdpaFlag
from tests.photo_checks.conftest import VALID_ID

INVALID_ID = VALID_ID[:12] + str((int(VALID_ID[12]) + 3) % 10)


def words_in_a_row(texts: list[str], *, y: int = 100, start: int = 50, line: int = 0) -> list[Word]:
    """Words left to right, 40 px high, 20 px apart, as one OCR line."""
    out, x = [], start
    for position, text in enumerate(texts):
        width = 25 * len(text)
        out.append(Word(text, 90.0, (x, y, x + width, y + 40), (0, line, position)))
        x += width + 20
    return out


def result(words: list[Word]) -> OcrResult:
    return OcrResult(words=words, rotation=0, size=(2000, 1500))


def test_an_id_split_into_words_and_dashes_is_joined_and_boxed() -> None:
    groups = [VALID_ID[0], "-", VALID_ID[1:5], "-", VALID_ID[5:10], "-", VALID_ID[10:12], "-", VALID_ID[12]]
    words = words_in_a_row(["เลขประจำตัว", *groups])
    findings = find_in_words(result(words))
    assert [(f.flag, f.digits) for f in findings] == [(PdpaFlag.THAI_NATIONAL_ID, VALID_ID)]
    # The box spans the number's words only, not the label before it.
    assert findings[0].box == (words[1].box[0], 100, words[-1].box[2], 140)


def test_thai_digits_and_spaced_groups() -> None:
    thai = VALID_ID.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    words = words_in_a_row([thai[0], thai[1:5], thai[5:10], thai[10:12], thai[12]])
    assert [f.digits for f in find_in_words(result(words))] == [VALID_ID]


def test_a_wrong_check_digit_is_not_an_id() -> None:
    words = words_in_a_row([INVALID_ID[0], INVALID_ID[1:5], INVALID_ID[5:10], INVALID_ID[10:12], INVALID_ID[12]])
    assert [f for f in find_in_words(result(words)) if f.flag is PdpaFlag.THAI_NATIONAL_ID] == []


def test_letter_lookalikes_in_numbers_are_read_as_digits_but_words_stay_words() -> None:
    broken = VALID_ID.replace("0", "O").replace("1", "l")
    words = words_in_a_row(["โทร", "O81-234-5678", broken, "Soi", "Bangkok"])
    found = {(f.flag, f.digits) for f in find_in_words(result(words))}
    assert (PdpaFlag.PHONE_NUMBER, "0812345678") in found
    assert broken != VALID_ID  # the test ID has a 1 to break
    assert (PdpaFlag.THAI_NATIONAL_ID, VALID_ID) in found
    assert "Soi Bangkok" in line_texts(result(words))[0][0]


def test_thai_characters_read_one_by_one_are_rejoined_for_the_bank_words() -> None:
    words = words_in_a_row([*"บัญชี", "ธ", "ก", "ส", "123-4-56789-0"])
    findings = find_in_words(result(words))
    assert [(f.flag, f.digits) for f in findings] == [(PdpaFlag.BANK_ACCOUNT, "1234567890")]
    assert line_texts(result(words))[0][0].startswith("บัญชีธกส")


def test_separate_lines_never_make_one_number() -> None:
    top = words_in_a_row([VALID_ID[:6]], line=0)
    bottom = words_in_a_row([VALID_ID[6:]], line=1, y=300)
    assert find_in_words(result(top + bottom)) == []


def test_one_finding_per_number_when_both_passes_read_it() -> None:
    first = words_in_a_row(["0812345678"], line=0)
    second = [Word(w.text, w.conf, w.box, (1, 0, w.line[2])) for w in first]
    assert len(find_in_words(result(first + second))) == 1


def test_no_text_no_findings() -> None:
    assert find_in_words(result([])) == []


def test_finding_round_trips_through_json() -> None:
    finding = PhotoFinding(PdpaFlag.PHONE_NUMBER, "081-234-5678", (1, 2, 3, 4))
    assert PhotoFinding.from_dict(finding.to_dict()) == finding
    assert finding.to_dict()["label_th"] == "หมายเลขโทรศัพท์"


def test_geometric_lines_follow_a_slanted_row_and_cut_wide_gaps() -> None:
    # Four groups of a number on a card photographed askew (each 12 px lower), then a far column.
    boxes = [(0, 100, 40, 140), (60, 112, 160, 152), (180, 124, 300, 164), (320, 136, 370, 176),
             (900, 140, 1100, 180)]
    lines = _geometric_lines(boxes)
    assert len({line[:2] for line in lines[:4]}) == 1
    assert [line[2] for line in lines[:4]] == [0, 1, 2, 3]
    assert lines[4][:2] != lines[0][:2]


def test_boxes_read_in_a_turned_photo_map_back() -> None:
    w, h = 400, 300
    box = (10, 20, 50, 40)
    # Turned 90° counter-clockwise, the photo is h×w and the point (x, y) lands at (y, w - x).
    turned_90 = (20, w - 50, 40, w - 10)
    assert _unrotate_box(turned_90, 90, (w, h)) == box
    turned_270 = (h - 40, 10, h - 20, 50)
    assert _unrotate_box(turned_270, 270, (w, h)) == box
    assert _unrotate_box((w - 50, h - 40, w - 10, h - 20), 180, (w, h)) == box
    assert _unrotate_box(box, 0, (w, h)) == box


def test_two_readings_of_one_printed_number_keep_the_more_confident() -> None:
    right = Word("089-123-4567", 93.0, (100, 100, 400, 140), (0, 0, 0))
    misread = Word("089-123-4561", 61.0, (102, 101, 398, 141), (1, 0, 0))
    elsewhere = Word("081-234-5678", 90.0, (100, 300, 400, 340), (1, 1, 0))
    found = find_in_words(result([right, misread, elsewhere]))
    assert [(f.digits, f.conf) for f in found] == [("0891234567", 93.0), ("0812345678", 90.0)]
