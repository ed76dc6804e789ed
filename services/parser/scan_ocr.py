"""Reading a scanned table's cells with Tesseract (Debian's `tesseract-ocr` and
`tesseract-ocr-chi-sim`), one process per batch of crops.

Numbers are read twice, from two preparations of the crop (Otsu-binarised, and grey
enlarged), with a digits-only whitelist; where the two disagree a third reading votes.
What the readings leave open is marked with a low confidence, so the table's arithmetic
(services/parser/confidence.py) confirms the cell or a reviewer is asked. Labels are read
with `chi_sim` and snapped to the template's wording they resemble, so the table mapper
recognises rows whose characters OCR got slightly wrong.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from difflib import get_close_matches
from functools import cache
from itertools import product
from pathlib import Path

import cv2
import numpy as np

from services.parser.labels import T2_KNOWN_HEADERS, T2_ROW_LABELS, T3_COLUMN_LABELS, T3_GROUP_LABELS
from services.parser.normalize import has_cjk, label_key
from shared.report import T3_ROW_LABELS, UnreadableDocument

DIGITS = "0123456789.,"
NUMBER = re.compile(r"^\d+(\.\d+)?$")
AGREED = 0.97  # two preparations read the same number
VOTED = 0.85  # a third reading broke a tie: the arithmetic must confirm it
GUESSED = 0.5  # the readings do not agree: a reviewer decides unless the sums settle it
DASHES = re.compile(r"^[—–\-一/／、]+$")
OTHER_LABELS = (
    "申请人情况", "法人或其他组织", "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉",
    "结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "第二十条第（一）项", "第二十条第（五）项",
    "第二十条第（六）项", "第二十条第（八）项", "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
    "四、结转下年度继续办理",
)


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


@dataclass(frozen=True)
class CellReading:
    text: str
    confidence: float
    candidates: tuple[str, ...] = ()  # every distinct number the readings gave


def run_batch(images: list[np.ndarray], *, lang: str, psm: int, whitelist: str | None, timeout: float) -> list[str]:
    """One Tesseract process over many images (a list file); the text of each, in order.

    Tesseract can crash on an odd crop (SIGFPE on some speckled slivers): the batch is then
    split and read again, and an image that crashes it alone reads as nothing.
    """
    if not images:
        return []
    try:
        return _tesseract(images, lang=lang, psm=psm, whitelist=whitelist, timeout=timeout)
    except subprocess.CalledProcessError as error:
        if len(images) == 1:
            return [""]
        if error.returncode >= 0 and len(images) > 64:
            raise UnreadableDocument("ocr_failed", f"tesseract failed: {error.stderr.decode()[-200:]}") from None
        half = len(images) // 2
        return run_batch(images[:half], lang=lang, psm=psm, whitelist=whitelist, timeout=timeout) + run_batch(
            images[half:], lang=lang, psm=psm, whitelist=whitelist, timeout=timeout
        )


def _tesseract(images: list[np.ndarray], *, lang: str, psm: int, whitelist: str | None, timeout: float) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="nb_ocr_") as work:
        paths = []
        for index, image in enumerate(images):
            path = Path(work, f"{index:05d}.png")
            cv2.imwrite(str(path), image)
            paths.append(str(path))
        listing = Path(work, "list.txt")
        listing.write_text("\n".join(paths) + "\n")
        command = ["tesseract", str(listing), "-", "-l", lang, "--psm", str(psm)]
        if whitelist:
            command += ["-c", f"tessedit_char_whitelist={whitelist}"]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=timeout, check=True, env={"OMP_THREAD_LIMIT": "1"}
            )
        except subprocess.TimeoutExpired:
            raise UnreadableDocument("ocr_time_limit", f"OCR took longer than {timeout:.0f} s") from None
    pages = done.stdout.decode("utf-8", errors="replace").split("\f")
    return [page.strip() for page in pages[: len(images)]] + [""] * max(0, len(images) - len(pages))


def _bordered(image: np.ndarray, pad: int = 12) -> np.ndarray:
    return cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


TARGET_GLYPH_HEIGHT = 40  # px: Tesseract reads digits of about this height best


def tight(crop: np.ndarray) -> np.ndarray:
    """The crop cut to its ink and scaled so that the digits are TARGET_GLYPH_HEIGHT high."""
    dark = crop < min(int(np.percentile(crop, 95)) - 60, 150)
    ys, xs = np.nonzero(dark)
    if len(ys) == 0:
        return crop
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    inked = crop[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2]
    factor = min(4.0, TARGET_GLYPH_HEIGHT / max(1, y1 - y0))
    width, height = round(inked.shape[1] * factor), round(inked.shape[0] * factor)
    if width < 1 or height < 1:
        return crop
    return cv2.resize(inked, (width, height), interpolation=cv2.INTER_CUBIC)


def is_one_glyph(crop: np.ndarray) -> bool:
    """Ink narrower than it is high: one digit, read best in single-character mode."""
    dark = crop < min(int(np.percentile(crop, 95)) - 60, 150)
    ys, xs = np.nonzero(dark)
    return len(xs) > 0 and (xs.max() - xs.min() + 1) < 0.9 * (ys.max() - ys.min() + 1)


def otsu(crop: np.ndarray) -> np.ndarray:
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _bordered(binary)


def whitened(crop: np.ndarray) -> np.ndarray:
    """The crop with its paper brought to white: a grey paper next to a white border is an
    edge OCR reads as a digit."""
    paper = max(1, int(np.percentile(crop, 95)))
    return np.clip(crop.astype(np.float32) * (255 / paper), 0, 255).astype(np.uint8)


def enlarged(crop: np.ndarray, factor: float = 1.6) -> np.ndarray:
    if min(crop.shape[:2]) < 2:
        return _bordered(crop)
    grown = cv2.resize(whitened(crop), None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return _bordered(grown, 16)


SPECK_AREA_PX = 10  # marks smaller than this are dust or scanner speckle, not strokes


def without_edge_marks(crop: np.ndarray) -> np.ndarray:
    """The crop with every mark that touches its edge whitened — remnants of the cell's
    ruling lines (a skewed scan leaves some inside the cell) that OCR reads as 1 or 7 —
    and with the specks of a dusty scan gone."""
    if crop.size == 0:
        return crop
    dark = (crop < min(int(np.percentile(crop, 95)) - 60, 150)).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    height, width = crop.shape
    x, y, w, h, area = (stats[:, i] for i in range(5))
    remove = (area < SPECK_AREA_PX) | (x == 0) | (y == 0) | (x + w >= width) | (y + h >= height)
    remove[0] = False  # the background
    cleaned = crop.copy()
    cleaned[remove[labels]] = int(np.percentile(crop, 95))
    return cleaned


def has_ink(crop: np.ndarray) -> bool:
    if crop.size == 0:
        return False
    dark = crop < min(int(np.percentile(crop, 95)) - 60, 150)
    return int(dark.sum()) >= 12


def normalise_digits(text: str) -> str:
    return re.sub(r"[\s,]", "", text).strip(".")


def read_numbers(crops: list[np.ndarray], timeout: float) -> list[CellReading]:
    """Each crop's number: two preparations, a third reading where they disagree.

    A reading that comes back empty is a dropout (Tesseract loses lone digits), not a
    different number: agreement is among the readings that saw something.
    """
    first = _digits([otsu(c) for c in crops], 7, timeout)
    second = _digits([enlarged(c) for c in crops], 8, timeout)
    disputed = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b or not a]
    single = [i for i in disputed if is_one_glyph(crops[i])]
    several = [i for i in disputed if i not in single]
    third = dict(zip(single, _digits([otsu(tight(crops[i])) for i in single], 10, timeout), strict=True))
    third |= dict(zip(several, _digits([otsu(tight(crops[i])) for i in several], 8, timeout), strict=True))
    # Still in doubt: one more reading of the grey glyphs, for the arithmetic to choose from.
    doubtful = [i for i in disputed if len({t for t in (first[i], second[i], third[i]) if t}) != 1]
    fourth = dict(
        zip(doubtful, _digits([enlarged(tight(crops[i]), 1.0) for i in doubtful], 7, timeout), strict=True)
    )
    readings = []
    for index, (a, b) in enumerate(zip(first, second, strict=True)):
        seen = [t for t in (a, b, third.get(index, ""), fourth.get(index, "")) if NUMBER.match(t)]
        candidates = tuple(dict.fromkeys(seen))
        if len(seen) >= 2 and len(candidates) == 1:
            readings.append(CellReading(seen[0], AGREED, candidates))
        elif seen and max(map(seen.count, candidates)) >= 2:
            readings.append(CellReading(max(candidates, key=seen.count), VOTED, candidates))
        else:
            readings.append(CellReading(seen[0] if seen else "", GUESSED, candidates))
    return readings


def _digits(images: list[np.ndarray], psm: int, timeout: float) -> list[str]:
    return [normalise_digits(t) for t in run_batch(images, lang="eng", psm=psm, whitelist=DIGITS, timeout=timeout)]


# Which numeric cells of a table row add up to which (the 总计 columns): 表三 rows of 7,
# 表四 rows of 15 (three groups of 4 + 总计) or of 5.
SUM_GROUPS: dict[int, tuple[tuple[tuple[int, ...], int], ...]] = {
    7: (((0, 1, 2, 3, 4, 5), 6),),
    15: (((0, 1, 2, 3), 4), ((5, 6, 7, 8), 9), ((10, 11, 12, 13), 14)),
    5: (((0, 1, 2, 3), 4),),
}


def settle_by_row_sums(row: list[CellReading]) -> list[CellReading]:
    """The row's doubtful cells take the candidate readings that make its sums hold, when
    exactly one combination of candidates does; the others stay as read (a cell is never
    computed from the sum, only chosen among what was read)."""
    settled = list(row)
    for parts, total in SUM_GROUPS.get(len(row), ()):
        members = [*parts, total]
        doubtful = [i for i in members if settled[i].confidence < AGREED]
        if not doubtful or len(doubtful) > 3 or any(not NUMBER.match(settled[i].text) for i in members if i not in doubtful):
            continue
        options = [settled[i].candidates or (settled[i].text,) for i in doubtful]
        fits = [combo for combo in product(*options) if _adds_up(settled, parts, total, dict(zip(doubtful, combo, strict=True)))]
        if len(fits) == 1:
            for index, text in zip(doubtful, fits[0], strict=True):
                settled[index] = CellReading(text, VOTED, settled[index].candidates)
    return settled


def _adds_up(row: list[CellReading], parts: tuple[int, ...], total: int, chosen: dict[int, str]) -> bool:
    def value(i: int) -> float:
        text = chosen.get(i, row[i].text)
        return float(text) if NUMBER.match(text) else float("nan")

    return abs(sum(value(i) for i in parts) - value(total)) < 1e-9
@cache
def _vocabulary() -> dict[str, str]:
    texts = [
        *T3_ROW_LABELS.values(),
        *T3_GROUP_LABELS.values(),
        *(t for forms in T3_COLUMN_LABELS.values() for t in forms),
        *(t for forms in T2_ROW_LABELS.values() for t in forms),
        *T2_KNOWN_HEADERS,
        *OTHER_LABELS,
    ]
    return {label_key(t): t for t in texts}


def snap_label(text: str) -> str | None:
    """The template wording an OCR'd label most resembles, or None when none does."""
    key = label_key(text)
    vocabulary = _vocabulary()
    if not key or key in vocabulary:
        return vocabulary.get(key)
    close = get_close_matches(key, list(vocabulary), n=1, cutoff=0.6)
    return vocabulary[close[0]] if close else None


def label_of(text: str) -> str | None:
    """The label a cell's chi_sim reading is, or None for a number cell. Digits misread as
    Chinese come out as two or three odd characters ("到下" for 71) that resemble no label;
    a label the template does not know is longer."""
    cjk = sum(1 for ch in text if has_cjk(ch))
    if cjk < 2:
        return None
    snapped = snap_label(text)
    return snapped if snapped is not None else (text if cjk >= 4 else None)


def is_dash(text: str) -> bool:
    return bool(DASHES.match(text.replace(" ", "")))
