"""Self-checks of the corpus generator: truths are consistent, renderings really hold them."""

from __future__ import annotations

import io
import json
import random
import re
from typing import Any

import docx
import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook

from shared.report import T3_COLUMNS, T4_KEYS, keys_for_format, t3_key
from tests.corpus import render_docx, render_html, render_txt, render_xlsx
from tests.corpus.generate import (
    FAST_STYLES,
    STYLES_BY_NAME,
    build_corpus,
    iter_fast_reports,
    render_fast,
    truth_for,
)
from tests.corpus.layout import NumberStyle, all_grids, t3_row_labels
from tests.corpus.truth import OTHER_SUB_ROWS, arithmetic_violations, random_truth

VARIANTS = [
    ("v2021", False, "agency"),
    ("v2021", False, "summary"),
    ("v2021", True, "summary"),
    ("v2019", False, "agency"),
]


def _truths(count: int = 60) -> list[dict[str, Any]]:
    return [
        random_truth(random.Random(seed), report_format=f, hybrid=h, kind=k)
        for seed in range(count)
        for f, h, k in VARIANTS
    ]


def test_truths_satisfy_every_arithmetic_rule() -> None:
    for truth in _truths(150):
        assert arithmetic_violations(truth) == [], truth["agency"]


def test_arithmetic_check_catches_a_broken_cell() -> None:
    truth = random_truth(random.Random(3))
    truth["cells"][t3_key("granted", "natural")] += 1
    problems = arithmetic_violations(truth)
    assert any("T3-ROWSUM-granted" in p for p in problems)
    assert any("T3-TOTALPROC-natural" in p for p in problems)


def test_truth_keys_nulls_and_years_follow_the_format() -> None:
    for truth in _truths(20):
        hybrid = truth["hybrid"]
        assert list(truth["cells"]) == list(keys_for_format(truth["report_format"], hybrid=hybrid))
        nulls = [k for k, v in truth["cells"].items() if v is None]
        if hybrid:
            assert sorted(nulls) == sorted(t3_key(r, c) for r in OTHER_SUB_ROWS for c in T3_COLUMNS)
        else:
            assert nulls == []
        assert truth["year"] in ((2019, 2020) if truth["report_format"] == "v2019" else range(2021, 2026))
        assert all(truth["cells"][k] == 0 for k in truth["blank_cells"])


def test_summary_bodies_are_governments_and_agencies_are_not() -> None:
    for truth in _truths(30):
        name = truth["agency"]
        if truth["report_kind"] == "summary":
            assert name.endswith("人民政府") and "镇" not in name
        else:
            assert not name.endswith(("市人民政府", "区人民政府", "县人民政府"))


def test_corpus_has_magnitudes_that_exercise_thousands_and_fee_decimals() -> None:
    truths = _truths(150)
    assert any(v >= 1000 for t in truths for v in t["cells"].values() if isinstance(v, int))
    assert any(isinstance(t["cells"].get("t2_fee_amount_wan"), float) for t in truths)
    assert any(t["blank_cells"] for t in truths)
    zero_share = sum(v == 0 for t in truths for v in t["cells"].values()) / sum(
        len(t["cells"]) for t in truths
    )
    assert zero_share > 0.5


def test_narrative_states_the_table_figures() -> None:
    for truth in _truths(30):
        received = truth["cells"][t3_key("new_received", "total")]
        text = truth["sections"]["1"]
        if received:
            assert re.search(rf"政府信息公开申请{received}件", text)
            assert f"予以公开{truth['cells'][t3_key('granted', 'total')]}件" in text
        else:
            assert "未收到政府信息公开申请" in text
        assert f"{truth['year']}年1月1日" in truth["preamble"]


# --- renderings -------------------------------------------------------------------


def _expected_texts(truth: dict[str, Any]) -> dict[str, str]:
    style = NumberStyle(thousands=True)
    return {k: style.format(truth, k) for k, v in truth["cells"].items() if v is not None}


@pytest.mark.parametrize("variant", VARIANTS)
def test_docx_holds_each_number_at_its_template_position(variant: tuple[str, bool, str]) -> None:
    truth = random_truth(random.Random(41), report_format=variant[0], hybrid=variant[1], kind=variant[2])
    document = docx.Document(io.BytesIO(render_docx.render(truth)[1]))
    expected = _expected_texts(truth)
    table2, table3, table4 = document.tables

    def shown(cell_text: str) -> str:
        return cell_text.replace("\u3000", "").strip()

    rows = ["new_received", "carried_over", *(r for r, _, _ in t3_row_labels(truth)), "carried_forward"]
    assert len(table3.rows) == 3 + len(rows)
    for row_index, row in enumerate(rows, start=3):
        for offset, column in enumerate(T3_COLUMNS):
            assert shown(table3.cell(row_index, 3 + offset).text) == expected[t3_key(row, column)], (
                row,
                column,
            )
    for offset, key in enumerate(T4_KEYS):
        assert shown(table4.cell(3, offset).text) == expected[key]
    if variant[0] == "v2021":
        for row_index, keys in render_docx.T2_TEMPLATE_ROWS.items():
            for offset, key in enumerate(keys):
                assert shown(table2.cell(row_index, 1 + offset).text) == expected[key]
    else:
        assert table2.cell(1, 1).text.replace("\n", "") == "本年新制作数量"
        assert shown(table2.cell(3, 3).text) == expected["t2v19_normative_total_published"]
        assert shown(table2.cell(17, 2).text) == expected["t2v19_procurement_amount"]
    if variant[1]:
        assert table3.cell(23, 1).text == table3.cell(23, 2).text == "（六）其他处理"
    body = "\n".join(p.text for p in document.paragraphs)
    assert truth["title"] in body and truth["sections"]["6"] in body


def _expand_html_table(table: Any) -> list[list[str]]:
    """Place each <td> into a grid, honouring rowspan/colspan, like a browser would."""
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(table.findall(".//tr")):
        c = 0
        for td in tr.findall("td"):
            while (r, c) in grid:
                c += 1
            text = td.text_content().replace("\xa0", "").strip()
            for dr in range(int(td.get("rowspan", 1))):
                for dc in range(int(td.get("colspan", 1))):
                    grid[(r + dr, c + dc)] = text
            c += int(td.get("colspan", 1))
    n_rows, n_cols = max(r for r, _ in grid) + 1, max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(n_cols)] for r in range(n_rows)]


@pytest.mark.parametrize("style", render_html.HTML_STYLES)
def test_html_tables_place_every_number(style: str) -> None:
    truth = random_truth(
        random.Random(17), report_format="v2021", hybrid=style.endswith("string"), kind="summary"
    )
    _, data = render_html.render(truth, style)
    if style in ("html_jcms_gb2312", "html_gbk_misdeclared"):
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        page = data.decode("gbk")
    else:
        page = data.decode("utf-8")
    if style == "html_js_string":
        literal = re.search(r"var content = (\".*?\");\n", page, re.S)
        assert literal is not None
        page = json.loads(literal.group(1))
        assert '\\"' in data.decode("utf-8")
    if style == "html_mirror_traditional":
        assert "收到和處理政府信息公開申請情況" in page and "規範性檔案" in page
    tables = lxml_html.fromstring(page).findall(".//table[@border='1']")
    expected = _expected_texts(truth)
    if style == "html_wps_blank":  # zeros (and blank markers) left as empty cells
        expected = {k: "" if truth["cells"][k] == 0 else v for k, v in expected.items()}
    for grid, table in zip(all_grids(truth).values(), tables, strict=True):
        expanded = _expand_html_table(table)
        for cell in grid.cells:
            if cell.key:
                assert expanded[cell.row][cell.col] == expected[cell.key], (style, cell.key)


def test_xlsx_keeps_numbers_numeric_and_merges_headers() -> None:
    truth = random_truth(random.Random(5), report_format="v2019")
    workbook = load_workbook(io.BytesIO(render_xlsx.render(truth)[1]))
    sheet = workbook["依申请公开"]
    assert "A2:C4" in {str(r) for r in sheet.merged_cells.ranges}
    for grid_cell in all_grids(truth)["3"].cells:
        if grid_cell.key and grid_cell.key not in truth["markers"]:
            assert sheet.cell(2 + grid_cell.row, 1 + grid_cell.col).value == truth["cells"][grid_cell.key]


def _numbers(line: str) -> list[str]:
    return re.findall(r"\d[\d,]*", line)


def test_seed_style_dump_has_the_seed_artefacts() -> None:
    truth = random_truth(random.Random(8), report_format="v2021")
    text = render_txt.render(truth, "txt_tab_seed")[1].decode("utf-8")
    lines = text.split("\n")
    assert "三、本年度办理\t(一) 予以公开" in lines
    assert any(line.startswith("结果\t\t(二) 部分公开") for line in lines)
    first_denied = next(line for line in lines if line.startswith("(三) 不予公开\t1.属于国家秘密"))
    assert len(first_denied.split("\t")[2:]) == 8
    assert any(
        len(line.split("\t")) == 15 and all(t.isdigit() or t in ("", "/", "—") for t in line.split("\t"))
        for line in lines
    )


def test_subtotal_style_prints_the_org_sum_column() -> None:
    for seed in range(20):
        truth = random_truth(random.Random(seed), report_format="v2021")
        text = render_txt.render(truth, "txt_tab_subtotal")[1].decode("utf-8")
        line = next(line for line in text.split("\n") if line.startswith("一、本年新收"))
        values = [int(v.replace(",", "")) if v[:1].isdigit() else 0 for v in line.split("\t")[1:]]
        assert len(values) == 8 and values[0] + values[1] == values[-1]


def test_txt_encodings_and_number_shapes() -> None:
    truth = random_truth(random.Random(2), report_format="v2021")
    truth["cells"][t3_key("granted", "natural")] += 1014  # force a thousands separator
    truth["cells"][t3_key("granted", "total")] += 1014
    assert render_txt.render(truth, "txt_space_bom")[1].startswith(b"\xef\xbb\xbf")
    assert "," in render_txt.render(truth, "txt_space_bom")[1].decode("utf-8-sig")
    with pytest.raises(UnicodeDecodeError):
        render_txt.render(truth, "txt_pipe_gbk")[1].decode("utf-8")
    assert "件|" in render_txt.render(truth, "txt_pipe_gbk")[1].decode("gbk")
    assert re.search("[０-９]", render_txt.render(truth, "txt_fullwidth")[1].decode("utf-8"))
    markdown = render_txt.render(truth, "md_pdf_dump")[1].decode("utf-8")
    assert markdown.count("## 表三：收到和处理政府信息公开申请情况") == 2


def test_fast_styles_are_deterministic() -> None:
    for style in FAST_STYLES:
        truth_a = truth_for(STYLES_BY_NAME[style], 3, seed=9)
        truth_b = truth_for(STYLES_BY_NAME[style], 3, seed=9)
        assert render_fast(truth_a, style) == render_fast(truth_b, style)


def test_fast_reports_cycle_through_the_fast_styles() -> None:
    reports = list(iter_fast_reports(len(FAST_STYLES) + 1, seed=4))
    assert [r[0] for r in reports] == [*FAST_STYLES, FAST_STYLES[0]]
    assert reports[0][3] != reports[-1][3] and all(len(r[2]) > 1000 for r in reports)


def test_build_corpus_writes_truths_and_reuses_the_cache(tmp_path: Any) -> None:
    styles = ("txt_tab_seed", "html_trs_utf8", "docx_hybrid")
    items = build_corpus(tmp_path, per_style=2, seed=1, styles=styles)
    assert [i.style for i in items] == [s for s in styles for _ in range(2)]
    for item in items:
        stored = json.loads(item.path.with_suffix(".truth.json").read_text(encoding="utf-8"))
        assert stored["cells"] == item.truth["cells"] and item.path.stat().st_size > 1000
    before = {i.path: i.path.stat().st_mtime_ns for i in items}
    again = build_corpus(tmp_path, per_style=2, seed=1, styles=styles)
    assert {i.path: i.path.stat().st_mtime_ns for i in again} == before


def test_compare_finds_a_wrong_cell_and_judges_its_confidence() -> None:
    from shared.report import CellDetail, ParsedReport
    from tests.corpus.compare import compare, wrong_at_full_confidence

    truth = random_truth(random.Random(12), report_format="v2021", hybrid=True, kind="summary")
    fields = {name: truth[name] for name in ("agency", "year", "report_format")}
    parsed = ParsedReport(**fields, cells=dict(truth["cells"]))
    assert compare(truth, parsed) == []
    key = t3_key("granted", "total")
    parsed.cells[key] = truth["cells"][key] + 1
    parsed.cells[t3_key("other_other", "natural")] = 0  # must be null in a hybrid table
    misses = compare(truth, parsed)
    assert [m.key for m in misses] == [key, t3_key("other_other", "natural")]
    assert len(wrong_at_full_confidence(misses)) == 2  # no detail: presented as certain
    parsed.cell_details[key] = CellDetail(raw="?", confidence=0.4)
    assert [m.key for m in wrong_at_full_confidence(compare(truth, parsed))] == [
        t3_key("other_other", "natural")
    ]
    parsed.year = truth["year"] - 1
    assert "year" in [m.key for m in compare(truth, parsed)]
