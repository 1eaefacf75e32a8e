"""Photo-check fixtures: Tesseract (skipped with the reason when missing) and rendered photos."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageDraw

from tests.newsroom.conftest import newsroom  # noqa: F401 (the newsroom fixture, reused)
from tests.photo_checks.make_set import font, fonts_available, thai_id

Render = Callable[..., tuple[bytes, tuple[int, int, int, int]]]


@pytest.fixture
def tesseract() -> None:
    from network_hub.photo_checks.ocr import tesseract_status

    status = tesseract_status()
    if not status.available:
        pytest.skip(f"photo checks skipped: {status.reason}")
    if not fonts_available():
        pytest.skip("photo checks skipped: Thai fonts missing (apt-get install fonts-thai-tlwg)")


VALID_ID = thai_id(__import__("random").Random(1))


@pytest.fixture
def render() -> Render:
    """A photo of a paper with the given lines; returns (JPEG bytes, box of the line at ``mark``)."""

    def make(lines: list[str], *, size: tuple[int, int] = (1600, 1200), rotate: int = 0, mark: int = 0,
             text_px: int = 56) -> tuple[bytes, tuple[int, int, int, int]]:
        image = Image.new("RGB", size, (246, 244, 236))
        draw = ImageDraw.Draw(image)
        face = font("Garuda.ttf", text_px)
        box = (0, 0, 0, 0)
        for i, line in enumerate(lines):
            xy = (120, 150 + i * int(text_px * 2))
            draw.text(xy, line, font=face, fill=(15, 15, 15))
            if i == mark:
                box = draw.textbbox(xy, line, font=face)  # type: ignore[assignment]
        if rotate:
            image = image.rotate(rotate, expand=True)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        return buffer.getvalue(), box

    return make
