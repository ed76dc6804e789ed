"""Reading one table cell as a number (spec §5).

A cell is either a number (possibly with a unit or a bracketed note), a zero marker
(blank, "/", "—", "-", "无", "零"), or unreadable. Markers read as 0 for arithmetic but keep
their identity, because a reviewer treats "blank", "/" and "0" differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from services.parser.normalize import squeeze, to_simplified, width_fold

# Marker spellings (after NFKC) → the marker recorded in CellDetail.
_MARKERS: dict[str, str] = {
    "": "blank",
    "/": "/",
    "\\": "/",
    "—": "—",
    "——": "—",
    "–": "—",
    "―": "—",
    "─": "—",
    "-": "-",
    "--": "-",
    "－": "-",
    "无": "无",
    "零": "零",
}
_UNITS = "件|个|项|条|次|起|元|万元|份|宗"
_NUMBER = re.compile(rf"^(?P<num>[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?)(?P<unit>{_UNITS})?$")
_WITH_NOTE = re.compile(
    rf"^(?P<num>[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?)(?P<unit>{_UNITS})?(?P<note>\(.*\))$"
)
# Chinese numerals written as cell values ("两", "十二"): read, but never fully trusted.
_CHINESE_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHINESE_NUMERAL = re.compile(r"^[〇零一二两三四五六七八九十百千]{1,6}$")
_CHINESE_NUMERAL_CONFIDENCE = 0.9
# Stray characters beside a number, left by mirrors and broken encodings ("? 0", "0�").
_STRAY = re.compile(r"^[?？�·•*]+\s*(?=\S)|(?<=\S)\s*[?？�·•*]+$")
_STRAY_CONFIDENCE = 0.8
# OCR confusions in scanned reports (§8): O/o for 0, l/I for 1, B for 8 — only in a token
# that also has a real digit, or a lone "O", so that no word is read as a number.
_OCR_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "B": "8"})
_OCR_TOKEN = re.compile(r"^(?=.*\d)(?=.*[OolIB])[\dOolIB]{2,}$|^[Oo]$")
_OCR_CONFIDENCE = 0.7
_NOTED_CONFIDENCE = 0.99
# Digit groups separated by single spaces inside one cell: "1 015", "2 0".
_SPACED_DIGITS = re.compile(r"^\d+(?: \d+)+$")
_THOUSANDS_GROUPS = re.compile(r"^\d{1,3}(?: \d{3})+$")


@dataclass(frozen=True)
class NumberReading:
    """What one cell says. `value` is None only when no number can be read."""

    raw: str
    value: int | float | None
    marker: str | None = None
    note: str | None = None  # bracketed remark or unit kept beside the value
    confidence: float = 1.0
    problem: str | None = None  # why the reading is uncertain or failed

    @property
    def readable(self) -> bool:
        return self.value is not None


def _to_value(text: str) -> int | float:
    plain = text.replace(",", "")
    if "." in plain:
        return float(plain)
    return int(plain)


def chinese_numeral_value(text: str) -> int | None:
    """ "十二" → 12, "两" → 2, "一百零五" → 105; None when `text` is not a numeral."""
    if not _CHINESE_NUMERAL.match(text):
        return None
    section, digit = 0, None
    for char in text:
        if char in _CHINESE_DIGITS:
            if digit is not None and char not in "〇零":
                return None  # two digits in a row ("一二") is not a numeral
            digit = _CHINESE_DIGITS[char] if char not in "〇零" else None
            continue
        unit = {"十": 10, "百": 100, "千": 1000}[char]
        section += (digit if digit is not None else 1) * unit
        digit = None
    return section + (digit or 0)


# Cached: a report's tokens are read many times over (rows, candidates, checks), and
# cells repeat across reports ("0", "/"); a reading is immutable.
@lru_cache(maxsize=16384)
def read_number(raw: str) -> NumberReading:
    """Read one cell. Never guesses: an unreadable cell has value None and a `problem`."""
    text = width_fold(raw).strip()
    text = text.replace("\u3000", " ").replace("\u00a0", " ").strip()
    # Markers are compared after 繁→简: a mirror prints "無" for "无" (§8).
    compact = to_simplified(squeeze(text))
    marker = _MARKERS.get(compact)
    if marker == "零":
        return NumberReading(
            raw, 0, marker=marker, confidence=_CHINESE_NUMERAL_CONFIDENCE, problem="Chinese numeral"
        )
    if marker is not None:
        return NumberReading(raw=raw, value=0, marker=marker)
    numeral = chinese_numeral_value(compact)
    if numeral is not None:
        return NumberReading(raw, numeral, confidence=_CHINESE_NUMERAL_CONFIDENCE, problem="Chinese numeral")
    if _OCR_TOKEN.match(compact):
        return NumberReading(
            raw,
            int(compact.translate(_OCR_LOOKALIKES)),
            confidence=_OCR_CONFIDENCE,
            problem="letters read as digits (OCR)",
        )
    stripped = _STRAY.sub("", text)
    if stripped != text:
        reading = read_number(stripped)
        if reading.readable and reading.marker is None:
            return NumberReading(
                raw,
                reading.value,
                note=reading.note,
                confidence=min(reading.confidence, _STRAY_CONFIDENCE),
                problem="stray character beside the number",
            )
    match = _NUMBER.match(compact)
    if match is not None:
        inner = text if _SPACED_DIGITS.match(text) else None
        value = _to_value(match["num"])
        if inner is not None and not _THOUSANDS_GROUPS.match(inner):
            # "2 0" may be 20 or two cells run together: keep 20 but do not vouch for it.
            return NumberReading(
                raw, value, note=match["unit"], confidence=0.6, problem="digits separated by spaces"
            )
        return NumberReading(raw, value, note=match["unit"])
    match = _WITH_NOTE.match(compact)
    if match is not None:
        note = match["note"] if not match["unit"] else match["unit"] + match["note"]
        # The number before the bracket is the cell's value; the note is a remark beside it.
        return NumberReading(
            raw, _to_value(match["num"]), note=note, confidence=_NOTED_CONFIDENCE, problem="number with a note"
        )
    return NumberReading(raw, None, confidence=0.0, problem="not a number")


def is_value_like(text: str) -> bool:
    """True when a token is a cell value (number, marker or blank), not a label."""
    return read_number(text).readable
