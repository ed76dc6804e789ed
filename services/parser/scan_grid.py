"""Table grids of a scanned page, found from its ruling lines (OpenCV; no OCR).

A page image is straightened (projection-profile deskew), its ruling lines are isolated
with long thin morphological openings, and each table is the region a connected set of
lines encloses. A table's cells are the blank areas between its lines; their edges,
clustered, give the grid's row and column boundaries, so merged cells come out with
their row and column spans — the same neutral model every other reader produces.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW_DEGREES = 3.0
SKEW_STEP_DEGREES = 0.1
MIN_TABLE_WIDTH_SHARE = 0.3  # of the page width
EDGE_TOLERANCE_PX = 8  # at 200 dpi; scaled with the resolution


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the straightened page


@dataclass(frozen=True)
class PageGrid:
    box: tuple[int, int, int, int]
    cells: list[GridCell]


def to_gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark marks as 255: adaptive threshold copes with uneven light and grey paper; a
    red seal is light in grey and mostly drops out."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def flatten_page(gray: np.ndarray) -> np.ndarray:
    """A photographed page (the sheet a lighter quadrilateral on a darker background)
    warped back to a rectangle filling the image; a scan without visible sheet edges
    comes back as it was."""
    height, width = gray.shape
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    _, paper = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (31, 31)))
    contours, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return gray
    sheet = max(contours, key=cv2.contourArea)
    share = cv2.contourArea(sheet) / (width * height)
    if not 0.5 <= share <= 0.97:
        return gray
    corners = cv2.approxPolyDP(sheet, 0.02 * cv2.arcLength(sheet, True), True)
    if len(corners) != 4:
        return gray
    source = _clockwise_from_top_left(corners.reshape(4, 2).astype(np.float32))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    return cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


def _clockwise_from_top_left(points: np.ndarray) -> np.ndarray:
    sums, diffs = points.sum(axis=1), np.diff(points, axis=1).ravel()
    corners = [points[sums.argmin()], points[diffs.argmin()], points[sums.argmax()], points[diffs.argmax()]]
    return np.array(corners, dtype=np.float32)


def deskew(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The page turned so that its text lines are level; returns it and the angle used."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ink = ink_mask(small)
    height, width = ink.shape
    best_angle, best_score = 0.0, -1.0
    for step in range(int(-MAX_SKEW_DEGREES / SKEW_STEP_DEGREES), int(MAX_SKEW_DEGREES / SKEW_STEP_DEGREES) + 1):
        angle = step * SKEW_STEP_DEGREES
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        turned = cv2.warpAffine(ink, matrix, (width, height))
        score = float(np.var(turned.sum(axis=1, dtype=np.float64)))
        if score > best_score:
            best_angle, best_score = angle, score
    if abs(best_angle) < SKEW_STEP_DEGREES / 2:
        return gray, 0.0
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), best_angle, 1.0)
    background = int(np.percentile(gray, 90))
    straight = cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=background)
    return straight, best_angle


def line_mask(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Horizontal and vertical ruling lines (255), slightly thickened so that they meet."""
    ink = ink_mask(gray)
    scale = dpi / 200
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (int(90 * scale), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(28 * scale))))
    lines = cv2.bitwise_or(horizontal, vertical)
    return cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))


def find_grids(gray: np.ndarray, dpi: int) -> list[PageGrid]:
    """Every ruled table of the page, top to bottom."""
    lines = line_mask(gray, dpi)
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    page_width = gray.shape[1]
    grids = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        if w < MIN_TABLE_WIDTH_SHARE * page_width or h < 20 * dpi / 200:
            continue
        cells = _cells(lines[y : y + h, x : x + w].copy(), dpi)
        if cells:
            shifted = [
                GridCell(c.row, c.col, c.rowspan, c.colspan, (c.box[0] + x, c.box[1] + y, c.box[2] + x, c.box[3] + y))
                for c in cells
            ]
            grids.append(PageGrid((int(x), int(y), int(x + w), int(y + h)), shifted))
    return sorted(grids, key=lambda g: g.box[1])


def _cells(lines: np.ndarray, dpi: int) -> list[GridCell]:
    """The blank areas between a table's lines, placed on the grid of their edges."""
    # Close the table's outline: a table split over pages lacks its top or bottom border.
    cv2.rectangle(lines, (0, 0), (lines.shape[1] - 1, lines.shape[0] - 1), 255, thickness=2)
    count, _, stats, _ = cv2.connectedComponentsWithStats(cv2.bitwise_not(lines), connectivity=4)
    minimum = 8 * dpi / 200
    boxes = [
        (int(x), int(y), int(x + w), int(y + h))
        for x, y, w, h, _ in stats[1:count]
        if w >= minimum and h >= minimum
    ]
    if len(boxes) < 2:
        return []
    tolerance = EDGE_TOLERANCE_PX * dpi / 200
    xs = _cluster([b[0] for b in boxes] + [b[2] for b in boxes], tolerance)
    ys = _cluster([b[1] for b in boxes] + [b[3] for b in boxes], tolerance)
    cells = []
    for x0, y0, x1, y1 in boxes:
        col, last_col = _nearest(xs, x0), _nearest(xs, x1)
        row, last_row = _nearest(ys, y0), _nearest(ys, y1)
        if last_col > col and last_row > row:
            cells.append(GridCell(row, col, last_row - row, last_col - col, (x0, y0, x1, y1)))
    return _compact(cells)


def _cluster(values: list[int], tolerance: float) -> list[float]:
    centers: list[list[int]] = []
    for value in sorted(values):
        if centers and value - centers[-1][-1] <= tolerance:
            centers[-1].append(value)
        else:
            centers.append([value])
    return [sum(group) / len(group) for group in centers]


def _nearest(centers: list[float], value: int) -> int:
    return min(range(len(centers)), key=lambda i: abs(centers[i] - value))


def _compact(cells: list[GridCell]) -> list[GridCell]:
    """Renumber rows and columns so that no grid line is left without a cell edge on it.

    A cell's left and right edges sit on distinct boundaries (its own left edge and the
    next cell's left edge differ by the line's width), so every boundary index is kept
    but spans are measured in boundaries actually used as starts.
    """
    row_starts = sorted({c.row for c in cells} | {c.row + c.rowspan for c in cells})
    col_starts = sorted({c.col for c in cells} | {c.col + c.colspan for c in cells})
    row_index = {value: i for i, value in enumerate(row_starts)}
    col_index = {value: i for i, value in enumerate(col_starts)}
    return [
        GridCell(
            row_index[c.row],
            col_index[c.col],
            row_index[c.row + c.rowspan] - row_index[c.row],
            col_index[c.col + c.colspan] - col_index[c.col],
            c.box,
        )
        for c in cells
    ]
