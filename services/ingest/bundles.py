"""Unpacking zip bundles safely: one document per member, a reason per refusal.

Zips made on Chinese Windows store member names as GBK bytes without the UTF-8 flag;
Python's zipfile then decodes them as CP437, so we re-decode those names.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# A bundle's bytes, or a seekable file holding them (read in place, never copied whole).
BundleSource = bytes | BinaryIO


def _open(source: BundleSource) -> zipfile.ZipFile:
    if isinstance(source, bytes):
        return zipfile.ZipFile(io.BytesIO(source))
    source.seek(0)
    return zipfile.ZipFile(source)


def _head(source: BundleSource) -> bytes:
    if isinstance(source, bytes):
        return source[:4]
    source.seek(0)
    head = source.read(4)
    source.seek(0)
    return head


@dataclass
class BundleMember:
    name: str
    data: bytes | None  # None when refused
    refusal: str | None = None
    declared_size: int = 0


@dataclass(frozen=True)
class BundleLimits:
    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: int


def is_zip(data: BundleSource, filename: str) -> bool:
    """A bundle to unpack — not an OOXML document, which is a zip too."""
    if not _head(data).startswith(b"PK\x03\x04"):
        return False
    if filename.lower().endswith((".docx", ".xlsx", ".pptx", ".odt", ".ods")):
        return False
    try:
        names = _open(data).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return not any(n in ("word/document.xml", "xl/workbook.xml", "[Content_Types].xml") for n in names)


def decode_member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:  # the UTF-8 flag: the name is already right
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _refusal(name: str, info: zipfile.ZipInfo, limits: BundleLimits, total_so_far: int) -> str | None:
    normalised = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or normalised.startswith("..") or ":" in normalised.split("/")[0]:
        return "refused: path traversal in member name"
    if info.flag_bits & 0x1:
        return "refused: encrypted member"
    if info.file_size > limits.max_member_bytes:
        return f"refused: member too large ({info.file_size} bytes > {limits.max_member_bytes})"
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        return f"refused: compression ratio {info.file_size // info.compress_size}:1 looks like a zip bomb"
    if total_so_far + info.file_size > limits.max_total_bytes:
        return f"refused: bundle expands beyond {limits.max_total_bytes} bytes"
    if name.lower().endswith(".zip"):
        return "refused: nested zip (upload it on its own)"
    return None


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    # The declared size can lie; read at most cap+1 bytes and refuse if there are more.
    with archive.open(info) as member:
        data = member.read(cap + 1)
    return None if len(data) > cap else data


def unpack_bundle(data: BundleSource, limits: BundleLimits) -> Iterator[BundleMember]:
    """Members of a zip, one at a time, each with its bytes or the reason it was refused.

    A bundle with more members than the limit is refused as a whole (one refusal, not one
    per member: a small zip can hold many thousands of names)."""
    try:
        archive = _open(data)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield BundleMember(name="(bundle)", data=None, refusal=f"refused: not a readable zip ({exc})")
        return
    if len(infos) > limits.max_members:
        yield BundleMember(
            "(bundle)",
            None,
            f"refused: the bundle holds {len(infos)} files, more than the limit of {limits.max_members}",
        )
        return
    total = 0
    for info in infos:
        name = decode_member_name(info)
        refusal = _refusal(name, info, limits, total)
        if refusal is None:
            try:
                content = _read_capped(archive, info, limits.max_member_bytes)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                content, refusal = None, f"refused: member is corrupt ({exc})"
            else:
                if content is None:
                    refusal = "refused: member larger than it declares"
        if refusal is None:
            assert content is not None
            total += len(content)
            yield BundleMember(posixpath.basename(name.replace("\\", "/")), content, None, info.file_size)
        else:
            yield BundleMember(name, None, refusal, info.file_size)
