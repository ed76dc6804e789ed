"""Bytes → str for text and HTML documents (spec §8 "Encodings")."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Declared Chinese charsets are decoded as their superset GB18030.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "euc-cn", "hz-gb-2312", "windows-936"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def canonical_encoding(name: str) -> str:
    lowered = name.lower().replace("_", "-")
    return "gb18030" if lowered in _GB_FAMILY else lowered


def declared_html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return canonical_encoding(match.group(1).decode("ascii")) if match else None


_DETECTION_SAMPLE = 64 * 1024  # bytes charset detection looks at (its cost grows with size)


def _plausible(ch: str) -> bool:
    """A character a Chinese report is made of: CJK, their punctuation, fullwidth forms,
    printable ASCII and whitespace."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20 <= code < 0x7F
        or ch in "\t\r\n"
        or 0x2000 <= code <= 0x206F  # general punctuation: “” … —
        or 0x3400 <= code <= 0x4DBF
    )


def detect_utf16(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" for UTF-16 text saved without a BOM (some Windows tools do),
    else None. Only asked after UTF-8 failed: two ASCII letters read as UTF-16 look like a
    CJK character, so ASCII text must never get here."""
    sample = data[: _DETECTION_SAMPLE & ~1]
    if len(sample) < 4:
        return None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(_plausible(ch) for ch in text) >= 0.95 * len(text):
            return encoding
    return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode with the BOM, then the declared charset, UTF-8, UTF-16 without a BOM,
    GB18030, then detection.

    Order matters: UTF-8 and GB18030 are strict and cover nearly every report, while
    detection on short Chinese texts is a guess, so it comes last.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in [c for c in (declared, "utf-8") if c]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    utf16 = detect_utf16(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:_DETECTION_SAMPLE]).best()
    if best is not None and best.encoding:
        return data.decode(canonical_encoding(best.encoding), errors="replace")
    return data.decode("gb18030", errors="replace")


def looks_binary(data: bytes) -> bool:
    """Many NUL or control bytes: not a text file in any of our encodings."""
    sample = data[:4096]
    if not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls / len(sample) <= 0.05:
        return False
    # UTF-16 text is full of NUL bytes yet is text (asked only now: decoding is the slow part).
    return not (
        sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or detect_utf16(data) is not None
    )


_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # control bytes other than tab, LF, VT, FF, CR
