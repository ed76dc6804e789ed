"""Mapping rows to the spec's cell keys: tables 二, 三 and 四 (spec §3.2–3.6, §8).

Input is the row stream of `rows.py` (grid rows of real tables and text rows of dumps,
mixed, in reading order). Tables are located by their anchors, rows by their labels, and
numbers are aligned to columns by the header and the row arithmetic; a row whose numbers
cannot be aligned stays null with a parse finding, never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.parser.confidence import confirm_by_arithmetic
from services.parser.document import Position
from services.parser.labels import (
    T3_GROUP_OF_ROW,
    LabelMatch,
    is_altered_t2_header,
    match_t2_row,
    match_t3_column,
    match_t3_group,
    match_t3_row,
    t2_header_format,
    t2_title_piece_format,
)
from services.parser.normalize import label_key
from services.parser.rows import Row, Token
from services.parser.sections import section_of_heading
from shared.report import (
    T2_KEYS_V2019_HUBEI,
    T3_COLUMNS,
    T3_ROWS_V2021,
    T4_KEYS,
    CellDetail,
    CellValue,
    ParseFinding,
    ReportFormat,
    keys_for_format,
    t3_key,
)

_T2_BLOCK = re.compile(r"第二十条(?:第)?\((一|五|六|八|九)\)项")
_RESULT_ROWS = T3_ROWS_V2021  # template order; `other_all` is handled through its group label

# Columns of each table-二 row, per format (§3.2, §3.6).
_T2_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "v2021": {
        "rules": ("t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force"),
        "normative": ("t2_normative_issued", "t2_normative_repealed", "t2_normative_in_force"),
        "license": ("t2_license_decisions",),
        "penalty": ("t2_penalty_decisions",),
        "coercion": ("t2_coercion_decisions",),
        "fee": ("t2_fee_amount_wan",),
    },
    "v2019": {
        **{
            x: tuple(f"t2v19_{x}_{c}" for c in ("new_made", "new_published", "total_published"))
            for x in ("rules", "normative", "other_docs")
        },
        **{
            x: tuple(f"t2v19_{x}_{c}" for c in ("prev_items", "delta", "decisions"))
            for x in ("license", "other_service", "penalty", "coercion")
        },
        "fee": ("t2v19_fee_prev_items", "t2v19_fee_delta"),
        "procurement": ("t2v19_procurement_items", "t2v19_procurement_amount"),
    },
}
_TEXT_CONFIDENCE = 0.95  # a text dump loses cell boundaries; a grid does not
# A label recognised from a piece of the template text (split by extraction) names its row
# reliably once template order agrees; an altered label may be another row.
_QUALITY_CONFIDENCE = {"exact": 1.0, "fragment": 0.95, "altered": 0.85}
# ... unless the row sits at its template position: the next row the template expects, the
# only row the label can mean there. A typo'd "2.其他法律行政止公开" right after 1.属于国家秘密
# is row 2 of （三）, whatever its characters.
_IN_PLACE_CONFIDENCE = {"exact": 1.0, "fragment": 1.0, "altered": 0.97}
# A label that can mean two open rows, away from its template position: either may be right.
_TWO_ROWS_FACTOR = 0.85
# A cell printed outside its row: the note or a sibling's note names its column, or nothing does.
_PLACED_BY_NOTE = 0.97
_PLACED_BY_GUESS = 0.5
# Digits spaced apart inside one grid cell ("2 0" in a distributed-alignment cell): the cell
# boundary is known, so they are one number; in a text dump they may be two cells run together.
_SPACED_IN_GRID = 0.95


@dataclass
class TableReading:
    """Everything the tables say, before it is folded into a ParsedReport."""

    report_format: ReportFormat = "pre2019"
    hybrid: bool = False
    cells: dict[str, CellValue] = field(default_factory=dict)
    details: dict[str, CellDetail] = field(default_factory=dict)
    findings: list[ParseFinding] = field(default_factory=list)
    tables_found: set[int] = field(default_factory=set)


class _Findings:
    """Collects findings; a rule without a placeholder yields one finding per report (§6)."""

    def __init__(self) -> None:
        self._by_rule: dict[str, ParseFinding] = {}

    def add(self, rule: str, message: str, cells: list[str] | None = None) -> None:
        finding = self._by_rule.get(rule)
        if finding is None:
            self._by_rule[rule] = ParseFinding(rule, message, list(cells or []))
            return
        if message not in finding.message:
            finding.message += "; " + message
        finding.cells.extend(c for c in cells or [] if c not in finding.cells)

    def all(self) -> list[ParseFinding]:
        return list(self._by_rule.values())


# --- locating the tables --------------------------------------------------------


def split_regions(rows: list[Row]) -> dict[int, list[Row]]:
    """Rows of each table (2, 3, 4), by anchors and section headings, in reading order."""
    regions: dict[int, list[Row]] = {2: [], 3: [], 4: []}
    current: int | None = None
    for row in rows:
        key = row.key
        heading = section_of_heading(key) if len(row.tokens) <= 2 else None
        if heading in ("2", "3", "4"):
            current = int(heading)
        elif heading in ("1", "5", "6"):
            current = None
        elif _T2_BLOCK.search(key) or key.startswith("信息内容"):
            current = 2
        elif "勾稽关系" in key or "申请人情况" in key:
            current = 3
        elif current == 3 and key.startswith("行政复议") and len(key) < 60:
            current = 4
        if current is not None:
            regions[current].append(row)
    return regions


# --- aligning values to columns ------------------------------------------------


def _take(values: list[Token], expected: int, is_grid: bool) -> list[Token] | None:
    """The `expected` cells of a row, or None when the row cannot be aligned."""
    filled = [t for t in values if not t.is_blank]
    if is_grid:
        trimmed = list(values)
        while len(trimmed) > expected and trimmed[-1].is_blank:
            trimmed.pop()
        return trimmed if len(trimmed) == expected else None
    if len(values) == expected:
        return values
    if len(filled) == expected:
        return filled
    trimmed = list(values)
    while len(trimmed) > expected and trimmed[-1].is_blank:
        trimmed.pop()
    while len(trimmed) > expected and trimmed[0].is_blank:
        trimmed.pop(0)
    return trimmed if len(trimmed) == expected else None


def _num(token: Token) -> float:
    value = token.reading.value
    return float(value) if value is not None else float("nan")


def _sums(reading: list[Token]) -> bool:
    return abs(sum(_num(t) for t in reading[:6]) - _num(reading[6])) < 1e-9


def eight_readings(values: list[Token]) -> dict[str, list[Token]]:
    """The three ways eight numbers can fill seven columns."""
    return {
        EXTRA_LEADING: values[1:],
        "extra trailing cell": values[:7],
        "法人或其他组织 subtotal column": [values[0], *values[2:]],
    }


def _choose_eight(values: list[Token]) -> tuple[list[Token], str, str | None]:
    """Eight numbers for seven columns: decide by the row arithmetic, else by the header.

    Readings: a stray leading cell (left by a rowspan), a stray trailing cell, or a printed
    法人或其他组织 subtotal after 自然人. Returns the reading and, when the arithmetic could
    not single it out, a description of the alternatives.
    """
    readings = eight_readings(values)
    valid = [name for name, r in readings.items() if _sums(r)]
    subtotal_ok = abs(_num(values[1]) - sum(_num(t) for t in values[2:7])) < 1e-9
    if "法人或其他组织 subtotal column" in valid and not subtotal_ok:
        valid.remove("法人或其他组织 subtotal column")
    if len(valid) == 1:
        return readings[valid[0]], valid[0], None
    # The header ends with 总计, so the last number is read as 总计 unless arithmetic says otherwise.
    chosen = EXTRA_LEADING
    others = [n for n in (valid or readings) if n != chosen]
    return readings[chosen], chosen, f"read as '{chosen}'; arithmetic also allows: {', '.join(others)}"


EXTRA_LEADING = "extra leading cell"
UNDECIDED_CONFIDENCE = 0.6  # an 8-number row no arithmetic and no decided row can settle
_CONFIRMED_BY_TABLE = 0.9  # an undecided row read the way every decided row of its table was


# --- table 二 -------------------------------------------------------------------


@dataclass
class _T2Row:
    row: str
    match: LabelMatch
    values: list[Token]
    is_grid: bool


def _read_t2(rows: list[Row], findings: _Findings) -> tuple[str | None, list[_T2Row], list[Token]]:
    votes: dict[str, int] = {}
    piece_votes: dict[str, int] = {}  # from pieces of wrapped titles, when no whole title is read
    found: list[_T2Row] = []
    floating: list[Token] = []  # numbers pulled out of their row by extraction (cross-line cells)
    for row in rows:
        labels = row.labels
        header_votes = [t2_header_format(t.text) for t in labels]
        if any(header_votes):
            for vote in header_votes:
                if vote:
                    votes[vote] = votes.get(vote, 0) + 1
            altered = [t.text for t in labels if is_altered_t2_header(t.text)]
            if altered:
                findings.add("TBL-HEADER-ALTERED", f"table 二 header altered: {'、'.join(altered)}")
            continue
        match = next((m for t in reversed(labels) if (m := match_t2_row(t.text))), None)
        if match is not None:
            found.append(_T2Row(match.key, match, row.values_after_labels(), row.is_grid))
            continue
        if labels and len(labels) == len([t for t in row.tokens if t.text.strip()]):
            # A header line of titles wrapped over lines ("本年制发" / "件数"): its pieces vote.
            for vote in filter(None, (t2_title_piece_format(t.text) for t in labels)):
                piece_votes[vote] = piece_votes.get(vote, 0) + 1
        if not labels and not row.is_grid:
            floating.extend(t for t in row.tokens if t.is_value and not t.is_blank)
        elif floating and len(labels) == 1 and label_key(labels[0].text).startswith("("):
            # "22" then "（其中修订16件）" on the next line: one cell broken over two lines.
            last = floating[-1]
            floating[-1] = Token(last.text + labels[0].text, last.source)
    votes = votes or piece_votes or _format_by_row_shapes(found)
    fmt = max(votes, key=lambda f: votes[f]) if votes else None
    return fmt, found, floating


def _format_by_row_shapes(found: list[_T2Row]) -> dict[str, int]:
    """With no column title read at all: rows only one format has, or the cells of a
    licence row (one in v2021, three in v2019), tell the format."""
    votes: dict[str, int] = {}
    for entry in found:
        filled = len([t for t in entry.values if t.text.strip()])
        if entry.row in ("other_service", "procurement", "other_docs"):
            votes["v2019"] = votes.get("v2019", 0) + 1
        elif entry.row in ("license", "penalty", "coercion") and filled in (1, 3):
            fmt = "v2021" if filled == 1 else "v2019"
            votes[fmt] = votes.get(fmt, 0) + 1
    return votes


def _place_floating(
    row: _T2Row, expected: int, floating: list[Token]
) -> tuple[list[Token], int, bool] | None:
    """Fill one missing cell of a short row with a floating annotated number.

    Which column lost its cell cannot be seen; the note decides when it names one
    (失效/废止 → repealed, 制发/新制定 → issued, 有效 → in force), else the middle column
    (the reading the corpus supports). Returns the values, the index of the placed cell and
    whether the note named its column.
    """
    present = [t for t in row.values if not t.is_blank]
    if len(present) != expected - 1 or not floating or expected != 3:
        return None
    token = floating.pop(0)
    index = _column_named_by_note(token.reading.note or "")
    values = list(present)
    values.insert(1 if index is None else index, token)
    return values, 1 if index is None else index, index is not None


def _column_named_by_note(note: str) -> int | None:
    if "制发" in note or "新制定" in note:
        return 0
    if "失效" in note or "废止" in note:
        return 1
    if "有效" in note:
        return 2
    return None


def _in_template_order(found: list[_T2Row]) -> set[str]:
    """Table-二 rows that sit at their template position: each row's key appears once and
    the rows read follow the template's order."""
    order = {row: i for i, row in enumerate(("rules", "normative", "other_docs", "license", "other_service",
                                              "penalty", "coercion", "fee", "procurement"))}
    keys = [entry.row for entry in found if entry.row in order]
    if len(set(keys)) != len(keys) or keys != sorted(keys, key=order.__getitem__):
        return set()
    return set(keys)


def _map_t2(
    fmt: ReportFormat, found: list[_T2Row], floating: list[Token], out: TableReading, findings: _Findings
) -> None:
    columns = _T2_COLUMNS.get(fmt, {})
    in_place = _in_template_order(found)
    placed_columns: list[tuple[int, bool]] = []  # (column, named by its note) of floating cells
    placements: list[tuple[tuple[str, ...], list[Token], int, bool, float]] = []
    for entry in found:
        keys = columns.get(entry.row)
        if keys is None:
            continue
        quality = entry.match.quality
        if entry.row == "normative" and quality == "fragment":
            # "规范性文件" is the v2019 wording: an alteration only inside a v2021 table.
            quality = "altered" if fmt == "v2021" else "exact"
        if quality == "altered":
            findings.add("TBL-HEADER-ALTERED", f"table 二 row label altered ({entry.row})", list(keys))
        values = _take(entry.values, len(keys), entry.is_grid)
        label_confidence = (_IN_PLACE_CONFIDENCE if entry.row in in_place else _QUALITY_CONFIDENCE)[quality]
        base = label_confidence * (1.0 if entry.is_grid else _TEXT_CONFIDENCE)
        if values is None:
            placement = _place_floating(entry, len(keys), floating)
            if placement is not None:
                placed_values, placed, named = placement
                placements.append((keys, placed_values, placed, named, base))
                placed_columns.append((placed, named))
                continue
            findings.add(
                "PARSE-ROW-UNALIGNED", f"table 二 row {entry.row}: cells could not be aligned", list(keys)
            )
            continue
        for key, token in zip(keys, values, strict=True):
            _store(out, findings, key, token, base, allow_negative=key.endswith("_delta"))
    # Cells pulled out of their rows by one extraction quirk left the same column: a cell whose
    # note says nothing sits where its siblings' notes put theirs.
    named_columns = {column for column, named in placed_columns if named}
    for keys, values, placed, named, base in placements:
        sure = named or named_columns == {placed}
        for i, (key, token) in enumerate(zip(keys, values, strict=True)):
            factor = 1.0 if i != placed else _PLACED_BY_NOTE if sure else _PLACED_BY_GUESS
            _store(out, findings, key, token, base * factor, allow_negative=key.endswith("_delta"))
        findings.add(
            "PARSE-CELL-PLACEMENT",
            f"{keys[placed]} was printed outside its row; its column is inferred from "
            f"{'the note' if named else 'the notes of its siblings' if sure else 'the template (middle column)'}",
            [keys[placed]],
        )


# --- table 三 -------------------------------------------------------------------


@dataclass
class _T3State:
    cursor: int = 0
    pending: str | None = None
    assigned: dict[str, tuple[list[Token], float, Row]] = field(default_factory=dict)
    group_values: dict[str, tuple[list[Token], Row]] = field(default_factory=dict)
    # Grid column of each data column, per Table block: a table continued on the next PDF page
    # is another block whose columns need not line up with the first.
    columns: dict[int, dict[str, int]] = field(default_factory=dict)
    header_has_subtotal: bool = False
    # Eight-number rows: the readings the arithmetic decided, and the rows it could not
    # decide (all zeros, say). One table has one layout, so decided rows speak for the rest.
    eight_decided: list[str] = field(default_factory=list)
    eight_undecided: dict[str, list[Token]] = field(default_factory=dict)  # row → its eight cells


def _row_candidates(row: Row) -> tuple[list[LabelMatch], str | None]:
    """Row keys this row's labels can mean (item labels first) and the group it names."""
    group: str | None = None
    for token in reversed(row.labels):
        matches = match_t3_row(token.text)
        if matches:
            return matches, group
        group = group or match_t3_group(token.text)
    joined = "".join(t.text for t in row.labels)
    if len(row.labels) > 1:
        matches = match_t3_row(joined)
        if matches:
            return matches, group
    return [], group or match_t3_group(joined)


def _is_header_row(row: Row) -> bool:
    return sum(1 for t in row.labels if match_t3_column(t.text)) >= 2 or "申请人情况" in row.key


def _pick(matches: list[LabelMatch], state: _T3State, group: str | None) -> LabelMatch | None:
    chosen = _open_candidates(matches, state, group)
    return chosen[0] if chosen else None


def _open_candidates(matches: list[LabelMatch], state: _T3State, group: str | None) -> list[LabelMatch]:
    order = {r: i for i, r in enumerate(_RESULT_ROWS)}
    open_matches = [m for m in matches if m.key not in state.assigned]
    if group:
        in_group = [m for m in open_matches if T3_GROUP_OF_ROW.get(m.key) == group]
        open_matches = in_group or open_matches
    ahead = [m for m in open_matches if order[m.key] >= state.cursor]
    return ahead or open_matches


def _label_confidence(chosen: LabelMatch | None, matches: list[LabelMatch], state: _T3State, group: str | None) -> float:
    """How sure the row's label makes us of its row: template position first, then the label."""
    if chosen is None:
        return _QUALITY_CONFIDENCE["fragment"]  # a row known only by its position
    if chosen.key == _next_open(state):
        return _IN_PLACE_CONFIDENCE[chosen.quality]
    ambiguous = len({m.key for m in _open_candidates(matches, state, group)}) > 1
    return _QUALITY_CONFIDENCE[chosen.quality] * (_TWO_ROWS_FACTOR if ambiguous else 1.0)


def _t3_values(
    row: Row, state: _T3State, cells: list[str], findings: _Findings
) -> tuple[list[Token], float] | None:
    by_header = _values_by_header(row, state)
    if by_header is not None:
        sequence = _take(row.values_after_labels(), 7, True)
        if sequence is None or [id(t) for t in sequence] == [id(t) for t in by_header]:
            return by_header, 1.0
        # Header positions and the row's own cells disagree: let the arithmetic choose.
        if _sums(sequence) and not _sums(by_header):
            return sequence, 0.9
        if _sums(by_header) and not _sums(sequence):
            return by_header, 0.9
        findings.add("PARSE-COLUMNS-AMBIGUOUS", "header positions and row cells disagree", cells)
        return by_header, 0.6
    values = row.values_after_labels()
    if row.is_grid:
        taken = _take(values, 7, True)
        if taken is not None:
            return taken, 1.0
    else:
        # Empty fields at either end are layout debris (label columns, trailing tabs).
        while len(values) > 8 and values[0].is_blank:
            values = values[1:]
        while len(values) > 8 and values[-1].is_blank:
            values = values[:-1]
        if len(values) == 7:
            return values, _TEXT_CONFIDENCE
        filled = [t for t in values if not t.is_blank]
        if len(values) != 8 and len(filled) == 7:
            return filled, _TEXT_CONFIDENCE * 0.95
    if len(values) == 8:
        if state.header_has_subtotal:
            return [values[0], *values[2:]], 0.95
        chosen, reading, doubt = _choose_eight(values)
        if doubt is None:
            findings.add(
                "PARSE-EXTRA-CELL", "row with 8 numbers for 7 columns; arithmetic decided the reading", cells
            )
            state.eight_decided.append(reading)
            # Only one reading makes the row add up: as sure as any cell of a text dump.
            return chosen, _TEXT_CONFIDENCE
        findings.add("PARSE-COLUMNS-AMBIGUOUS", f"row with 8 numbers for 7 columns, {doubt}", cells)
        state.eight_undecided[cells[0].rsplit("__", 1)[0].removeprefix("t3_")] = values
        return chosen, UNDECIDED_CONFIDENCE
    return None


def _values_by_header(row: Row, state: _T3State) -> list[Token] | None:
    """The row's cells under the header columns of its own table, when every one is readable."""
    columns = state.columns.get(row.table_index) if row.is_grid and row.table_index is not None else None
    if columns is None or len(columns) != 7:
        return None
    tokens = []
    for column in T3_COLUMNS:
        token = next((t for t in row.tokens if t.covers(columns[column])), None)
        if token is None or not token.is_value:
            return None
        tokens.append(token)
    return tokens


def _read_t3(rows: list[Row], findings: _Findings) -> _T3State:
    state = _T3State()
    for row in rows:
        if not state.assigned and _is_header_row(row):
            if any(label_key(t.text) in ("小计", "法人或其他组织小计") for t in row.labels):
                state.header_has_subtotal = True
            table_columns = (
                state.columns.setdefault(row.table_index, {}) if row.table_index is not None else {}
            )
            for token in row.labels:
                column = match_t3_column(token.text)
                if column and token.first_col is not None and column not in table_columns:
                    table_columns[column] = token.first_col
            continue
        filled = [t for t in row.values_after_labels() if not t.is_blank]
        matches, group = _row_candidates(row)
        chosen = _pick(matches, state, group) if matches else None
        kept_blank = _blank_cells_kept(row, chosen, group)
        if not filled and not kept_blank and not (chosen and row.is_grid and row.values_after_labels()):
            if chosen and chosen.quality != "fragment" and not _is_header_row(row):
                state.pending = chosen.key
            continue
        if chosen is None and group is not None:
            # Kept aligned: （六）其他处理 may be the single v2019/hybrid data row.
            group_cells = [t3_key("other_all", c) for c in T3_COLUMNS]
            aligned_group = _t3_values(row, state, group_cells, findings) if group == "other" else None
            state.group_values[group] = (
                aligned_group[0] if aligned_group else row.values_after_labels(),
                row,
            )
            continue
        if chosen is None and row.labels and all(len(label_key(t.text)) >= 6 for t in row.labels):
            # A labelled row we cannot name: do not guess which row it is.
            findings.add(
                "PARSE-ROW-UNKNOWN", f"table 三 row not recognised: {row.labels[-1].text!r} ({row.source})"
            )
            continue
        row_key = chosen.key if chosen else state.pending or _next_open(state)
        if row_key is None:
            continue
        cells = [t3_key(row_key, c) for c in T3_COLUMNS]
        aligned = _t3_values(row, state, cells, findings)
        if aligned is None:
            if len(filled) >= 3:
                findings.add(
                    "PARSE-ROW-UNALIGNED",
                    f"table 三 row {row_key}: {len(filled)} numbers for 7 columns",
                    cells,
                )
            continue
        values, confidence = aligned
        if chosen is not None and chosen.quality == "altered":
            findings.add("TBL-HEADER-ALTERED", f"table 三 row label altered: {row.labels[-1].text!r}", cells)
        label_confidence = _label_confidence(chosen, matches, state, group)
        state.assigned[row_key] = (values, confidence * label_confidence, row)
        state.cursor = _RESULT_ROWS.index(row_key) + 1
        state.pending = None
    _confirm_undecided_rows(state, findings)
    return state


def _blank_cells_kept(row: Row, chosen: LabelMatch | None, group: str | None) -> bool:
    """A text row of a whole label (or the single （六）其他处理 row) whose cells are all left
    blank but still separated (tab fields): a row of zeros by the template's convention, not
    a label wrapped onto its own line (that has no cells at all). The table's column sums
    then confirm the zeros."""
    if row.is_grid:  # a grid row's cells are certain; only the single （六） row needs saying
        return chosen is None and group == "other" and bool(row.values_after_labels())
    whole = chosen.quality != "fragment" if chosen is not None else group == "other"
    return whole and len(row.values_after_labels()) in (7, 8)


def _confirm_undecided_rows(state: _T3State, findings: _Findings) -> None:
    """Rows the arithmetic could not decide take the reading every decided row took."""
    if not state.eight_undecided or not state.eight_decided:
        return
    readings = set(state.eight_decided)
    if len(readings) != 1:
        return  # the decided rows disagree: leave the doubt
    (reading,) = readings
    confirmed = [r for r in state.eight_undecided if r in state.assigned]
    for row_key in confirmed:
        _, confidence, row = state.assigned[row_key]
        values = eight_readings(state.eight_undecided[row_key])[reading]
        state.assigned[row_key] = (values, confidence / UNDECIDED_CONFIDENCE * _CONFIRMED_BY_TABLE, row)
    findings.add(
        "PARSE-EXTRA-CELL",
        f"{len(confirmed)} rows the arithmetic could not decide read like the table's "
        f"{len(state.eight_decided)} decided rows ('{reading}')",
        [f"t3_{r}__total" for r in confirmed],
    )


def _next_open(state: _T3State) -> str | None:
    for row in _RESULT_ROWS[state.cursor :]:
        if row not in state.assigned:
            return row
    return None


def _map_t3(state: _T3State, fmt: ReportFormat, out: TableReading, findings: _Findings) -> ReportFormat:
    sub_rows = ("other_no_correction", "other_no_fee", "other_other")
    has_sub_rows = any(r in state.assigned for r in sub_rows)
    other_group = state.group_values.pop("other", None)
    if fmt == "pre2019" and state.assigned:
        fmt = "v2021" if has_sub_rows or other_group is None else "v2019"
        findings.add(
            "PARSE-FORMAT-INFERRED", f"no table 二 header found; format {fmt} inferred from table 三"
        )
    if other_group is not None and not has_sub_rows:
        values = other_group[0]
        if len(values) == 7:
            state.assigned["other_all"] = (
                values,
                1.0 if other_group[1].is_grid else _TEXT_CONFIDENCE,
                other_group[1],
            )
            if fmt == "v2021":
                out.hybrid = True
                findings.add(
                    "TBL-HEADER-ALTERED",
                    "table 三 prints （六）其他处理 as one row (the 2019 layout) in a 2021-format report",
                    [t3_key("other_all", c) for c in T3_COLUMNS],
                )
    elif other_group is not None:
        state.group_values["other"] = other_group
    for group, (values, row) in state.group_values.items():
        if any(not t.is_blank for t in values):
            findings.add("T3-NO-GROUP-SUBTOTAL", f"numbers in the group label row {group} ({row.source})")
    for row_key, (values, confidence, row) in state.assigned.items():
        if fmt == "v2019" and row_key in sub_rows:
            continue
        for column, token in zip(T3_COLUMNS, values, strict=True):
            _store(out, findings, t3_key(row_key, column), token, confidence * (1.0 if row.is_grid else 1.0))
    return fmt


# --- table 四 -------------------------------------------------------------------


def _map_t4(rows: list[Row], out: TableReading, findings: _Findings) -> None:
    # Rows with a number come first: a row of blank cells is read as zeros only when the
    # table has no other (a spacing line of empty fields must not stand in for the data).
    collected = _t4_cells(rows, blank_rows=False) or _t4_cells(rows, blank_rows=True)
    if not collected:
        return
    if len(collected) != 15:
        findings.add(
            "PARSE-ROW-UNALIGNED", f"table 四: {len(collected)} cells found, 15 expected", list(T4_KEYS)
        )
        return
    for key, (token, is_grid) in zip(T4_KEYS, collected, strict=True):
        _store(out, findings, key, token, 1.0 if is_grid else _TEXT_CONFIDENCE)


def _t4_cells(rows: list[Row], *, blank_rows: bool) -> list[tuple[Token, bool]]:
    collected: list[tuple[Token, bool]] = []
    for row in rows:
        if row.labels or len(collected) >= 15:
            continue
        values = [t for t in row.tokens if t.is_value]
        filled = [t for t in values if not t.is_blank]
        if not filled and not blank_rows:
            continue
        if row.is_grid or len(values) in (5, 15):
            chosen = values if len(values) in (5, 15) else filled
        else:
            chosen = filled
        if len(chosen) in (5, 15) or (chosen and len(collected) + len(chosen) == 15):
            collected.extend((t, row.is_grid) for t in chosen)
    return collected


# --- storing one cell -----------------------------------------------------------


def _store(
    out: TableReading,
    findings: _Findings,
    key: str,
    token: Token,
    confidence: float,
    *,
    allow_negative: bool = False,
) -> None:
    reading = token.reading
    value = reading.value
    note = reading.note
    if reading.problem == "digits separated by spaces" and token.first_col is not None:
        confidence *= _SPACED_IN_GRID
    else:
        confidence *= reading.confidence
    confidence *= token.confidence
    if reading.problem == "number with a note":
        findings.add("NUM-UNPARSEABLE", f"{key}: number with a note {token.text!r} (value {value})", [key])
    elif reading.problem == "digits separated by spaces":
        findings.add("PARSE-SPLIT-NUMBER", f"{key}: {token.text!r} read as {value}", [key])
    elif value is None:
        findings.add("NUM-UNPARSEABLE", f"{key}: no number in {token.text!r}", [key])
    if value is not None and value < 0 and not allow_negative:
        confidence *= 0.8
    out.cells[key] = value
    where = token.position or Position()
    out.details[key] = CellDetail(
        raw=token.text,
        marker=reading.marker,
        source=token.source,
        confidence=round(confidence, 3),
        note=note,
        page=where.page,
        box=list(where.box) if where.box is not None else None,
        line=where.line,
        table=where.table,
        paragraph=where.paragraph,
        row=where.row,
        col=where.col,
    )


# --- entry point ----------------------------------------------------------------


def read_tables(rows: list[Row]) -> TableReading:
    findings = _Findings()
    out = TableReading()
    regions = split_regions(rows)
    fmt, t2_rows, floating = _read_t2(regions[2], findings)
    report_format: ReportFormat = "v2021" if fmt == "v2021" else "v2019" if fmt == "v2019" else "pre2019"
    if report_format != "pre2019":
        _map_t2(report_format, t2_rows, floating, out, findings)
        out.tables_found.add(2)
    state = _read_t3(regions[3], findings)
    report_format = _map_t3(state, report_format, out, findings)
    if state.assigned:
        out.tables_found.add(3)
    _map_t4(regions[4], out, findings)
    if any(k in out.cells for k in T4_KEYS):
        out.tables_found.add(4)
    out.report_format = report_format
    all_keys = keys_for_format(report_format, hybrid=out.hybrid)
    if report_format == "v2019" and any(k in out.cells for k in T2_KEYS_V2019_HUBEI):
        all_keys = (*all_keys, *T2_KEYS_V2019_HUBEI)  # Hubei's extra row, only when printed (§2)
    missing = [k for k in all_keys if k not in out.cells]
    out.cells = {k: out.cells.get(k) for k in all_keys}
    out.details = {k: v for k, v in out.details.items() if k in out.cells}
    undecided = {t3_key(r, c) for r in state.eight_undecided for c in T3_COLUMNS}
    confirm_by_arithmetic(out.cells, out.details, undecided)
    if missing and out.tables_found:
        unprinted = {
            t3_key(r, c) for r in ("other_no_correction", "other_no_fee", "other_other") for c in T3_COLUMNS
        }
        not_read = [k for k in missing if not (out.hybrid and k in unprinted)]
        if not_read:
            findings.add(
                "PARSE-CELL-MISSING", f"{len(not_read)} cells were not found in the document", not_read
            )
    out.findings = findings.all()
    return out
