"""Ruled tables of one PDF page → the neutral ``Table`` model, merged cells included.

``pdf_cells`` finds the cell rectangles from the ruling lines; this module decides which
drawn objects are rulings, closes tables that a page break left open, turns the cell
rectangles into a row/column grid with rowspan/colspan, and puts each character into
the one cell box that contains it (so "20" can never become "2" and "0").
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from services.parser.document import Cell, PdfBox, Table
from services.parser.pdf_cells import find_cells
from services.parser.pdf_reader import PageContent
from services.parser.pdf_text import Char, group_lines, lines_to_cell_text

Edge = dict[str, Any]
BBox = tuple[float, float, float, float]

# A filled rectangle thinner than this (pt) is a ruling line drawn as a rectangle.
RULE_MAX_THICKNESS = 2.0
# Edges this close (pt) are one ruling; Word/WPS exports are off by up to ~1 pt.
SNAP_TOLERANCE = 3.0
# Cell boundaries this close (pt) are one grid line.
GRID_TOLERANCE = 2.0
MIN_EDGE_LENGTH = 3.0


@dataclass
class PageTable:
    """A table found on a page: the model table plus where it sits, for reading order."""

    table: Table
    bbox: BBox
    claimed_chars: set[int]  # id() of every character placed in one of its cells


def ruling_edges(page: PageContent) -> list[Edge]:
    """Edges of the objects that draw table borders.

    WPS paints every paragraph and every cell with a white filled rectangle; their edges
    are not borders (taken as borders they turn whole pages of prose into "tables").
    Stroked shapes, lines and thin filled bars are borders.
    """
    edges: list[Edge] = []
    for line in page.lines:
        edges.append(_edge(line["x0"], line["top"], line["x1"], line["bottom"]))
    for rect in page.rects:
        thin = min(rect["width"], rect["height"]) < RULE_MAX_THICKNESS
        if thin:
            edges.append(_edge(rect["x0"], rect["top"], rect["x1"], rect["bottom"]))
        elif rect.get("stroke"):
            x0, top, x1, bottom = rect["x0"], rect["top"], rect["x1"], rect["bottom"]
            edges += [_edge(x0, top, x1, top), _edge(x0, bottom, x1, bottom)]
            edges += [_edge(x0, top, x0, bottom), _edge(x1, top, x1, bottom)]
    for curve in page.curves:
        if curve.get("stroke"):
            for start, end in zip(curve["pts"], curve["pts"][1:], strict=False):
                edges.append(_edge(start[0], start[1], end[0], end[1]))
    return [e for e in edges if e["orientation"] is not None]


def _edge(x0: float, top: float, x1: float, bottom: float) -> Edge:
    """An axis-parallel edge (a thin bar becomes its centre line), else orientation None."""
    x0, x1 = min(x0, x1), max(x0, x1)
    top, bottom = min(top, bottom), max(top, bottom)
    if bottom - top < RULE_MAX_THICKNESS and x1 - x0 >= bottom - top:
        middle = (top + bottom) / 2
        return {
            "object_type": "synthetic_edge",
            "orientation": "h",
            "x0": x0,
            "x1": x1,
            "top": middle,
            "bottom": middle,
            "width": x1 - x0,
            "height": 0.0,
        }
    if x1 - x0 < RULE_MAX_THICKNESS:
        centre = (x0 + x1) / 2
        return {
            "object_type": "synthetic_edge",
            "orientation": "v",
            "x0": centre,
            "x1": centre,
            "top": top,
            "bottom": bottom,
            "width": 0.0,
            "height": bottom - top,
        }
    return {"orientation": None}


def close_open_ends(edges: list[Edge]) -> list[Edge]:
    """Add the border a page break leaves out.

    When a table runs over a page break, WPS and Word often draw no horizontal rule at
    the bottom of the first fragment or the top of the next: the vertical rulings just
    stop. Without that rule the last row has no cell at all and its numbers vanish. Where
    two or more vertical rulings end at the same height, a horizontal rule across them is
    added (harmless where one is already drawn: ``pdf_cells`` merges duplicates).
    """
    verticals = [e for e in edges if e["orientation"] == "v"]
    closing: list[Edge] = []
    for end in ("top", "bottom"):
        for group in _cluster(verticals, key=lambda e, end=end: e[end]):
            if len(group) >= 2:
                y = sum(e[end] for e in group) / len(group)
                left = min(e["x0"] for e in group)
                right = max(e["x0"] for e in group)
                closing.append(_edge(left, y, right, y))
    return edges + closing + _close_open_sides(edges)


def _close_open_sides(edges: list[Edge]) -> list[Edge]:
    """Add the outer left/right border of tables printed without one.

    Some templates leave the table's sides open: the horizontal rules simply end. Where
    horizontal rules start (or end) at the same x and every band between two of them is
    crossed by a drawn vertical ruling (so the band lies inside a ruled table, not in the
    gap between two tables or between a page header and footer rule), a vertical rule is
    added there unless one is drawn already.
    """
    horizontals = [e for e in edges if e["orientation"] == "h"]
    verticals = [e for e in edges if e["orientation"] == "v"]
    closing: list[Edge] = []
    for end in ("x0", "x1"):
        for group in _cluster(horizontals, key=lambda e, end=end: e[end]):
            for run in _ruled_runs(group, verticals):
                x = sum(e[end] for e in run) / len(run)
                top, bottom = run[0]["top"], run[-1]["top"]
                if not _has_vertical_at(verticals, x, top, bottom):
                    closing.append(_edge(x, top, x, bottom))
    return closing


def _ruled_runs(group: list[Edge], verticals: list[Edge]) -> list[list[Edge]]:
    """Split rules into runs of neighbours whose band some vertical ruling crosses."""
    runs: list[list[Edge]] = []
    for edge in sorted(group, key=lambda e: e["top"]):
        if runs and _band_is_ruled(runs[-1][-1], edge, verticals):
            runs[-1].append(edge)
        else:
            runs.append([edge])
    return [run for run in runs if len(run) >= 2]


def _band_is_ruled(upper: Edge, lower: Edge, verticals: list[Edge]) -> bool:
    if lower["top"] - upper["top"] <= SNAP_TOLERANCE:
        return True  # a double rule, or one rule drawn in pieces
    left = min(upper["x0"], lower["x0"]) - SNAP_TOLERANCE
    right = max(upper["x1"], lower["x1"]) + SNAP_TOLERANCE
    return any(
        v["top"] <= upper["top"] + SNAP_TOLERANCE
        and v["bottom"] >= lower["top"] - SNAP_TOLERANCE
        and left < v["x0"] < right
        for v in verticals
    )


def _has_vertical_at(verticals: list[Edge], x: float, top: float, bottom: float) -> bool:
    return any(
        abs(v["x0"] - x) <= SNAP_TOLERANCE
        and v["top"] <= top + SNAP_TOLERANCE
        and v["bottom"] >= bottom - SNAP_TOLERANCE
        for v in verticals
    )


def _cluster(edges: list[Edge], key: Any) -> list[list[Edge]]:
    groups: list[list[Edge]] = []
    for edge in sorted(edges, key=key):
        if groups and key(edge) - key(groups[-1][-1]) <= SNAP_TOLERANCE:
            groups[-1].append(edge)
        else:
            groups.append([edge])
    return groups


def find_page_tables(page: PageContent, chars: list[Char], page_number: int) -> list[PageTable]:
    """Every ruled table on the page, top to bottom, with its characters placed in cells."""
    edges = close_open_ends(ruling_edges(page))
    if not edges:
        return []
    verticals = [e for e in edges if e["orientation"] == "v"]
    horizontals = [e for e in edges if e["orientation"] == "h"]
    # Rules in one direction only (a "three-line table", or underlines) enclose no cell.
    # Such tables are unruled.
    if len(verticals) < 2 or len(horizontals) < 2:
        return []
    found = find_cells(verticals + horizontals, SNAP_TOLERANCE, MIN_EDGE_LENGTH)
    found.sort(key=lambda cells: (_bbox(cells)[1], _bbox(cells)[0]))
    tables: list[PageTable] = []
    for found_cells in found:
        number = len(tables) + 1
        table = build_table(
            found_cells, chars, f"page {page_number}, table {number}", page_number, float(page.height)
        )
        if table is not None:
            tables.append(table)
    return tables


def _bbox(cells: list[BBox]) -> BBox:
    return (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))


def build_table(
    cell_boxes: list[BBox],
    chars: list[Char],
    source: str,
    page_number: int | None = None,
    page_height: float | None = None,
) -> PageTable | None:
    """Rebuild the grid from the cell rectangles and fill it with text.

    With the page's number and height, every cell records its box in PDF coordinates
    (``document.PdfBox``) so the review desk can show it on the page.

    Every distinct left/right edge of a cell is a column boundary and every distinct
    top/bottom a row boundary; a rectangle crossing k boundaries spans k+1 rows or
    columns. A single boxed cell is a frame around text, not a table: returns None.
    """
    xs = _boundaries([b[0] for b in cell_boxes] + [b[2] for b in cell_boxes])
    ys = _boundaries([b[1] for b in cell_boxes] + [b[3] for b in cell_boxes])
    if len(xs) < 2 or len(ys) < 2 or (len(xs) == 2 and len(ys) == 2):
        return None
    anchors: dict[tuple[int, int], BBox] = {}
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    owner: dict[tuple[int, int], tuple[int, int]] = {}  # grid position → anchor
    for box in cell_boxes:
        col, col_end = _index(xs, box[0]), _index(xs, box[2])
        row, row_end = _index(ys, box[1]), _index(ys, box[3])
        if col_end <= col or row_end <= row:
            continue
        anchors[(row, col)] = box
        spans[(row, col)] = (row_end - row, col_end - col)
        for r in range(row, row_end):
            for c in range(col, col_end):
                owner[(r, c)] = (row, col)

    cell_chars: dict[tuple[int, int], list[Char]] = {key: [] for key in anchors}
    claimed: set[int] = set()
    for char in chars:
        position = _grid_position(xs, ys, char)
        if position is not None and position in owner:
            cell_chars[owner[position]].append(char)
            claimed.add(id(char))

    cells = []
    for row, col in sorted(anchors):
        rowspan, colspan = spans[(row, col)]
        text = lines_to_cell_text(group_lines(cell_chars[(row, col)]))
        where = pdf_box(anchors[(row, col)], page_height) if page_height is not None else None
        cells.append(
            Cell(text, row, col, rowspan, colspan, f"{source}, r{row + 1}c{col + 1}", page_number, where)
        )
    bbox = (xs[0], ys[0], xs[-1], ys[-1])
    return PageTable(Table(cells, source), bbox, claimed)


def pdf_box(box: BBox, page_height: float) -> PdfBox:
    """The extractor's (x0, top, x1, bottom), y down from the top, → PDF points, y up."""
    x0, top, x1, bottom = box
    return (round(x0, 2), round(page_height - bottom, 2), round(x1, 2), round(page_height - top, 2))


def _boundaries(values: list[float]) -> list[float]:
    """Distinct coordinates, near-equal ones (within GRID_TOLERANCE) merged."""
    merged: list[float] = []
    for value in sorted(values):
        if not merged or value - merged[-1] > GRID_TOLERANCE:
            merged.append(value)
    return merged


def _index(boundaries: list[float], value: float) -> int:
    """The nearest boundary (the lower one on a tie); `boundaries` ascend."""
    above = bisect_left(boundaries, value)
    if above == 0:
        return 0
    if above == len(boundaries):
        return above - 1
    return above if boundaries[above] - value < value - boundaries[above - 1] else above - 1


def _grid_position(xs: list[float], ys: list[float], char: Char) -> tuple[int, int] | None:
    """The grid slot holding the character's centre, or None outside the table."""
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    if not (xs[0] <= x < xs[-1] and ys[0] <= y < ys[-1]):
        return None
    return bisect_right(ys, y) - 1, bisect_right(xs, x) - 1
