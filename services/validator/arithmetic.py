"""Linear identities between cells, and pinning the one cell that breaks several of them.

Table 三 is a grid whose rows, columns and balance are all sums of each other, so a single
wrong number breaks a recognisable *set* of identities (its row sum, its column's
（七）总计, its column's balance). Trying the few repairs a real extraction or typing error
produces — one cell wrong, a number split or truncated ("20" read as 2), one value or a whole
row shifted by one column — and keeping a repair only if it makes **every** identity hold,
names the culprit exactly when the arithmetic determines it, and never otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.report import CellValue

Number = int | float
EPS = 1e-6


@dataclass(frozen=True)
class Identity:
    """Σ lhs = Σ rhs, checked under `rule`."""

    rule: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        return self.lhs + self.rhs

    def sides(self, values: Mapping[str, CellValue]) -> tuple[Number, Number] | None:
        """(Σ lhs, Σ rhs), or None when a cell is null: the check is then skipped."""
        left: Number = 0
        right: Number = 0
        for k in self.lhs:
            v = values.get(k)
            if v is None:
                return None
            left += v
        for k in self.rhs:
            v = values.get(k)
            if v is None:
                return None
            right += v
        return left, right

    def residual(self, values: Mapping[str, CellValue]) -> Number | None:
        s = self.sides(values)
        return None if s is None else s[0] - s[1]


@dataclass(frozen=True)
class Repair:
    """Cell values that, if they were the truth, make every identity hold."""

    changes: dict[str, Number]  # cell → corrected value
    culprit: str
    kind: str  # "single" | "moved" | "row_shift"
    explanation_zh: str
    explanation_en: str


def failing(identities: Sequence[Identity], values: Mapping[str, CellValue]) -> list[Identity]:
    out = []
    for ident in identities:
        r = ident.residual(values)
        if r is not None and abs(r) > EPS:
            out.append(ident)
    return out


def _holds_everywhere(
    identities: Sequence[Identity],
    values: Mapping[str, CellValue],
    changes: Mapping[str, Number],
    broken: Sequence[Identity],
) -> bool:
    """Do all identities hold once `changes` are applied? Only touched or broken ones can fail."""
    patched = {**values, **changes}
    for ident in identities:
        if ident not in broken and not any(k in changes for k in ident.cells):
            continue
        r = ident.residual(patched)
        if r is not None and abs(r) > EPS:
            return False
    return True


def _looks_split(found: Number, expected: Number) -> bool:
    """'2' where the truth is '20' (or '0' of '20'): digits lost when a number broke in two."""
    f, e = str(int(found)), str(int(expected))
    return found != expected and found >= 0 and expected >= 0 and len(f) < len(e) and (
        e.startswith(f) or e.endswith(f)
    )


def _single_cell_repairs(
    identities: Sequence[Identity],
    values: Mapping[str, CellValue],
    broken: Sequence[Identity],
    grid: Sequence[Sequence[str]],
) -> list[Repair]:
    candidates = set(broken[0].cells)
    for ident in broken[1:]:
        candidates &= set(ident.cells)
    repairs = []
    for cell in sorted(candidates):
        current = values.get(cell)
        first = broken[0]
        residual = first.residual(values)
        if current is None or residual is None:
            continue
        corrected = current - residual if cell in first.lhs else current + residual
        if corrected < 0 or not _holds_everywhere(identities, values, {cell: corrected}, broken):
            continue
        if _looks_split(current, corrected):
            zh = f"疑似数字被拆分或截断：{cell} 现为{_n(current)}，按勾稽关系应为{_n(corrected)}"
            en = f"number probably split or truncated: {cell} reads {_n(current)}, the sums require {_n(corrected)}"
        else:
            zh = f"疑似错误单元格 {cell}：现为{_n(current)}，按勾稽关系应为{_n(corrected)}"
            en = f"likely wrong cell {cell}: reads {_n(current)}, the sums require {_n(corrected)}"
        repairs.append(Repair({cell: corrected}, cell, "single", zh, en))
    return repairs


def _move_repairs(
    identities: Sequence[Identity],
    values: Mapping[str, CellValue],
    broken: Sequence[Identity],
    grid: Sequence[Sequence[str]],
) -> list[Repair]:
    """One value sitting one column left/right of where it belongs."""
    repairs = []
    for row in grid:
        for i in range(len(row) - 1):
            for src, dst in ((row[i], row[i + 1]), (row[i + 1], row[i])):
                v_src, v_dst = values.get(src), values.get(dst)
                if not v_src or v_dst is None:
                    continue
                changes = {src: 0, dst: v_dst + v_src}
                if _holds_everywhere(identities, values, changes, broken):
                    zh = f"疑似数值错列：{src} 的{_n(v_src)}应属于相邻的 {dst}"
                    en = f"value probably shifted one column: {_n(v_src)} in {src} belongs to the neighbouring {dst}"
                    repairs.append(Repair(changes, src, "moved", zh, en))
    return repairs


def _row_shift_repairs(
    identities: Sequence[Identity],
    values: Mapping[str, CellValue],
    broken: Sequence[Identity],
    grid: Sequence[Sequence[str]],
) -> list[Repair]:
    """A whole row read one column to the left or right; the value pushed off the end is
    recovered from the row sum (the grid's last column is the row total)."""
    repairs = []
    for row in grid:
        row_values: list[Number] = [v for v in (values.get(k) for k in row) if v is not None]
        if len(row_values) != len(row):
            continue
        # Read one column too far right: move everything left; the lost total is the sum of the parts.
        moved_left = [*row_values[1:], sum(row_values[1:])]
        # Read one column too far left: move everything right; the lost first part is total − others.
        moved_right = [0] + row_values[:-1]
        moved_right[0] = moved_right[-1] - sum(moved_right[1:-1])
        for shifted, label_zh, label_en in ((moved_left, "右", "right"), (moved_right, "左", "left")):
            if shifted[0] < 0:
                continue
            changes: dict[str, Number] = {k: v for k, v in zip(row, shifted, strict=True) if v != values.get(k)}
            if len(changes) > 1 and _holds_everywhere(identities, values, changes, broken):
                zh = f"疑似整行错位：{row[0].rsplit('__', 1)[0]} 行的数值整体向{label_zh}偏移了一列"
                en = f"whole row {row[0].rsplit('__', 1)[0]} appears shifted one column to the {label_en}"
                repairs.append(Repair(changes, row[0], "row_shift", zh, en))
    return repairs


def pin_culprit(
    identities: Sequence[Identity],
    values: Mapping[str, CellValue],
    grid: Sequence[Sequence[str]] = (),
) -> Repair | None:
    """The unique simple repair that makes every identity hold, if there is exactly one."""
    broken = failing(identities, values)
    if not broken:
        return None
    for finder in (_single_cell_repairs, _move_repairs, _row_shift_repairs):
        found = finder(identities, values, broken, grid)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return None  # the arithmetic cannot tell which cell; say nothing
    return None


def _n(v: Number) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
