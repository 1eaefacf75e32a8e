"""Photos: validated with Pillow, turned upright, re-encoded as JPEG without any metadata.

Re-encoding is the privacy measure: EXIF (GPS position, camera serial, owner name) and XMP are
not carried over, only the pixels and the colour profile. Files are stored by the sha256 of the
re-encoded bytes under ``media_dir/ab/abcdef….jpg``, so the same photo sent twice is stored once.

Validation happens in memory (``prepare_photos``) before anything is written; storing
(``store_photo``) is a separate step the caller runs once the database rows are known good.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import object_session

from network_hub.db.models import NewsItem, Photo
from network_hub.errors import InvalidInput
from network_hub.keyfile import ensure_private_dir
from network_hub.photo_checks.checks import new_check

MAX_PHOTOS = 10
MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_LONG_SIDE = 2560
JPEG_QUALITY = 88
# What phones and cameras produce; anything else Pillow can open (PSD, ICO, EPS…) is refused.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF"})


@dataclass(frozen=True)
class PhotoInput:
    """A photo as it arrives: raw bytes, the file name the person used, and the Telegram file id."""

    data: bytes
    filename: str = ""
    telegram_file_id: str | None = None


@dataclass(frozen=True)
class PreparedPhoto:
    """A validated, re-encoded photo ready to store."""

    jpeg: bytes
    sha256: str
    width: int
    height: int
    telegram_file_id: str | None

    @property
    def relative_path(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}.jpg"


def _name(photo: PhotoInput, index: int) -> str:
    return photo.filename or f"photo {index + 1}"


def prepare_photo(photo: PhotoInput, index: int = 0) -> PreparedPhoto:
    """Validate and re-encode one photo; raise InvalidInput (English + Thai) when it is not usable."""
    name = _name(photo, index)
    if len(photo.data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"{name} is {len(photo.data) / 1_048_576:.1f} MB; a photo may be at most 20 MB",
            f"ภาพ {name} มีขนาด {len(photo.data) / 1_048_576:.1f} MB เกินกว่า 20 MB กรุณาส่งภาพที่เล็กลง",
        )
    not_an_image = InvalidInput(
        f"{name} is not an image (JPEG, PNG, WebP, GIF, BMP or TIFF)",
        f"ไฟล์ {name} ไม่ใช่รูปภาพ กรุณาส่งเป็นภาพถ่าย (JPEG, PNG หรือ WebP)",
    )
    if not photo.data:
        raise not_an_image
    try:
        with warnings.catch_warnings():
            # Pillow warns (and above twice its limit raises) on decompression bombs: treat the
            # warning as an error too; our own 40 MP limit below is checked before decoding.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(photo.data))
            if image.format not in ACCEPTED_FORMATS:
                raise not_an_image
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidInput(
                    f"{name} is {width}×{height} ({width * height / 1e6:.1f} megapixels); "
                    "a photo may have at most 40 megapixels",
                    f"ภาพ {name} มีขนาด {width}×{height} พิกเซล ({width * height / 1e6:.1f} ล้านพิกเซล) "
                    "เกิน 40 ล้านพิกเซล กรุณาย่อภาพก่อนส่ง",
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
    except InvalidInput:
        raise
    except UnidentifiedImageError:
        raise not_an_image from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(
            f"{name} has far more than 40 megapixels; a photo may have at most 40 megapixels",
            f"ภาพ {name} มีขนาดใหญ่เกิน 40 ล้านพิกเซล กรุณาย่อภาพก่อนส่ง",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(
            f"{name} is a damaged image ({exc}); send the photo again",
            f"ไฟล์ภาพ {name} เสียหายหรือไม่สมบูรณ์ กรุณาส่งภาพใหม่อีกครั้ง",
        ) from None
    jpeg, out_w, out_h = _encode_jpeg(upright)
    return PreparedPhoto(jpeg=jpeg, sha256=hashlib.sha256(jpeg).hexdigest(), width=out_w, height=out_h,
                         telegram_file_id=photo.telegram_file_id)


def _encode_jpeg(image: Image.Image) -> tuple[bytes, int, int]:
    icc_profile = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # transparency shown on white, as apps do
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    if max(image.size) > MAX_LONG_SIDE:
        image = image.copy()
        image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    # No exif/xmp arguments: nothing of the original metadata is written.
    params: dict[str, object] = {"quality": JPEG_QUALITY, "optimize": True}
    if icc_profile:
        params["icc_profile"] = icc_profile
    image.save(buffer, "JPEG", **params)
    return buffer.getvalue(), image.width, image.height


def prepare_photos(photos: Sequence[PhotoInput]) -> list[PreparedPhoto]:
    """Validate every photo (at most 10) before anything is stored."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(
            f"{len(photos)} photos given; an item may have at most {MAX_PHOTOS}",
            f"ส่งภาพมา {len(photos)} ภาพ ข่าวหนึ่งเรื่องมีภาพได้ไม่เกิน {MAX_PHOTOS} ภาพ",
        )
    return [prepare_photo(photo, i) for i, photo in enumerate(photos)]


def store_photo(prepared: PreparedPhoto, media_dir: Path) -> Path:
    """Write the JPEG under its content hash (atomically; an existing identical file is kept)."""
    target = media_dir / prepared.relative_path
    if target.exists():
        return target
    ensure_private_dir(media_dir)  # 0700; mkstemp below makes the file itself 0600
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(prepared.jpeg)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def attach_photos(item: NewsItem, prepared: Sequence[PreparedPhoto], media_dir: Path, now: datetime) -> None:
    """Store the files and add Photo rows to ``item`` (positions 0..n-1 after existing ones)."""
    start = len(item.photos)
    session = object_session(item)
    for offset, photo in enumerate(prepared):
        store_photo(photo, media_dir)
        row = Photo(
            position=start + offset, sha256=photo.sha256, path=photo.relative_path, width=photo.width,
            height=photo.height, size_bytes=len(photo.jpeg), content_type="image/jpeg",
            telegram_file_id=photo.telegram_file_id, created_at=now,
        )
        item.photos.append(row)
        if session is not None and item.id is not None:  # issue 16: read the photo's text off the request path
            check = new_check(item.id, now)
            check.photo = row
            session.add(check)
