"""``network-hub pdpa check-photo FILE``: what the photo checks find in one picture.

For training days (show volunteers what a moderator will be warned about) and for tests. The
file goes through the same validation and re-encoding as a submitted photo, then the same OCR
and detectors as the hub's photo-check job; boxes are in the stored photo's pixels.
"""

from __future__ import annotations

import io
from pathlib import Path

import typer
from PIL import Image

from network_hub.cli.common import JSON_OPTION, dumps
from network_hub.errors import HubError, InvalidInput
from network_hub.newsroom.photos import PhotoInput, prepare_photo

app = typer.Typer(help="PDPA checks: personal data in text and photos.", no_args_is_help=True)


@app.callback()
def pdpa() -> None:
    """PDPA checks: personal data in text and photos."""
    # A callback keeps `pdpa` a group (`pdpa check-photo FILE`) even with one command.


class PhotoChecksUnavailable(HubError):
    """Tesseract or its Thai data is not installed."""

    exit_code = 7


@app.command("check-photo")
def check_photo(
    file: Path = typer.Argument(..., help="A photo (JPEG, PNG, WebP, …) as a reporter would send it"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read the text in a photo (Thai + English) and list ID numbers, phone and account numbers found."""
    from network_hub.photo_checks.detect import check_image  # imports pytesseract only when used
    from network_hub.photo_checks.ocr import tesseract_status

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}", f"เปิดไฟล์ {file} ไม่ได้") from None
    stored = prepare_photo(PhotoInput(data, file.name))  # InvalidInput (Thai + English) when not a photo
    status = tesseract_status()
    if not status.available:
        raise PhotoChecksUnavailable(f"photo checks unavailable: {status.reason}",
                                     "ตรวจข้อความในรูปไม่ได้ เพราะเครื่องนี้ยังไม่ได้ติดตั้งโปรแกรมอ่านตัวอักษร (Tesseract)")
    findings = check_image(Image.open(io.BytesIO(stored.jpeg)))
    if as_json:
        typer.echo(dumps({"file": str(file), "width": stored.width, "height": stored.height,
                          "findings": [f.to_dict() for f in findings]}))
        return
    if not findings:
        typer.echo(f"{file}: no personal data found in the text of the photo (ไม่พบข้อมูลส่วนบุคคลในรูป)")
        return
    typer.echo(f"{file}: {len(findings)} finding(s) in a {stored.width}×{stored.height} photo")
    for f in findings:
        left, top, right, bottom = f.box
        typer.echo(f"  {f.flag.value:18} {f.evidence:24} at x={left}..{right} y={top}..{bottom}"
                   f"  ({f.to_dict()['label_th']})")
