"""Fixtures for validator tests: truth files as ParsedReports, and consistent random reports."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from shared.report import (
    T2_KEYS_V2019,
    T2_KEYS_V2021,
    T3_COLUMNS,
    T3_RESULT_ROWS_OTHER,
    T3_ROWS_V2019,
    T3_ROWS_V2021,
    T4_GROUPS,
    CellDetail,
    ParsedReport,
    ReportFormat,
    t3_key,
)
from tests.reference import SHARED_DIR

REPO = Path(__file__).resolve().parents[2]
SHARED = SHARED_DIR
REAL = SHARED / "corpus" / "real"
HEADINGS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6"}


def split_sections(text: str) -> dict[str, str]:
    """A test-only section splitter: lines starting 一、…六、 open a section; before them is "0"."""
    sections: dict[str, list[str]] = {"0": []}
    current = "0"
    for line in text.splitlines():
        m = re.match(r"\s*(?:#+\s*)?([一二三四五六])、", line)
        if m and HEADINGS[m.group(1)] not in sections:
            current = HEADINGS[m.group(1)]
            sections[current] = []
            continue
        sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def load_truth(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REAL / f"{name}.truth.json").read_text(encoding="utf-8"))
    return data


def truth_report(name: str) -> ParsedReport:
    truth = load_truth(name)
    details = {}
    for blank in truth.get("blank_cells", []):
        key, marker = (blank, "blank") if isinstance(blank, str) else (blank["key"], blank.get("marker", "blank"))
        details[key] = CellDetail(raw="", marker=marker)
    report = ParsedReport(
        agency=truth["agency"],
        year=truth["year"],
        report_format=truth["report_format"],
        report_kind=truth["report_kind"],
        cells=dict(truth["cells"]),
        cell_details=details,
    )
    source = (REAL / truth["file"]).resolve()
    if source.suffix in (".txt", ".md"):
        text = source.read_text(encoding="utf-8")
        report.sections = split_sections(text)
        report.title = next(line.strip() for line in text.splitlines() if line.strip() and line.strip() != "正文")
    return report


# --- consistent random reports ----------------------------------------------------------


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def consistent_report(seed: int, layout: str = "v2021") -> ParsedReport:
    """A random report whose every §6 identity holds. layout: v2021 | v2019 | hybrid."""
    rng = random.Random(seed)
    fmt: ReportFormat = "v2019" if layout == "v2019" else "v2021"
    rows = T3_ROWS_V2021 if layout == "v2021" else T3_ROWS_V2019
    result_rows = rows[2:-2]
    cells: dict[str, int | float | None] = {}
    for c in T3_COLUMNS[:-1]:
        busy = rng.random() < 0.6
        new = rng.randint(0, 400) if busy else 0
        carried_in = rng.randint(0, 40) if busy else 0
        carried_out = rng.randint(0, min(new + carried_in, 60))
        processed = new + carried_in - carried_out
        # Results cluster in few rows, as in real tables.
        weights = [rng.random() ** 4 for _ in result_rows]
        counts = [0] * len(result_rows)
        for _ in range(processed):
            counts[rng.choices(range(len(result_rows)), weights)[0]] += 1
        values = {"new_received": new, "carried_over": carried_in, "total_processed": processed,
                  "carried_forward": carried_out, **dict(zip(result_rows, counts, strict=True))}
        for r, v in values.items():
            cells[t3_key(r, c)] = v
    for r in rows:
        cells[t3_key(r, "total")] = sum(int(cells[t3_key(r, c)] or 0) for c in T3_COLUMNS[:-1])
    if layout == "hybrid":
        for r in T3_RESULT_ROWS_OTHER:
            for c in T3_COLUMNS:
                cells[t3_key(r, c)] = None
    for g in T4_GROUPS:
        parts = [rng.randint(0, 5) for _ in range(4)]
        for o, v in zip(("upheld", "corrected", "other", "pending"), parts, strict=True):
            cells[f"t4_{g}_{o}"] = v
        cells[f"t4_{g}_total"] = sum(parts)
    if fmt == "v2021":
        for x in ("rules", "normative"):
            issued = rng.randint(0, 10) if x == "normative" else 0  # a district bureau makes no 规章
            cells[f"t2_{x}_issued"] = issued
            cells[f"t2_{x}_repealed"] = rng.randint(0, 5) if x == "normative" else 0
            cells[f"t2_{x}_in_force"] = issued + (rng.randint(0, 50) if x == "normative" else 0)
        for k in T2_KEYS_V2021[6:9]:
            cells[k] = rng.randint(0, 500)
        cells["t2_fee_amount_wan"] = round(rng.uniform(0, 100), 2)
    else:
        for k in T2_KEYS_V2019:
            cells[k] = rng.randint(0, 30)
    year = 2023 if fmt == "v2021" else 2020
    return ParsedReport(
        agency="某市某区某局", year=year, report_format=fmt, report_kind="agency",
        title=f"某市某区某局{year}年政府信息公开工作年度报告",
        cells=cells,
        sections={
            "1": "本年度，我局认真贯彻落实政府信息公开条例，持续推进政务公开标准化规范化建设，加强政策解读，回应社会关切。"
            f"全年共受理政府信息公开申请{cells[t3_key('new_received', 'total')]}件。",
            "2": "", "3": "", "4": "",
            "5": "存在的主要问题是公开内容的深度和广度仍有不足，政策解读形式不够丰富。下一步将加强培训，完善制度，提高公开质量和实效。",
            "6": "无。",
        },
    )
