"""Ruling edges → the cell rectangles they enclose, grouped into tables.

The lattice method pdfplumber uses (after Nurminen's thesis and Tabula), over the edge
dicts of ``pdf_tables`` (``orientation`` "h"/"v", ``x0``, ``x1``, ``top``, ``bottom``,
``width``, ``height``; y down from the top of the page):

1. snap: parallel edges whose positions chain within the tolerance move to their mean;
2. join: collinear pieces closer than the tolerance become one edge (Word draws a rule
   cell by cell), and edges shorter than the minimum length are dropped;
3. every crossing of a vertical and a horizontal edge is a corner;
4. each corner's cell is the smallest rectangle whose four corners exist and whose four
   sides are drawn along one edge;
5. cells sharing a corner form one table; a table of a single cell is a frame, not a table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import groupby
from typing import Any

Edge = dict[str, Any]
BBox = tuple[float, float, float, float]
Point = tuple[float, float]


def find_cells(edges: list[Edge], tolerance: float, min_length: float) -> list[list[BBox]]:
    """Cell rectangles of every table the edges draw, tables top to bottom, left to right."""
    merged = [e for e in merge_edges(edges, tolerance) if e[_length_key(e)] >= min_length]
    corners = intersections(merged, tolerance)
    return cells_to_tables(corner_cells(corners))


def merge_edges(edges: list[Edge], tolerance: float) -> list[Edge]:
    verticals = _snap([e for e in edges if e["orientation"] == "v"], "x0", ("x0", "x1"), tolerance)
    horizontals = _snap([e for e in edges if e["orientation"] == "h"], "top", ("top", "bottom"), tolerance)

    def line_of(edge: Edge) -> tuple[str, float]:
        return ("h", edge["top"]) if edge["orientation"] == "h" else ("v", edge["x0"])

    merged: list[Edge] = []
    for (orientation, _), group in groupby(sorted(verticals + horizontals, key=line_of), key=line_of):
        merged += _join(list(group), orientation, tolerance)
    return merged


def _snap(edges: list[Edge], key: str, moved: tuple[str, str], tolerance: float) -> list[Edge]:
    """Move edges whose ``key`` values chain within ``tolerance`` onto the group's mean."""
    snapped: list[Edge] = []
    for group in _chained(edges, key, tolerance):
        mean = sum(e[key] for e in group) / len(group)
        for edge in group:
            shift = mean - edge[key]
            snapped.append({**edge, moved[0]: edge[moved[0]] + shift, moved[1]: edge[moved[1]] + shift})
    return snapped


def _chained(edges: list[Edge], key: str, tolerance: float) -> list[list[Edge]]:
    """Groups of edges whose distinct ``key`` values chain with gaps ≤ tolerance."""
    group_of: dict[float, int] = {}
    group = -1
    previous: float | None = None
    for value in sorted({e[key] for e in edges}):
        if previous is None or value > previous + tolerance:
            group += 1
        group_of[value] = group
        previous = value
    ordered = sorted(edges, key=lambda e: group_of[e[key]])
    return [list(members) for _, members in groupby(ordered, key=lambda e: group_of[e[key]])]


def _join(edges: list[Edge], orientation: str, tolerance: float) -> list[Edge]:
    start, end, length = ("x0", "x1", "width") if orientation == "h" else ("top", "bottom", "height")
    ordered = sorted(edges, key=lambda e: e[start])
    joined = [ordered[0]]
    for edge in ordered[1:]:
        last = joined[-1]
        if edge[start] <= last[end] + tolerance:
            if edge[end] > last[end]:
                joined[-1] = {**last, end: edge[end], length: edge[end] - last[start]}
        else:
            joined.append(edge)
    return joined


def _length_key(edge: Edge) -> str:
    return "height" if edge["orientation"] == "v" else "width"


def _box(edge: Edge) -> BBox:
    return (edge["x0"], edge["top"], edge["x1"], edge["bottom"])


def intersections(edges: list[Edge], tolerance: float) -> dict[Point, dict[str, set[BBox]]]:
    """Every point where a vertical edge meets a horizontal one, with the edges through it."""
    corners: dict[Point, dict[str, set[BBox]]] = {}
    verticals = sorted((e for e in edges if e["orientation"] == "v"), key=lambda e: (e["x0"], e["top"]))
    horizontals = sorted((e for e in edges if e["orientation"] == "h"), key=lambda e: (e["top"], e["x0"]))
    for v in verticals:
        for h in horizontals:
            if (
                v["top"] <= h["top"] + tolerance
                and v["bottom"] >= h["top"] - tolerance
                and h["x0"] - tolerance <= v["x0"] <= h["x1"] + tolerance
            ):
                corner = corners.setdefault((v["x0"], h["top"]), {"v": set(), "h": set()})
                corner["v"].add(_box(v))
                corner["h"].add(_box(h))
    return corners


def corner_cells(corners: dict[Point, dict[str, set[BBox]]]) -> list[BBox]:
    """For each corner (top-left), the smallest ruled rectangle it starts, if any."""

    def connected(p1: Point, p2: Point) -> bool:
        if p1[0] == p2[0] and corners[p1]["v"] & corners[p2]["v"]:
            return True
        return p1[1] == p2[1] and bool(corners[p1]["h"] & corners[p2]["h"])

    points = sorted(corners)
    # The corners of each vertical and each horizontal line, in order: a corner's cell
    # closes below it on its vertical and right of it on its horizontal (a scan of every
    # later corner made a large table's cells quadratic).
    on_vertical: dict[float, list[Point]] = defaultdict(list)
    on_horizontal: dict[float, list[Point]] = defaultdict(list)
    for point in points:
        on_vertical[point[0]].append(point)
        on_horizontal[point[1]].append(point)
    cells: list[BBox] = []
    for point in points:
        below = [p for p in on_vertical[point[0]] if p[1] > point[1]]
        right = [p for p in on_horizontal[point[1]] if p[0] > point[0]]
        cell = _smallest_cell(point, below, right, corners, connected)
        if cell is not None:
            cells.append(cell)
    return cells


def _smallest_cell(
    point: Point,
    below: list[Point],
    right: list[Point],
    corners: dict[Point, Any],
    connected: Any,
) -> BBox | None:
    for below_point in below:
        if not connected(point, below_point):
            continue
        for right_point in right:
            if not connected(point, right_point):
                continue
            opposite = (right_point[0], below_point[1])
            if opposite in corners and connected(opposite, right_point) and connected(opposite, below_point):
                return (point[0], point[1], opposite[0], opposite[1])
    return None


def cells_to_tables(cells: Iterable[BBox]) -> list[list[BBox]]:
    """Cells grouped into tables by shared corners; single-cell groups dropped."""
    remaining = list(cells)
    tables: list[list[BBox]] = []
    current: list[BBox] = []
    current_corners: set[Point] = set()
    while remaining:
        before = len(current)
        for cell in list(remaining):
            x0, top, x1, bottom = cell
            cell_corners = {(x0, top), (x0, bottom), (x1, top), (x1, bottom)}
            if not current or cell_corners & current_corners:
                current_corners |= cell_corners
                current.append(cell)
                remaining.remove(cell)
        if len(current) == before:
            tables.append(current)
            current, current_corners = [], set()
    if current:
        tables.append(current)
    tables.sort(key=lambda table: min((c[1], c[0]) for c in table))
    return [table for table in tables if len(table) > 1]
