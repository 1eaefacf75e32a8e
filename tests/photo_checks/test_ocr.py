"""Tesseract on rendered photos: numbers found where they are, upright or turned; nothing in blank photos.

Skipped with the reason when Tesseract or its Thai data is not installed.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from network_hub.newsroom.photos import PhotoInput, prepare_photo
from network_hub.photo_checks.detect import check_image
from network_hub.states import PdpaFlag
from tests.photo_checks.conftest import VALID_ID, Render

pytestmark = pytest.mark.usefixtures("tesseract")
SPACED_ID = f"{VALID_ID[0]} {VALID_ID[1:5]} {VALID_ID[5:10]} {VALID_ID[10:12]} {VALID_ID[12]}"


def stored_image(data: bytes) -> Image.Image:
    """The photo as the hub stores it (re-encoded), which is what the checks read."""
    return Image.open(io.BytesIO(prepare_photo(PhotoInput(data)).jpeg))


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_an_id_number_on_a_card_is_found_with_its_region(render: Render) -> None:
    data, box = render(["บัตรประจำตัวประชาชน Thai National ID Card", f"เลขประจำตัวประชาชน {SPACED_ID}",
                        "ชื่อ นายสมชาย ใจดี"], mark=1)
    findings = check_image(stored_image(data))
    ids = [f for f in findings if f.flag is PdpaFlag.THAI_NATIONAL_ID]
    assert [f.digits for f in ids] == [VALID_ID]
    assert overlaps(ids[0].box, box)
    assert ids[0].box[0] > box[0] + 200  # the number, not the label before it


def test_a_photo_taken_sideways_is_read_and_the_region_is_in_the_stored_photo(render: Render) -> None:
    data, (left, top, right, bottom) = render([f"โทร 081-234-5678  เลข {SPACED_ID}"], rotate=90)
    image = stored_image(data)
    findings = check_image(image)
    assert {(f.flag, f.digits) for f in findings} == {(PdpaFlag.PHONE_NUMBER, "0812345678"),
                                                       (PdpaFlag.THAI_NATIONAL_ID, VALID_ID)}
    width = 1600  # of the unturned render: rotate(90) sends (x, y) to (y, width - x)
    turned = (top, width - right, bottom, width - left)
    assert all(overlaps(f.box, turned) for f in findings)
    assert all(f.box[3] - f.box[1] > f.box[2] - f.box[0] for f in findings)  # tall boxes: sideways text


def test_a_wrong_check_digit_and_dates_are_not_reported(render: Render) -> None:
    wrong = VALID_ID[:12] + str((int(VALID_ID[12]) + 5) % 10)
    data, _box = render([f"เลข {wrong}", "วันที่ 12 ธันวาคม 2569 เวลา 09.00 น.", "หมู่ที่ 5 รหัสไปรษณีย์ 52000"])
    assert check_image(stored_image(data)) == []


def test_a_photo_without_text_has_no_findings(render: Render) -> None:
    data, _box = render([])
    assert check_image(stored_image(data)) == []
