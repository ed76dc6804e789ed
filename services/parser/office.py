"""Office documents → ExtractedDocument: DOCX (python-docx), XLSX (openpyxl), XLS (xlrd),
and DOC/WPS/RTF/ODT through a headless LibreOffice conversion to DOCX."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from services.parser.document import Block, Cell, ExtractedDocument, Paragraph, Table
from shared.report import UnreadableDocument

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONVERSION_TIMEOUT_S = 120


# --- Package limits (DOCX, XLSX, ODT are zips) -------------------------------------

_MiB = 1024 * 1024
# A report's document.xml or sheet is a few MB; python-docx and openpyxl hold every part
# in memory (a 1 GB document.xml took 1.9 GB), so parts are capped like zip members.
MAX_PART_BYTES = 64 * _MiB
MAX_PACKAGE_BYTES = 256 * _MiB
MAX_PART_RATIO = 100  # uncompressed/compressed, for parts over RATIO_CHECKED_FROM
RATIO_CHECKED_FROM = 8 * _MiB  # small parts may compress well without harm


def check_package(data: bytes, label: str) -> None:
    """Refuse an office package whose parts would expand beyond the caps (a zip bomb)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except _DAMAGED_ZIP as exc:
        raise UnreadableDocument("corrupt_file", f"{label} could not be opened: {exc}")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_PART_BYTES:
            raise UnreadableDocument(
                "too_large",
                f"{label} part {info.filename} expands to {info.file_size} bytes (limit {MAX_PART_BYTES})",
            )
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_PART_RATIO * max(1, info.compress_size):
            raise UnreadableDocument(
                "too_large",
                f"{label} part {info.filename} is compressed {info.file_size // max(1, info.compress_size)}:1 "
                "(looks like a zip bomb)",
            )
    if total > MAX_PACKAGE_BYTES:
        raise UnreadableDocument(
            "too_large", f"{label} expands to {total} bytes in all (limit {MAX_PACKAGE_BYTES})"
        )


# --- DOCX -----------------------------------------------------------------------


def _paragraph_text(p: Any) -> str:
    """All w:t text of a paragraph (runs, hyperlinks, fields), with w:br/w:tab as breaks."""
    parts: list[str] = []
    for node in p.iter(f"{_W}t", f"{_W}br", f"{_W}tab", f"{_W}cr"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _int_attr(element: Any, tag: str) -> int | None:
    found = element.find(tag)
    if found is None:
        return None
    value = found.get(f"{_W}val")
    return int(value) if value and value.isdigit() else None


def _docx_table(tbl: Any, index: int) -> Table:
    """w:tbl → Table: gridSpan gives colspan, vMerge continuation cells extend the rowspan."""
    cells: list[Cell] = []
    open_merges: dict[int, Cell] = {}  # grid column → the cell a vMerge continues
    source = f"table {index}"
    for r, tr in enumerate(tbl.findall(f"{_W}tr")):
        trpr = tr.find(f"{_W}trPr")
        c = (_int_attr(trpr, f"{_W}gridBefore") or 0) if trpr is not None else 0
        for tc in tr.findall(f"{_W}tc"):
            tcpr = tc.find(f"{_W}tcPr")
            span = (_int_attr(tcpr, f"{_W}gridSpan") or 1) if tcpr is not None else 1
            vmerge = tcpr.find(f"{_W}vMerge") if tcpr is not None else None
            continues = vmerge is not None and vmerge.get(f"{_W}val") in (None, "continue")
            if continues and c in open_merges:
                anchor = open_merges[c]
                anchor.rowspan = r - anchor.row + 1
            else:
                text = "\n".join(_paragraph_text(p) for p in tc.iter(f"{_W}p")).strip("\n")
                cell = Cell(text, r, c, 1, span, f"{source}, r{r}c{c}")
                cells.append(cell)
                for col in range(c, c + span):
                    open_merges.pop(col, None)
                if vmerge is not None:
                    open_merges[c] = cell
            c += span
    return Table(cells, source)


def _docx_blocks(body: Any, blocks: list[Block], counter: list[int]) -> None:
    for child in body:
        if child.tag == f"{_W}p":
            text = _paragraph_text(child)
            if text.strip():
                blocks.append(Paragraph(text.strip(), f"paragraph {len(blocks) + 1}"))
        elif child.tag == f"{_W}tbl":
            counter[0] += 1
            blocks.append(_docx_table(child, counter[0]))
        elif child.tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"):
            _docx_blocks(child, blocks, counter)


# What a damaged OOXML package raises: a broken zip directory, a damaged compressed member
# (zlib.error, EOFError), a member that is not well-formed XML (lxml's SyntaxError), or flag
# bits that claim encryption.
_DAMAGED_ZIP = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    OSError,
    EOFError,
    zlib.error,
    SyntaxError,
    RuntimeError,  # zipfile: "is encrypted, password required"
    NotImplementedError,  # zipfile: unsupported (strong) encryption or compression
)


def extract_docx(data: bytes) -> ExtractedDocument:
    import docx  # python-docx; imported here so text/HTML parsing never pays for it

    check_package(data, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except _DAMAGED_ZIP as exc:
        raise UnreadableDocument("corrupt_file", f"DOCX could not be opened: {exc}")
    blocks: list[Block] = []
    _docx_blocks(document.element.body, blocks, [0])
    metadata: dict[str, str] = {}
    title = document.core_properties.title
    if title:
        metadata["title"] = title
    return ExtractedDocument(blocks=blocks, metadata=metadata)


# --- XLSX / XLS -----------------------------------------------------------------


def _cell_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


_BLANK_ROWS_KEPT = 2


def _sheet_table(
    values: dict[tuple[int, int], str],
    merges: list[tuple[int, int, int, int]],
    source: str,
    used_rows: int = 0,
) -> Table:
    """Cells of one sheet (0-based positions) with merged ranges as spans.

    `used_rows`: the rows the sheet itself holds (empty but formatted cells included), so a
    last table row whose zeros were all left blank is still a row of the table.
    """
    covered: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for r0, c0, r1, c1 in merges:
        cells.append(
            Cell(values.get((r0, c0), ""), r0, c0, r1 - r0 + 1, c1 - c0 + 1, f"{source}, r{r0}c{c0}")
        )
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
    n_cols = max((c for _, c in values), default=-1) + 1
    n_rows = max((r for r, _ in values), default=-1) + 1
    # Formatted rows right after the last value (a blank last row); never a sheet's padding.
    n_rows = max(n_rows, min(used_rows, n_rows + _BLANK_ROWS_KEPT), *(r1 + 1 for _, _, r1, _ in merges))
    for r in range(n_rows):
        for c in range(n_cols):
            if (r, c) not in covered:
                cells.append(Cell(values.get((r, c), ""), r, c, 1, 1, f"{source}, r{r}c{c}"))
    return Table(cells, source)


def extract_xlsx(data: bytes) -> ExtractedDocument:
    import openpyxl

    check_package(data, "XLSX")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except _DAMAGED_ZIP as exc:
        raise UnreadableDocument("corrupt_file", f"XLSX could not be opened: {exc}")
    blocks: list[Block] = []
    for sheet in workbook.worksheets:
        values = {
            (cell.row - 1, cell.column - 1): _cell_string(cell.value)
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None and str(cell.value).strip()
        }
        merges = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in sheet.merged_cells.ranges
        ]
        blocks.extend(_sheet_blocks(values, merges, f"sheet {sheet.title}", sheet.max_row))
    return ExtractedDocument(blocks=blocks)


def extract_xls(data: bytes) -> ExtractedDocument:
    import xlrd

    try:
        workbook = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except Exception as exc:  # xlrd raises bare XLRDError/CompDocError/struct errors on damage
        raise UnreadableDocument("corrupt_file", f"XLS could not be opened: {exc}")
    blocks: list[Block] = []
    for sheet in workbook.sheets():
        values = {
            (r, c): _cell_string(sheet.cell_value(r, c))
            for r in range(sheet.nrows)
            for c in range(sheet.ncols)
            if str(sheet.cell_value(r, c)).strip()
        }
        merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
        blocks.extend(_sheet_blocks(values, merges, f"sheet {sheet.name}", sheet.nrows))
    return ExtractedDocument(blocks=blocks)


def _sheet_blocks(
    values: dict[tuple[int, int], str], merges: list[tuple[int, int, int, int]], source: str, used_rows: int
) -> list[Block]:
    if not values:
        return []
    return [_sheet_table(values, merges, source, used_rows)]


# --- DOC / WPS / RTF / ODT via LibreOffice -----------------------------------------


def convert_with_libreoffice(data: bytes, suffix: str, target: str = "docx") -> bytes:
    """Headless conversion with a private profile per call, so parallel workers never share one."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise UnreadableDocument("conversion_failed", "LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        work = Path(tmp)
        source = work / f"input.{suffix}"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation=file://{work / 'profile'}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=_CONVERSION_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise UnreadableDocument(
                "conversion_failed", f"LibreOffice did not finish in {_CONVERSION_TIMEOUT_S} s"
            )
        result = work / "out" / f"input.{target}"
        if not result.exists() or result.stat().st_size == 0:
            raise UnreadableDocument(
                "conversion_failed", f"LibreOffice could not convert this .{suffix} file"
            )
        return result.read_bytes()


def extract_via_libreoffice(data: bytes, kind: str) -> ExtractedDocument:
    if kind == "odt":
        check_package(data, "ODT")
    return extract_docx(convert_with_libreoffice(data, kind))
