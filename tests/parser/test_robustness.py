"""Real-world variants the synthetic corpus does not produce (spec §3, §8): small inline fixtures."""

from __future__ import annotations

import contextlib
import random
import re
from typing import Any

import pytest

from services.parser import parse_document
from shared.report import T2_KEYS_V2019_HUBEI, ParsedReport, UnreadableDocument
from tests.corpus.compare import compare
from tests.corpus.generate import FAST_STYLES, render_fast
from tests.corpus.truth import random_truth


def _truth(seed: int, **kwargs: Any) -> dict[str, Any]:
    return random_truth(random.Random(seed), **kwargs)


def _parse_text(text: str, name: str = "report.txt") -> ParsedReport:
    return parse_document(text.encode("utf-8"), name)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- section texts hold prose only (issue 3) ----------------------------------------


@pytest.mark.parametrize("style", FAST_STYLES)
def test_section_texts_hold_prose_not_table_rows(style: str) -> None:
    truth = _truth(7, report_format="v2021")
    name, data = render_fast(truth, style)
    report = parse_document(data, name)
    for number in ("2", "3", "4"):
        text = report.sections.get(number, "")
        assert "|" not in text and "\t" not in text, (number, text[:200])
        assert not re.search(r"本年制发件数|自然人|结果维持|予以公开|\b\d+\b", text), (number, text[:200])
    if style != "html_mirror_traditional":  # the mirror's prose is in traditional characters
        for number in ("1", "5", "6"):
            assert _squeezed(report.sections[number]) == _squeezed(truth["sections"][number])


def test_table_without_its_heading_does_not_enter_section_one() -> None:
    name, data = render_fast(_truth(8, report_format="v2021"), "md_pdf_dump")
    text = data.decode("utf-8").replace("二、主动公开政府信息情况\n", "")
    report = _parse_text(text, name)
    assert "|" not in report.sections["1"]
    assert "第二十条" not in report.sections["1"]
    assert report.cells["t2_rules_issued"] is not None


def test_section_six_keeps_a_bare_none() -> None:
    name, data = render_fast(_truth(9, report_format="v2021"), "txt_tab_seed")
    text = data.decode("utf-8")
    head, _, _ = text.partition("六、其他需要报告的事项")
    report = _parse_text(head + "六、其他需要报告的事项\n无\n", name)
    assert report.sections["6"] == "无"


# --- real-world variants of §3 and §8 (issue 5) ----------------------------------------


def _pipe_report(seed: int, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """A truth and its pipe-separated text dump (table 四 as three lines of five)."""
    truth = _truth(seed, **kwargs)
    _, data = render_fast(truth, "txt_pipe_gbk")
    return data.decode("gbk"), truth


def _misses(truth: dict[str, Any], report: ParsedReport) -> list[str]:
    return [f"{m.key}: expected {m.expected!r} got {m.got!r}" for m in compare(truth, report)]


def test_unchanged_pipe_dump_is_read_exactly() -> None:
    """The baseline every variant below starts from."""
    text, truth = _pipe_report(21)
    assert _misses(truth, _parse_text(text)) == []


def test_pinyin_annotated_mirror() -> None:
    text, truth = _pipe_report(22)
    annotated = text.replace("公开", "公(gōng)开").replace("申请", "申(shēn)请").replace("处理", "处(chǔ)理")
    report = _parse_text(annotated)
    assert _misses(truth, report) == []
    assert "gōng" not in report.sections["1"]


def test_stray_characters_before_numbers() -> None:
    text, truth = _pipe_report(23)
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("|二、上年结转"))
    cells = lines[index].split("|")
    cells[2] = "? " + cells[2]
    lines[index] = "|".join(cells)
    report = _parse_text("\n".join(lines))
    assert _misses(truth, report) == []
    assert report.cell_details["t3_carried_over__natural"].confidence < 1.0


def test_item_numbers_with_ideographic_comma_or_space() -> None:
    text, truth = _pipe_report(24)
    varied = re.sub(
        r"\|([1-8])\.", lambda m: f"|{m.group(1)}、" if m.group(1) in "135" else f"|{m.group(1)}. ", text
    )
    assert _misses(truth, _parse_text(varied)) == []


def test_labels_broken_at_any_character() -> None:
    text, truth = _pipe_report(25)
    broken = (
        text.replace("4.无正当理由大量反复申请", "4.无正当理由大量反复 申请")
        .replace("5.要求行政机关确认或重新出具已获取信息", "5.要求行政机关确认或重 新出具已获取信息")
        .replace("只计这一情形，不计其他情形", "只计这一情 形，不 计其他情形")
        .replace("三、本年度办理结果", "三 、本 年 度办 理 结果")
    )
    assert _misses(truth, _parse_text(broken)) == []


def test_ocr_truncations_in_header_and_group_label() -> None:
    text, truth = _pipe_report(26, report_format="v2019")
    truncated = text.replace("社会公益组织", "社会公益").replace("（六）其他处理", "(六) 其他")
    assert "(六) 其他" in truncated
    assert _misses(truth, _parse_text(truncated)) == []


def test_table_four_in_three_lines_of_five() -> None:
    text, truth = _pipe_report(27)
    assert re.search(r"\n\|[^|\n]*\|[^|\n]*\|[^|\n]*\|[^|\n]*\|[^|\n]*\|\n\|", text)  # the shape tested
    report = _parse_text(text)
    assert [report.cells[k] for k in truth["cells"] if k.startswith("t4_")] == [
        v for k, v in truth["cells"].items() if k.startswith("t4_")
    ]


def test_hubei_v2019_variant_with_extra_row_and_filling_notes() -> None:
    text, truth = _pipe_report(28, report_format="v2019")
    hubei = (
        text.replace("\n规章|", "\n规章(设区的市、自治州人民政府应提供相关数据)|")
        .replace("本年增/减|", "本年增/减(减用负值表示，如-8)|")
        .replace("|处理决定数量", "|处理决定数量(指2020年办件量)")
    )
    hubei = re.sub(r"(\n规范性文件\|[^\n]*)", r"\1\n其他主动公开文件|3|3|20", hubei)
    report = _parse_text(hubei)
    extra_row = {k: report.cells.get(k) for k in T2_KEYS_V2019_HUBEI}
    assert extra_row == dict(zip(T2_KEYS_V2019_HUBEI, (3, 3, 20), strict=True))
    assert [m for m in _misses(truth, report) if "other_docs" not in m] == []


def test_decorated_headings() -> None:
    text, truth = _pipe_report(29)
    decorated = text.replace("一、总体情况", "## 一、总体情况").replace(
        "六、其他需要报告的事项", "**六、其他需要报告的事项**"
    )
    report = _parse_text(decorated, "report.md")
    assert sorted(report.sections) == ["0", "1", "2", "3", "4", "5", "6"]  # "0": the preamble
    assert _squeezed(report.sections["1"]) == _squeezed(truth["sections"]["1"])
    assert _misses(truth, report) == []


def test_section_five_only_as_sub_headings() -> None:
    text, truth = _pipe_report(30)
    heading = next(line for line in text.split("\n") if line.startswith("五、"))
    body = "（一）主要问题\n政策解读形式较为单一。\n（二）改进情况\n下一步将加强业务培训。"
    start = text.index(heading)
    end = text.index("六、其他需要报告的事项")
    report = _parse_text(text[:start] + body + "\n" + text[end:])
    assert "政策解读形式较为单一" in report.sections["5"]
    assert "下一步将加强业务培训" in report.sections["5"]
    assert "政策解读" not in report.sections["4"]


@pytest.mark.parametrize(
    ("sentence", "period"),
    [
        ("本报告所列数据统计期限从2025年1月1日至2025年12月31日止。", "2025-01-01..2025-12-31"),
        ("本报告所列数据统计时限为2023年1月1日至2023年12月31日。", "2023-01-01..2023-12-31"),
        ("本报告所列数据统计周期为 2024 年 1 月 1 日至 12 月 31 日。", "2024-01-01..2024-12-31"),
        ("本报告中所列数据的统计期限为2022年1月1日至2022年12月31日。", "2022-01-01..2022-12-31"),
        ("本报告所列数据统计期限为 2025\n年 1 月 1 日至 12 月 31 日。", "2025-01-01..2025-12-31"),
    ],
)
def test_statistics_period_sentences(sentence: str, period: str) -> None:
    text, _ = _pipe_report(31)
    preamble = next(line for line in text.split("\n") if line.startswith("本报告根据"))
    report = _parse_text(text.replace(preamble, "本报告根据条例编制。" + sentence))
    assert report.statistics_period == period


def test_2023_report_in_v2019_columns_keeps_v2019() -> None:
    text, truth = _pipe_report(32, report_format="v2019")
    year = str(truth["year"])
    report = _parse_text(text.replace(year + "年", "2023年"))
    assert report.report_format == "v2019"
    assert report.year == 2023
    assert [m for m in _misses(truth, report) if not m.startswith("year")] == []


def test_pre2019_free_form_report_has_metadata_and_no_tables() -> None:
    text = "\n".join(
        [
            "某县民政局2015年政府信息公开工作年度报告",
            "本报告所列数据统计期限为2015年1月1日至2015年12月31日。",
            "一、概述",
            "2015年，我局认真贯彻落实《中华人民共和国政府信息公开条例》。",
            "二、主动公开政府信息情况",
            "全年主动公开政府信息125条。",
            "三、依申请公开政府信息情况",
            "全年共受理依申请公开3件，均已按时答复。",
            "四、政府信息公开的收费及减免情况",
            "未收取任何费用。",
            "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
            "未发生行政复议和行政诉讼。",
            "六、存在的主要问题及改进措施",
            "公开的及时性有待提高。",
            "附表",
            "指标名称\t计量单位\t本年度\t历年累计",
            "主动公开信息数\t条\t125\t1500",
            "受理依申请公开信息总数\t条\t3\t40",
            "其中：1.当面申请数\t条\t1\t10",
            "行政复议数\t件\t0\t2",
            "行政诉讼数\t件\t0\t1",
        ]
    )
    report = _parse_text(text)
    assert report.report_format == "pre2019"
    assert report.agency == "某县民政局"
    assert report.year == 2015
    assert report.statistics_period == "2015-01-01..2015-12-31"
    assert all(v is None for v in report.cells.values())


def test_chinese_numeral_in_a_cell() -> None:
    truth = _truth(33, report_format="v2021")
    truth["cells"]["t2_license_decisions"] = 12
    _, data = render_fast(truth, "txt_pipe_gbk")
    text = re.sub(r"(\n行政许可\|)12\|", r"\1十二|", data.decode("gbk"))
    assert "十二" in text
    report = _parse_text(text)
    assert report.cells["t2_license_decisions"] == 12
    detail = report.cell_details["t2_license_decisions"]
    assert detail.raw == "十二"
    assert detail.confidence < 1.0


def test_traditional_mirror_reads_wu_as_a_blank_marker() -> None:
    truth = _truth(34, report_format="v2021")
    zero = next(k for k, v in truth["cells"].items() if k.startswith("t3_") and v == 0)
    truth["markers"][zero] = "无"
    truth["blank_cells"] = sorted(truth["markers"])
    name, data = render_fast(truth, "html_mirror_traditional")
    assert "無" in data.decode("utf-8")
    report = parse_document(data, name)
    assert _misses(truth, report) == []
    assert report.cell_details[zero].marker == "无"


@pytest.mark.parametrize("style", ["docx", "xlsx"])
def test_damaged_office_files_are_unreadable_not_crashes(style: str) -> None:
    """Flipped bytes in a zip package (damaged members, bogus encryption flags) raise
    UnreadableDocument, never a library's own exception."""
    from tests.corpus import render_docx, render_xlsx

    truth = _truth(40)
    name, data = (
        render_docx.render(truth, "docx_template")
        if style == "docx"
        else render_xlsx.render(truth, "xlsx_openpyxl")
    )
    rng = random.Random(40)
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 12)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        with contextlib.suppress(UnreadableDocument):
            parse_document(bytes(damaged), name)


def test_prose_inside_a_layout_table_stays_section_text() -> None:
    """CMS pages put the whole article in a layout table beside a menu column."""
    name, data = render_fast(_truth(41, report_format="v2021"), "md_pdf_dump")
    paragraphs = data.decode("utf-8").split("\n")
    start = next(i for i, line in enumerate(paragraphs) if line.startswith("一、"))
    end = next(i for i, line in enumerate(paragraphs) if line.startswith("二、"))
    rows = "".join(
        f"<tr><td>栏目导航</td><td>{p}</td></tr>" for p in paragraphs[start + 1 : end] if p.strip()
    )
    rest = "".join(f"<p>{p}</p>" for p in paragraphs[end:] if not p.startswith("|"))
    html = f"<html><body><p>{paragraphs[0]}</p><p>{paragraphs[start]}</p><table>{rows}</table>{rest}</body></html>"
    report = parse_document(html.encode("utf-8"), "report.html")
    assert "主动公开" in report.sections["1"]
    assert len(report.sections["1"]) > 100
