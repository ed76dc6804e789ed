"""Reading one table cell as a number (spec §5).

A cell is either a number (possibly with a unit or a bracketed note), a zero marker
(blank, "/", "—", "-", "无", "零"), or unreadable. Markers read as 0 for arithmetic but keep
their identity, because a reviewer treats "blank", "/" and "0" differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.parser.normalize import squeeze, width_fold

# Marker spellings (after NFKC) → the marker recorded in CellDetail.
_MARKERS: dict[str, str] = {
    "": "blank",
    "/": "/",
    "\\": "/",
    "—": "—",
    "——": "—",
    "–": "—",
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


def read_number(raw: str) -> NumberReading:
    """Read one cell. Never guesses: an unreadable cell has value None and a `problem`."""
    text = width_fold(raw).strip()
    text = text.replace("\u3000", " ").replace("\u00a0", " ").strip()
    compact = squeeze(text)
    marker = _MARKERS.get(compact)
    if marker is not None:
        return NumberReading(raw=raw, value=0, marker=marker)
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
        return NumberReading(
            raw, _to_value(match["num"]), note=note, confidence=0.9, problem="number with a note"
        )
    return NumberReading(raw, None, confidence=0.0, problem="not a number")


def is_value_like(text: str) -> bool:
    """True when a token is a cell value (number, marker or blank), not a label."""
    return read_number(text).readable
