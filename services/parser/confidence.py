"""Confidence from the tables' own arithmetic: a post-pass over the parsed cells.

A cell's confidence is the probability that its value is the printed one. Table 三 checks
itself: every cell sits in its row sum, and in its column's （七）总计 or balance. When every
identity a cell takes part in holds — at least two of them, so that no other value of that
cell could also fit — the cell is certain, whatever its label or layout looked like. When
identities fail, a cell not read from an exact grid cell that breaks two of them (or every
one it is in) could be the culprit — a digit lost by the text extraction, say — and drops
below UNCERTAIN_BELOW: a person compares it with the source before anyone is told the
report is wrong. A grid cell's text is exact: a sum it breaks is the report's own error.

What the arithmetic cannot settle it does not touch: an 8-number row whose readings all add
up is exactly such a case, so its cells are left as the table mapper scored them.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.report import (
    T3_COLUMNS,
    T3_RESULT_ROWS_OTHER,
    T3_ROWS_V2021,
    T4_GROUPS,
    T4_OUTCOMES,
    CellDetail,
    CellValue,
    t3_key,
)

CONFIRMED = 0.99  # every identity of the cell holds: certain, yet not a printed grid cell
SUSPECT_FACTOR = 0.8  # a cell of a text reading that breaks the sums: it may be the culprit
_EPS = 1e-6

Identity = tuple[tuple[str, ...], tuple[str, ...]]  # Σ left = Σ right


def table_identities(cells: dict[str, CellValue]) -> list[Identity]:
    """Table 三's row sums, column totals and balances, and table 四's group totals."""
    single_other = all(cells.get(t3_key(r, "total")) is None for r in T3_RESULT_ROWS_OTHER) and (
        cells.get(t3_key("other_all", "total")) is not None
    )
    other_rows = ("other_all",) if single_other else T3_RESULT_ROWS_OTHER
    result_rows = (*T3_ROWS_V2021[2:20], *other_rows)
    rows = (*T3_ROWS_V2021[:20], *other_rows, "total_processed", "carried_forward")
    out: list[Identity] = []
    for column in T3_COLUMNS:
        out.append((
            (t3_key("new_received", column), t3_key("carried_over", column)),
            (t3_key("total_processed", column), t3_key("carried_forward", column)),
        ))
        out.append(((t3_key("total_processed", column),), tuple(t3_key(r, column) for r in result_rows)))
    for row in rows:
        out.append(((t3_key(row, "total"),), tuple(t3_key(row, c) for c in T3_COLUMNS[:-1])))
    for group in T4_GROUPS:
        out.append(((f"t4_{group}_total",), tuple(f"t4_{group}_{o}" for o in T4_OUTCOMES[:-1])))
    return out


def _holds(identity: Identity, cells: dict[str, CellValue]) -> bool | None:
    """True / False, or None when a cell is null (nothing can be said)."""
    left, right = identity
    values = [cells.get(k) for k in (*left, *right)]
    if any(v is None for v in values):
        return None
    return abs(sum(values[: len(left)]) - sum(values[len(left) :])) < _EPS  # type: ignore[arg-type]


def confirm_by_arithmetic(
    cells: dict[str, CellValue], details: dict[str, CellDetail], undecided: Iterable[str] = ()
) -> None:
    """Raise or lower `details[k].confidence` in place from the identities the cells satisfy."""
    skip = set(undecided)
    verdicts: dict[str, list[bool]] = {}
    for identity in table_identities(cells):
        holds = _holds(identity, cells)
        if holds is None:
            continue
        for key in (*identity[0], *identity[1]):
            verdicts.setdefault(key, []).append(holds)
    for key, held in verdicts.items():
        detail = details.get(key)
        if detail is None or detail.confidence >= CONFIRMED:
            continue
        broken = held.count(False)
        if not broken and len(held) >= 2 and key not in skip:
            detail.confidence = CONFIRMED
        elif broken >= 2 or (broken and broken == len(held)):
            detail.confidence = round(detail.confidence * SUSPECT_FACTOR, 3)
