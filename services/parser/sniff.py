"""What kind of file this is, from its bytes; the file name is only a tie-breaker."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Literal

from shared.report import UnreadableDocument

FileKind = Literal["pdf", "docx", "xlsx", "doc", "xls", "wps", "rtf", "odt", "html", "text", "image"]

_MiB = 1024 * 1024
# The largest file of each format the parser reads. A report is a few dozen pages: its
# text is well under a megabyte, a PDF with scans or a DOCX with images a few dozen.
# Beyond these a file is not a report (or is a dump of many) and is refused, not parsed
# for minutes.
MAX_BYTES: dict[FileKind, int] = {
    "text": 8 * _MiB,
    "html": 16 * _MiB,
    "pdf": 64 * _MiB,
    "docx": 64 * _MiB,
    "xlsx": 32 * _MiB,
    "doc": 64 * _MiB,
    "xls": 32 * _MiB,
    "wps": 64 * _MiB,
    "rtf": 32 * _MiB,
    "odt": 64 * _MiB,
    "image": 64 * _MiB,  # a photo or scan of the pages (JPEG, PNG, TIFF), read by OCR
}
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")


def check_size(data: bytes, kind: FileKind) -> None:
    """Refuse a file larger than its format's limit, with the reason."""
    limit = MAX_BYTES[kind]
    if len(data) > limit:
        raise UnreadableDocument(
            "too_large",
            f"a {kind} file of {len(data) / _MiB:.1f} MiB is larger than the {limit // _MiB} MiB "
            f"read for that format",
        )

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<head|<meta|<body|<div|<table|<p[\s>]|<\?xml[^>]*>\s*<html)", re.I
)
_HTML_ANYWHERE = re.compile(rb"<(html|body|table|div|p)[\s>]", re.I)


def _ole_kind(data: bytes, filename: str) -> FileKind:
    # Stream names are stored as UTF-16LE in the OLE directory.
    if "WordDocument".encode("utf-16-le") in data:
        return "wps" if filename.lower().endswith(".wps") else "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    if filename.lower().endswith(".wps"):
        return "wps"
    raise UnreadableDocument("unsupported_format", "an OLE2 container that is neither Word nor Excel")


def _zip_kind(data: bytes) -> FileKind:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    # A damaged directory may also claim an unknown zip version or encryption.
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise UnreadableDocument("corrupt_file", f"damaged zip container: {exc}")
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        return "odt"
    raise UnreadableDocument("unsupported_format", "a zip archive that is not a Word or Excel document")


def sniff(data: bytes, filename: str = "") -> FileKind:
    if not data:
        raise UnreadableDocument("corrupt_file", "empty file")
    head = data[:1024]
    if head.lstrip().startswith(b"%PDF") or b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(_OLE_MAGIC):
        return _ole_kind(data, filename)
    if data.startswith(_IMAGE_MAGIC):
        return "image"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    body = head.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(body):
        return "html"
    if filename.lower().endswith(
        (".html", ".htm", ".shtml", ".jsp", ".asp", ".aspx", ".php")
    ) and _HTML_ANYWHERE.search(data[:65536]):
        return "html"
    return "text"
