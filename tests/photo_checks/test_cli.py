"""``network-hub pdpa check-photo FILE``: what it prints, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from network_hub.cli.app import main
from network_hub.photo_checks import ocr
from tests.photo_checks.conftest import VALID_ID, Render


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("tesseract")
def test_check_photo_lists_what_it_finds(render: Render, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _box = render([f"เลขประจำตัวประชาชน {VALID_ID}", "ติดต่อ โทร 089-123-4567"])
    photo = tmp_path / "card.jpg"
    photo.write_bytes(data)
    code, out, _err = run(capsys, "pdpa", "check-photo", str(photo))
    assert code == 0
    assert "thai_national_id" in out and VALID_ID in out
    assert "phone_number" in out and "089-123-4567" in out
    code, out, _err = run(capsys, "pdpa", "check-photo", str(photo), "--json")
    data = json.loads(out)
    assert code == 0
    assert {(f["flag"], "".join(ch for ch in f["evidence"] if ch.isdigit())) for f in data["findings"]} == {
        ("thai_national_id", VALID_ID), ("phone_number", "0891234567")}
    assert all(len(f["box"]) == 4 for f in data["findings"])


@pytest.mark.usefixtures("tesseract")
def test_check_photo_says_when_there_is_nothing(render: Render, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data, _box = render(["ขอเชิญร่วมงานบุญประจำปี 2569"])
    photo = tmp_path / "poster.jpg"
    photo.write_bytes(data)
    code, out, _err = run(capsys, "pdpa", "check-photo", str(photo))
    assert code == 0
    assert "no personal data found" in out


def test_a_file_that_is_not_a_photo_is_refused_in_thai_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    code, _out, err = run(capsys, "pdpa", "check-photo", str(text))
    assert code == 2
    assert "is not an image" in err and "ไม่ใช่รูปภาพ" in err
    code, _out, err = run(capsys, "pdpa", "check-photo", str(tmp_path / "missing.jpg"))
    assert code == 2
    assert "cannot read" in err


def test_without_tesseract_the_command_says_what_to_install(render: Render, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    data, _box = render(["x"])
    photo = tmp_path / "card.jpg"
    photo.write_bytes(data)
    monkeypatch.setattr(ocr, "tesseract_status", lambda: ocr.TesseractStatus(False, "tesseract is not installed"))
    code, _out, err = run(capsys, "pdpa", "check-photo", str(photo))
    assert code == 7
    assert "photo checks unavailable: tesseract is not installed" in err
    assert "Tesseract" in err
