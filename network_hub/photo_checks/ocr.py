"""Tesseract OCR of one photo: words with their boxes in the photo's own pixel coordinates.

Preprocessing (each step because of a case in the generated test set, bench/photo_pdpa.py):
grayscale + autocontrast (dim indoor photos), upscaling when the photo is small (text under
~20 px high is lost by Tesseract), and orientation: a phone photo of a sheet is often sideways.
Tesseract's OSD is tried first; when it cannot decide (little text) or the upright read is poor,
the other three rotations are read and the one with the most confident text wins.

Tesseract is a Debian package, not a Python one: ``tesseract_status()`` says whether it and the
Thai data are present, so callers can skip the checks with a clear notice instead of failing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter, ImageOps

# Tesseract uses OpenMP threads per process; the worker runs several processes in a thread pool,
# so one thread each avoids oversubscribing the machine.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import pytesseract

LANGUAGES = "tha+eng"
# Below this long side the photo is upscaled before reading (small text on a small photo).
UPSCALE_BELOW = 1600
# Above this long side the photo is reduced: the hub stores at most 2560 px anyway and bigger
# only costs time (the CLI may be given a 12-megapixel original).
MAX_LONG_SIDE = 2560
# A read is "good enough" (no rotation search) with this many confident characters.
GOOD_READ_CHARS = 40
GOOD_MEAN_CONF = 80.0
CONFIDENT = 85.0
# Lines with at least this many digits are read again on their own (``_reread_number_lines``).
REREAD_MIN_DIGITS = 6
REREAD_MAX_LINES = 40
REREAD_TEXT_PX = 48  # the height text is enlarged to for the re-read
# Grey levels darker than the local mean for a pixel to count as ink.
INK_CONTRAST = 25


@dataclass(frozen=True)
class Word:
    """One word as read: text, confidence (0-100) and box (left, top, right, bottom) in photo pixels."""

    text: str
    conf: float
    box: tuple[int, int, int, int]
    line: tuple[int, int, int]  # (pass, chain, position): the words of one line share (pass, chain)


@dataclass(frozen=True)
class OcrResult:
    words: list[Word]
    rotation: int  # degrees counter-clockwise the photo was turned to read it upright
    size: tuple[int, int]  # (width, height) of the photo as given

    @property
    def text(self) -> str:
        lines: dict[tuple[int, int], list[str]] = {}
        for word in self.words:
            lines.setdefault(word.line[:2], []).append(word.text)
        return "\n".join(" ".join(ws) for ws in lines.values())


@dataclass(frozen=True)
class TesseractStatus:
    available: bool
    reason: str  # English, for logs and skip notices


@functools.cache
def tesseract_status() -> TesseractStatus:
    """Is Tesseract installed with the Thai and English data? (cached: asked once per process)."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return TesseractStatus(False, "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-tha)")
    try:
        langs = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError, subprocess.SubprocessError) as exc:
        return TesseractStatus(False, f"tesseract does not run: {exc}")
    missing = {"tha", "eng"} - langs
    if missing:
        return TesseractStatus(False, f"tesseract has no {'/'.join(sorted(missing))} data "
                                      "(apt-get install tesseract-ocr-tha)")
    return TesseractStatus(True, "tesseract " + str(pytesseract.get_tesseract_version()))


def _prepare(image: Image.Image) -> tuple[Image.Image, float]:
    """Grayscale, contrast-stretched, scaled; returns the image and its scale to the original."""
    gray = ImageOps.exif_transpose(image).convert("L")
    # Stretch dim photos; the dark cut-off is tiny because text may be well under 1 % of the
    # pixels of a photo (a cut-off of 1 % clipped it and stretched JPEG noise to full contrast).
    gray = ImageOps.autocontrast(gray, cutoff=(0.05, 0.5))
    long_side = max(gray.size)
    scale = 1.0
    if long_side > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / long_side
    elif long_side < UPSCALE_BELOW:
        scale = min(2.0, UPSCALE_BELOW / long_side)
    if scale != 1.0:
        gray = gray.resize((round(gray.width * scale), round(gray.height * scale)), Image.Resampling.LANCZOS)
    if scale > 1.0:
        gray = gray.filter(ImageFilter.UnsharpMask(radius=2, percent=80, threshold=2))
    return gray, scale


def binarise(gray: Image.Image) -> Image.Image:
    """Black text on white by a local threshold, with long ruled lines removed.

    A pixel is ink when it is clearly darker than its neighbourhood's mean: this survives dim
    photos and uneven light where one global threshold fails. Ruled lines of attendance sheets
    make Tesseract merge or drop table cells (on the test set's sheets it read 3 of 9 numbers on
    the plain image, 9 of 9 with lines removed), so runs of ink longer than 1/30 of the photo,
    horizontal or vertical, are painted white.
    """
    radius = max(8, max(gray.size) // 60)
    smooth = gray.filter(ImageFilter.MedianFilter(3))  # sensor noise of dim photos is not ink
    background = smooth.filter(ImageFilter.BoxBlur(radius))
    ink = ImageChops.subtract(background, smooth).point(lambda v: 255 if v > INK_CONTRAST else 0)
    ink = ink.filter(ImageFilter.MedianFilter(3))  # isolated specks
    run = max(20, max(gray.size) // 30)
    across = ink.resize((max(1, ink.width // run), ink.height), Image.Resampling.BOX)
    down = ink.resize((ink.width, max(1, ink.height // run)), Image.Resampling.BOX)
    ruled = ImageChops.lighter(
        across.point(lambda v: 255 if v > 150 else 0).resize(ink.size, Image.Resampling.NEAREST),
        down.point(lambda v: 255 if v > 150 else 0).resize(ink.size, Image.Resampling.NEAREST),
    ).filter(ImageFilter.MaxFilter(5))
    return ImageChops.invert(ImageChops.subtract(ink, ruled))


def _read(gray: Image.Image, psm: int, timeout: float) -> list[tuple[str, float, tuple[int, int, int, int],
                                                                     tuple[int, int, int]]]:
    data = pytesseract.image_to_data(gray, lang=LANGUAGES, config=f"--psm {psm}",
                                     output_type=pytesseract.Output.DICT, timeout=timeout)
    out = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        box = (data["left"][i], data["top"][i], data["left"][i] + data["width"][i],
               data["top"][i] + data["height"][i])
        out.append((text, conf, box, (data["block_num"][i], data["par_num"][i], data["line_num"][i])))
    return out


def _score(words: list[tuple[str, float, tuple[int, int, int, int], tuple[int, int, int]]]) -> int:
    """Confident characters read: how much of the photo made sense at this rotation.

    Sideways text is read as confident-looking garbage (mean confidence ~70 on the test set's
    rotated ID cards); upright text scores 85-95, hence the high bar.
    """
    return sum(len(t) for t, conf, _b, _l in words if conf >= CONFIDENT and re.search(r"[\w\u0e00-\u0e7f]", t))


def _good(words: list[tuple[str, float, tuple[int, int, int, int], tuple[int, int, int]]]) -> bool:
    confs = [conf for _t, conf, _b, _l in words]
    return bool(confs) and _score(words) >= GOOD_READ_CHARS and sum(confs) / len(confs) >= GOOD_MEAN_CONF


def _osd_rotation(gray: Image.Image, timeout: float) -> int | None:
    try:
        osd = pytesseract.image_to_osd(gray, config="--psm 0", output_type=pytesseract.Output.DICT,
                                       timeout=timeout)
    except pytesseract.TesseractError:
        return None  # too little text to decide
    if float(osd.get("orientation_conf", 0)) < 2.0:
        return None
    # OSD's "rotate" is clockwise; PIL's rotate() is counter-clockwise.
    return (360 - int(osd.get("rotate", 0))) % 360


def _unrotate_box(box: tuple[int, int, int, int], rotation: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in the image turned ``rotation`` degrees counter-clockwise, back in the unturned image."""
    w, h = size  # of the unturned image
    left, top, right, bottom = box
    if rotation == 0:
        return box
    if rotation == 180:
        return (w - right, h - bottom, w - left, h - top)
    if rotation == 90:  # PIL rotate(90) is counter-clockwise: turned (x', y') = (y, w - x)
        return (w - bottom, left, w - top, right)
    # 270: turned (x', y') = (h - y, x)
    return (top, h - right, bottom, h - left)


def read_words(image: Image.Image, *, timeout: float = 120.0) -> OcrResult:
    """Every word Tesseract finds, with boxes in ``image``'s pixel coordinates (upright as stored).

    The orientation is found with sparse-text reading (``--psm 11``) of the grayscale photo; at
    that orientation the binarised photo (``binarise``: ruled lines removed) is read a second
    time, which finds table cells the first pass loses, while the first pass keeps blurred text
    that binarisation breaks up. Words of both passes are returned (``Word.line[0]`` is the
    pass); detectors dedupe what both passes found.
    """
    gray, scale = _prepare(image)
    osd = _osd_rotation(gray, timeout)
    tried: dict[int, list] = {}
    order = [osd] if osd is not None else []
    order += [r for r in (0, 90, 180, 270) if r not in order]
    best_rotation = order[0]
    for rotation in order:
        turned = gray.rotate(rotation, expand=True) if rotation else gray
        tried[rotation] = _read(turned, 11, timeout)
        # Nothing at all at two orientations a quarter turn apart: a scene without text (text at
        # any angle yields at least garbage "words" at one of them); two more reads would only cost time.
        if _good(tried[rotation]) or (len(tried) == 2 and not any(tried.values())):
            best_rotation = rotation
            break
    else:
        best_rotation = max(tried, key=lambda r: _score(tried[r]))
    passes = [tried[best_rotation]]
    if passes[0]:
        upright = gray.rotate(best_rotation, expand=True) if best_rotation else gray
        passes.append(_read(binarise(upright), 11, timeout))
        passes += _reread_number_lines(upright, passes, timeout)
    words = []
    for number, read in enumerate(passes):
        lines = _geometric_lines([box for _t, _c, box, _l in read]) if number < 2 else \
            [(0, 0, i) for i in range(len(read))]  # a re-read line is one line already
        for (text, conf, box, _line), (chain, _zero, position) in zip(read, lines, strict=True):
            unturned = _unrotate_box(box, best_rotation, gray.size)
            original = tuple(round(v / scale) for v in unturned)
            words.append(Word(text, conf, original, (number, chain, position)))  # type: ignore[arg-type]
    words.sort(key=lambda w: w.line)
    return OcrResult(words=words, rotation=best_rotation, size=image.size)


def _reread_number_lines(upright: Image.Image, passes: list[list], timeout: float) -> list[list]:
    """Read each line that holds a long number again, on its own, as one text line (``--psm 7``).

    Sparse reading drops an isolated single character, and the first digit of an ID number
    printed "6 0786 86918 23 8" is exactly that (on the generated set most missed ID numbers
    lacked their first or last digit). A crop of the line, widened by a few characters on both
    sides and enlarged, read as one line, keeps it. Returns one extra "pass" per line.
    """
    regions: list[tuple[int, int, int, int]] = []
    for read in passes:
        lines = _geometric_lines([box for _t, _c, box, _l in read])
        chains: dict[int, list[int]] = {}
        for index, (chain, _zero, _position) in enumerate(lines):
            chains.setdefault(chain, []).append(index)
        for members in chains.values():
            digits = [i for i in members if any(ch.isdigit() for ch in read[i][0])]
            if sum(ch.isdigit() for i in members for ch in read[i][0]) < REREAD_MIN_DIGITS:
                continue
            boxes = [read[i][2] for i in digits]
            height = sorted(b[3] - b[1] for b in boxes)[len(boxes) // 2]
            left = max(0, min(b[0] for b in boxes) - 3 * height)
            right = min(upright.width, max(b[2] for b in boxes) + 3 * height)
            top = max(0, min(b[1] for b in boxes) - height // 2)
            bottom = min(upright.height, max(b[3] for b in boxes) + height // 2)
            # Also the whole row: a table's next column (the phone number beside an ID number) is
            # often missed by sparse reading where it touches a ruled line. Both readings vote.
            for region in ((left, top, right, bottom), (0, top, upright.width, bottom)):
                if not any(_overlap_share(region, r) > 0.9 for r in regions):
                    regions.append(region)
    extra = []
    for region in regions[:REREAD_MAX_LINES]:
        # Contrast stretched within the line itself: in a dim photo the sign's own range is narrow.
        crop = ImageOps.autocontrast(upright.crop(region).filter(ImageFilter.MedianFilter(3)), cutoff=1)
        zoom = max(1.0, min(3.0, REREAD_TEXT_PX / max(1, (region[3] - region[1]) / 2)))
        if zoom > 1.0:
            crop = crop.resize((round(crop.width * zoom), round(crop.height * zoom)), Image.Resampling.LANCZOS)
        crop = ImageOps.expand(crop, border=20, fill=255)
        words = []
        for text, conf, box, line in _read(crop, 7, timeout):
            x0, y0, x1, y1 = (round((v - 20) / zoom) for v in box)  # back from the bordered, enlarged crop
            words.append((text, conf, (region[0] + x0, region[1] + y0, region[0] + x1, region[1] + y1), line))
        extra.append(words)
    return extra


def _overlap_share(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1, min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])))


def _geometric_lines(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int]]:
    """(chain, 0, position) per box: words chained left to right, from geometry in the read frame.

    Sparse-text mode gives each isolated group of a number ("1 2345 67890 12 3") its own line, so
    lines are rebuilt: a word's successor is the nearest word starting to its right within 2.5
    text heights that overlaps it vertically by at least 40 %. Comparing neighbours only (not a
    whole row) follows a card photographed a few degrees askew; the gap limit keeps separate
    columns of a table or separate signs from running together into one number.
    """
    def height(i: int) -> int:
        return max(1, boxes[i][3] - boxes[i][1])

    def overlap(i: int, j: int) -> float:
        shared = min(boxes[i][3], boxes[j][3]) - max(boxes[i][1], boxes[j][1])
        return shared / min(height(i), height(j))

    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    successor: dict[int, int] = {}
    predecessor: dict[int, tuple[int, int]] = {}  # j -> (i, distance)
    for a, i in enumerate(order):
        limit = 2.5 * height(i)
        best: tuple[int, int] | None = None
        for j in order[a + 1:]:
            distance = boxes[j][0] - boxes[i][2]
            if boxes[j][0] - boxes[i][0] > limit + (boxes[i][2] - boxes[i][0]):
                break
            if distance > limit or boxes[j][0] <= boxes[i][0] or overlap(i, j) < 0.4:
                continue
            if 0.5 < height(j) / height(i) < 2.0 and (best is None or distance < best[1]):
                best = (j, distance)
        if best is None:
            continue
        j, distance = best
        if j in predecessor:
            if predecessor[j][1] <= distance:
                continue
            del successor[predecessor[j][0]]
        successor[i] = j
        predecessor[j] = (i, distance)
    result: list[tuple[int, int, int]] = [(0, 0, 0)] * len(boxes)
    heads = sorted((i for i in range(len(boxes)) if i not in predecessor), key=lambda i: (boxes[i][1], boxes[i][0]))
    for chain, head in enumerate(heads):
        position, i = 0, head
        seen = set()
        while i is not None and i not in seen:
            seen.add(i)
            result[i] = (chain, 0, position)
            position += 1
            i = successor.get(i)
    return result
