"""Photos: validation with Pillow, orientation, re-encoding, EXIF/GPS stripped, content-hash storage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from network_hub.errors import InvalidInput
from network_hub.newsroom.photos import (
    MAX_LONG_SIDE,
    PhotoInput,
    prepare_photo,
    prepare_photos,
    store_photo,
)
from tests.newsroom.conftest import jpeg_bytes


def jpeg_with_gps_and_rotation() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: viewers rotate 90° clockwise
    exif[ExifTags.Base.Make] = "VillagePhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (18.0, 17.0, 30.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (99.0, 29.0, 10.0)
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), "green").save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has GPS
    return data


def test_gps_and_all_exif_are_stripped_and_orientation_applied() -> None:
    prepared = prepare_photo(PhotoInput(jpeg_with_gps_and_rotation(), "farm.jpg"))
    out = Image.open(io.BytesIO(prepared.jpeg))
    assert out.format == "JPEG"
    assert (out.width, out.height) == (40, 80) == (prepared.width, prepared.height)  # upright now
    exif = out.getexif()
    assert len(exif) == 0
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert b"VillagePhone" not in prepared.jpeg and b"Exif" not in prepared.jpeg


def test_large_photos_are_scaled_to_the_long_side_limit() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 1000), "white").save(buffer, "PNG")
    prepared = prepare_photo(PhotoInput(buffer.getvalue(), "wide.png"))
    assert (prepared.width, prepared.height) == (MAX_LONG_SIDE, 640)


def test_transparent_png_becomes_a_jpeg_on_white() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(buffer, "PNG")
    out = Image.open(io.BytesIO(prepare_photo(PhotoInput(buffer.getvalue())).jpeg))
    assert out.mode == "RGB" and out.getpixel((5, 5))[1] > 240


def test_a_text_file_renamed_jpg_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an image") as err:
        prepare_photo(PhotoInput("รายงานการประชุม\n".encode() * 50, "report.jpg"))
    assert "ไม่ใช่รูปภาพ" in err.value.message_th


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an image"):
        prepare_photo(PhotoInput(b"", "empty.jpg"))


def test_a_41_megapixel_image_is_refused_before_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("1", (6500, 6400)).save(buffer, "PNG")  # 41.6 MP, a few KB compressed
    with pytest.raises(InvalidInput, match=r"41\.6 megapixels"):
        prepare_photo(PhotoInput(buffer.getvalue(), "huge.png"))


def test_a_decompression_bomb_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("1", (10000, 10000)).save(buffer, "PNG")  # 100 MP: above Pillow's own bomb limit
    with pytest.raises(InvalidInput, match="megapixels"):
        prepare_photo(PhotoInput(buffer.getvalue(), "bomb.png"))


def test_a_truncated_jpeg_is_reported_as_damaged() -> None:
    data = jpeg_bytes((400, 300), "orange", quality=95)
    with pytest.raises(InvalidInput, match="damaged image"):
        prepare_photo(PhotoInput(data[: len(data) // 2], "cut.jpg"))


def test_more_than_20_mb_is_refused_without_decoding() -> None:
    with pytest.raises(InvalidInput, match="at most 20 MB"):
        prepare_photo(PhotoInput(b"\xff\xd8" + b"\0" * (20 * 1024 * 1024), "big.jpg"))


def test_more_than_ten_photos_are_refused() -> None:
    photo = PhotoInput(jpeg_bytes())
    assert len(prepare_photos([photo] * 10)) == 10
    with pytest.raises(InvalidInput, match="at most 10"):
        prepare_photos([photo] * 11)


def test_storage_is_by_content_hash_and_deduplicated(tmp_path: Path) -> None:
    prepared = prepare_photo(PhotoInput(jpeg_bytes()))
    first = store_photo(prepared, tmp_path)
    assert first == tmp_path / prepared.sha256[:2] / f"{prepared.sha256}.jpg"
    assert first.read_bytes() == prepared.jpeg
    mtime = first.stat().st_mtime_ns
    assert store_photo(prepare_photo(PhotoInput(jpeg_bytes())), tmp_path) == first
    assert first.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.name]
