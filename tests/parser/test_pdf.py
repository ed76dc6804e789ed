"""PDF extraction on the real Huaian report, on unreadable PDFs, and on the text helpers.

The Huaian checks locate every truth number through the extracted grid: the row is found
by its label, the column by the header cells printed above it. A number that lands in the
wrong row or column, or is split or fused, fails the test.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from services.parser.document import ExtractedDocument, Paragraph, Table
from services.parser.pdf import extract_pdf
from services.parser.pdf_text import join_chars
from shared.report import T3_COLUMNS, UnreadableDocument
from tests.reference import CORPUS, missing  # noqa: E402

HUAIAN_PDF = CORPUS / "real" / "huaian-hongze-2023.pdf"
HUAIAN_TRUTH = CORPUS / "real" / "huaian-hongze-2023.truth.json"

needs_corpus = pytest.mark.skipif(not HUAIAN_PDF.exists(), reason=missing(HUAIAN_PDF))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- Locating numbers in extracted grids (a deliberately tiny "mapper") -----------------


def tables_between(doc: ExtractedDocument, start_anchor: str, stop_anchor: str | None) -> list[Table]:
    """The tables after the paragraph containing start_anchor, up to the one with stop_anchor."""
    found: list[Table] = []
    inside = False
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            if start_anchor in squash(block.text):
                inside = True
            elif stop_anchor and stop_anchor in squash(block.text):
                inside = False
        elif inside:
            found.append(block)
    return found


def stacked_rows(tables: list[Table]) -> list[list[str]]:
    """All fragments' grid rows, one under the other, as squashed texts ("" for holes).

    A merged cell's text fills every position it covers (headers must reach the columns
    below them), except that a number is kept only at its own column: a value cell
    spanning three columns is one value, not three.
    """
    rows = []
    for table in tables:
        for row in table.grid():
            texts = []
            for col, cell in enumerate(row):
                text = squash(cell.text) if cell else ""
                texts.append("" if cell and cell.col != col and is_number(text) else text)
            rows.append(texts)
    return rows


def is_number(text: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+)?", text) is not None


def data_columns(row: list[str]) -> list[int]:
    return [i for i, text in enumerate(row) if is_number(text)]


def row_label(row: list[str]) -> str:
    """The label cells left of the row's first number, joined."""
    first = data_columns(row)[0]
    return "".join(dict.fromkeys(row[:first]))


def header_above(rows: list[list[str]], row_index: int, col: int) -> str:
    """The texts printed above a data cell in its column, up to the previous data row."""
    texts: list[str] = []
    for row in reversed(rows[:row_index]):
        if data_columns(row):
            if texts:
                break
            continue
        if col < len(row) and row[col] not in texts:
            texts.insert(0, row[col])
    return "|".join(texts)


def find_value(rows: list[list[str]], label_keyword: str, header_keywords: tuple[str, ...]) -> float:
    """The one number whose row label holds label_keyword and whose header holds all header_keywords."""
    hits = []
    for index, row in enumerate(rows):
        columns = data_columns(row)
        if not columns or label_keyword not in row_label(row):
            continue
        for col in columns:
            header = header_above(rows, index, col)
            if all(k in header for k in header_keywords):
                hits.append(float(row[col]))
    assert len(hits) == 1, f"{label_keyword} / {header_keywords}: found {hits}"
    return hits[0]


T3_HEADER_WORDS = {
    "natural": "自然人",
    "org_business": "商业企业",
    "org_research": "科研机构",
    "org_ngo": "社会公益组织",
    "org_legal": "法律服务机构",
    "org_other": "其他",
    "total": "总计",
}


def t3_table_rows(doc: ExtractedDocument) -> list[list[str]]:
    """Table 三's fragments (one per page) stacked."""
    tables = tables_between(doc, "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")
    assert tables
    return stacked_rows(tables)


def assert_t3_header_order(rows: list[list[str]]) -> None:
    """The first data row's seven number columns sit under the seven applicant headers, in order."""
    first = next(i for i, row in enumerate(rows) if data_columns(row))
    leaves = [header_above(rows, first, col).split("|")[-1] for col in data_columns(rows[first])]
    assert leaves == list(T3_HEADER_WORDS.values())


def t3_value(rows: list[list[str]], label_keyword: str, column: str) -> float:
    """The number in the row whose label holds label_keyword, in the given applicant column.

    Later fragments carry no header, so columns are taken in order; a row must hold exactly
    seven numbers, which catches a number split in two or two fused into one.
    """
    hits = []
    for row in rows:
        columns = data_columns(row)
        if columns and label_keyword in row_label(row):
            assert len(columns) == len(T3_COLUMNS), (label_keyword, row)
            hits.append(float(row[columns[T3_COLUMNS.index(column)]]))
    assert len(hits) == 1, f"{label_keyword} / {column}: found {hits}"
    return hits[0]


# --- Huaian (real WPS PDF) --------------------------------------------------------------

T2_LOOKUP = {
    "t2_rules_issued": ("规章", ("本年制发件数",)),
    "t2_rules_repealed": ("规章", ("本年废止件数",)),
    "t2_rules_in_force": ("规章", ("现行有效件数",)),
    "t2_normative_issued": ("行政规范性文件", ("本年制发件数",)),
    "t2_normative_repealed": ("行政规范性文件", ("本年废止件数",)),
    "t2_normative_in_force": ("行政规范性文件", ("现行有效件数",)),
    "t2_license_decisions": ("行政许可", ("本年处理决定数量",)),
    "t2_penalty_decisions": ("行政处罚", ("本年处理决定数量",)),
    "t2_coercion_decisions": ("行政强制", ("本年处理决定数量",)),
    "t2_fee_amount_wan": ("行政事业性收费", ("本年收费金额",)),
}

# Row keyword per truth row key; Huaian prints "2.其他法律行政止公开" (法规禁 missing).
T3_ROW_KEYWORDS = {
    "new_received": "本年新收",
    "carried_over": "上年结转",
    "granted": "予以公开",
    "partial": "部分公开",
    "denied_state_secret": "国家秘密",
    "denied_law_forbidden": "2.其他法律行政",
    "denied_three_security": "三安全一稳定",
    "denied_third_party": "第三方合法权益",
    "denied_internal_affairs": "内部事务",
    "denied_process_info": "过程性信息",
    "denied_enforcement_file": "行政执法案卷",
    "denied_admin_query": "行政查询",
    "unable_not_held": "不掌握",
    "unable_need_creation": "另行制作",
    "unable_unclear": "补正后",
    "ignored_petition": "信访举报",
    "ignored_duplicate": "重复申请",
    "ignored_publication": "公开出版物",
    "ignored_mass_repeat": "大量反复",
    "ignored_confirm": "重新出具",
    "other_all": "（六）其他处理",
    "total_processed": "（七）总计",
    "carried_forward": "结转下年度",
}

T4_GROUP_WORDS = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}
T4_OUTCOME_WORDS = {
    "upheld": "维持",
    "corrected": "纠正",
    "other": "其他",
    "pending": "尚未",
    "total": "总计",
}


@pytest.fixture(scope="module")
def huaian() -> ExtractedDocument:
    return extract_pdf(HUAIAN_PDF.read_bytes())


@pytest.fixture(scope="module")
def truth() -> dict[str, float | None]:
    cells: dict[str, float | None] = json.loads(HUAIAN_TRUTH.read_text(encoding="utf-8"))["cells"]
    return cells


@needs_corpus
def test_huaian_page_count_and_blocks(huaian: ExtractedDocument) -> None:
    assert huaian.page_count == 5
    paragraphs = [b for b in huaian.blocks if isinstance(b, Paragraph)]
    assert squash(paragraphs[0].text) == "洪泽区人民政府"
    assert squash(paragraphs[1].text) == "2023年政府信息公开工作年度报告"
    headings = [squash(p.text) for p in paragraphs if re.match(r"^[一二三四五六]、", p.text)]
    assert headings == [
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ]


@needs_corpus
def test_huaian_strips_page_numbers_and_joins_wrapped_lines(huaian: ExtractedDocument) -> None:
    texts = [b.text for b in huaian.blocks if isinstance(b, Paragraph)]
    assert not any(re.fullmatch(r"-\s*\d+\s*-", t.strip()) for t in texts)
    # The preamble wraps over seven PDF lines; it must come back as one paragraph, CJK
    # wraps joined without spaces, and the Latin-script e-mail kept intact.
    preamble = next(t for t in texts if t.startswith("本报告由"))
    assert "统计期限自2023年1月1日起至2023年12月31日止" in preamble
    assert "hzzwgk@126.com" in preamble
    # A paragraph running from page 1 onto page 2 is one paragraph.
    assert any("严格执行“分级审核、先审后发”程序" in t for t in texts)


@needs_corpus
def test_huaian_table_two_values_at_their_row_and_column(
    huaian: ExtractedDocument, truth: dict[str, float | None]
) -> None:
    rows = stacked_rows(tables_between(huaian, "二、主动公开政府信息情况", "三、收到和处理"))
    for key, (label, header_words) in T2_LOOKUP.items():
        assert find_value(rows, label, header_words) == truth[key], key


@needs_corpus
def test_huaian_table_three_every_value_at_its_row_and_column(
    huaian: ExtractedDocument, truth: dict[str, float | None]
) -> None:
    rows = t3_table_rows(huaian)
    assert_t3_header_order(rows)
    checked = 0
    for row_key, keyword in T3_ROW_KEYWORDS.items():
        for column in T3_COLUMNS:
            assert t3_value(rows, keyword, column) == truth[f"t3_{row_key}__{column}"], (row_key, column)
            checked += 1
    assert checked == 23 * 7


@needs_corpus
def test_huaian_table_three_merged_cells_keep_their_spans(huaian: ExtractedDocument) -> None:
    first = tables_between(huaian, "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议")[0]
    by_text = {squash(c.text): c for c in first.cells}
    group = by_text["三、本年度办理结果"]  # printed one character per line
    assert (group.rowspan, group.colspan) == (12, 1)
    assert by_text["（三）不予公开"].rowspan == 8
    assert by_text["申请人情况"].colspan == 7
    assert by_text["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"].rowspan == 3
    assert by_text["商业企业"].source == "page 3, table 2, r3c5"
    # The page break left the last row on page 3 without a bottom rule; it must survive.
    assert any(squash(c.text) == "2.没有现成信息需要另行制作" for c in first.cells)


@needs_corpus
def test_huaian_table_four_values_under_group_and_outcome(
    huaian: ExtractedDocument, truth: dict[str, float | None]
) -> None:
    (table,) = tables_between(huaian, "四、政府信息公开行政复议", "五、存在的主要问题")
    rows = stacked_rows([table])
    data_row = next(i for i, row in enumerate(rows) if data_columns(row))
    assert len(data_columns(rows[data_row])) == 15
    seen = set()
    for col in data_columns(rows[data_row]):
        header = header_above(rows, data_row, col)
        group = next(g for g, w in reversed(T4_GROUP_WORDS.items()) if w in header)
        outcome = next(o for o, w in T4_OUTCOME_WORDS.items() if w in header.split("|")[-1])
        key = f"t4_{group}_{outcome}"
        assert float(rows[data_row][col]) == truth[key], key
        seen.add(key)
    assert len(seen) == 15


@needs_corpus
def test_huaian_cells_hold_whole_numbers_never_split_digits(huaian: ExtractedDocument) -> None:
    numbers = [
        squash(c.text)
        for b in huaian.blocks
        if isinstance(b, Table)
        for c in b.cells
        if is_number(squash(c.text))
    ]
    assert {"550", "4119", "195", "7730.28", "21", "10"} <= set(numbers)


# --- Unreadable PDFs --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
@needs_corpus
def test_scanned_pdf_has_no_text_layer(tmp_path: Path) -> None:
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "3", "-l", "3", "-png", str(HUAIAN_PDF), str(tmp_path / "page")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PDF")
    with pytest.raises(UnreadableDocument) as error:
        extract_pdf(buffer.getvalue())
    assert error.value.code == "no_text_layer"


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.4\n1 0 obj <<\n"])
def test_corrupt_file(data: bytes) -> None:
    with pytest.raises(UnreadableDocument) as error:
        extract_pdf(data)
    assert error.value.code == "corrupt_file"


def test_unmapped_glyphs_are_reported_not_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text layer of glyphs without Unicode (CJK font without ToUnicode) is refused.

    PDFium reports such glyphs as a mapping error; the reader turns them into U+FFFD.
    """
    blank_pdf = _minimal_pdf()
    from services.parser import pdf_reader

    def garbage_chars(text_page: object, height: float) -> list[dict[str, object]]:
        return [_char("\ufffd", 10.0 * i, 100.0) for i in range(40)]

    monkeypatch.setattr(pdf_reader, "_chars", garbage_chars)
    with pytest.raises(UnreadableDocument) as error:
        extract_pdf(blank_pdf)
    assert error.value.code == "unreadable_font"
    assert "100%" in error.value.message


def _minimal_pdf() -> bytes:
    """A valid one-page PDF without text (built by hand: PIL would add an image)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_blank_page_without_image_is_no_text_layer() -> None:
    with pytest.raises(UnreadableDocument) as error:
        extract_pdf(_minimal_pdf())
    assert error.value.code == "no_text_layer"


# --- Text helpers -----------------------------------------------------------------------


def _char(text: str, x0: float, top: float, size: float = 10.0) -> dict[str, object]:
    width = size if len(text) == 1 and ord(text) > 0x2E80 else size / 2
    return {"text": text, "x0": x0, "x1": x0 + width, "top": top, "bottom": top + size, "size": size}


def test_join_chars_cjk_without_spaces_numbers_apart() -> None:
    chars = [_char("号", 0, 0), _char(" ", 10, 0), _char("，", 14, 0), _char("2", 30, 0), _char("0", 35, 0)]
    assert join_chars(chars) == "号，20"
    spaced = [_char("2", 0, 0), _char("1", 5, 0), _char("0", 14, 0)]  # a 4 pt gap: two numbers
    assert join_chars(spaced) == "21 0"


def test_cell_text_reads_vertical_labels_as_one_word() -> None:
    from services.parser.pdf_text import group_lines, lines_to_cell_text

    vertical = [_char(ch, 0, 12.0 * i) for i, ch in enumerate("三、本年度")]
    assert lines_to_cell_text(group_lines(vertical)) == "三、本年度"
    wrapped = [_char("商", 0, 0), _char("业", 10, 0), _char("企", 0, 12), _char("业", 10, 12)]
    assert lines_to_cell_text(group_lines(wrapped)) == "商业\n企业"
