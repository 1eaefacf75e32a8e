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


def test_news_show_lists_what_each_photo_check_found(newsroom, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from network_hub.cli import news as news_cli
    from network_hub.newsroom.photos import PhotoInput
    from network_hub.photo_checks import checks
    from tests.newsroom.conftest import jpeg_bytes

    with newsroom.hub.transaction() as s:
        item = newsroom.submit(s, photos=[PhotoInput(jpeg_bytes(), "a.jpg"), PhotoInput(jpeg_bytes(color="blue"))])
        _first, second = checks.checks_of(s, item.id)
        second.state = "done"
        second.findings = second_findings()
        item_id = item.id
    monkeypatch.setattr(news_cli, "get_hub", lambda: newsroom.hub)
    code, out, _err = run(capsys, "news", "show", str(item_id))
    assert code == 0
    assert "photo 1 check    pending: nothing found" in out
    assert "photo 2 check    done: phone_number 081-234-5678" in out
    code, out, _err = run(capsys, "news", "show", str(item_id), "--json")
    assert json.loads(out)["photo_checks"][1] == {"photo": 2, "state": "done", "findings": second_findings()}


def second_findings() -> list[dict[str, object]]:
    return [{"flag": "phone_number", "label_th": "หมายเลขโทรศัพท์", "evidence": "081-234-5678", "box": [1, 2, 3, 4]}]
