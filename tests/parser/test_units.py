"""Small pieces: normalisation, numbers, labels, headings, sniffing, metadata."""

from __future__ import annotations

import pytest

from services.parser.labels import LabelMatch, match_t2_row, match_t3_group, match_t3_row
from services.parser.metadata import (
    agency_below_title,
    agency_from_title,
    find_title,
    report_kind,
    statistics_period,
)
from services.parser.normalize import label_key, strip_pinyin
from services.parser.numbers import read_number
from services.parser.rows import split_line
from services.parser.sections import section_of_heading
from services.parser.sniff import sniff
from shared.report import UnreadableDocument


@pytest.mark.parametrize(
    ("raw", "value", "marker"),
    [
        ("0", 0, None),
        ("１，０１５", 1015, None),
        ("1 015", 1015, None),
        ("\u3000", 0, "blank"),
        ("&nbsp;".replace("&nbsp;", "\u00a0"), 0, "blank"),
        ("/", 0, "/"),
        ("—", 0, "—"),
        ("－", 0, "-"),
        ("无", 0, "无"),
        ("零", 0, "零"),
        ("3件", 3, None),
        ("251000元", 251000, None),
        ("7730.2800", 7730.28, None),
        ("-8", -8, None),
    ],
)
def test_read_number(raw: str, value: float, marker: str | None) -> None:
    reading = read_number(raw)
    assert reading.value == value
    assert reading.marker == marker


@pytest.mark.parametrize(
    ("raw", "marker"),
    [("無", "无"), ("／", "/"), ("－", "-"), ("–", "—"), ("—", "—"), ("-", "-"), ("/", "/"), ("无", "无")],
)
def test_markers_after_traditional_to_simplified(raw: str, marker: str) -> None:
    reading = read_number(raw)
    assert (reading.value, reading.marker) == (0, marker)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("零", 0), ("一", 1), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105)],
)
def test_chinese_numerals_are_read_but_not_fully_trusted(raw: str, value: int) -> None:
    reading = read_number(raw)
    assert reading.value == value
    assert reading.raw == raw
    assert reading.confidence < 1.0


@pytest.mark.parametrize(("raw", "value"), [("1O", 10), ("O", 0), ("l2", 12), ("2B", 28)])
def test_ocr_lookalike_letters_are_read_with_doubt(raw: str, value: int) -> None:
    reading = read_number(raw)
    assert reading.value == value
    assert reading.confidence < 1.0


def test_words_are_not_ocr_numbers() -> None:
    assert read_number("Bob").value is None
    assert read_number("IO").value is None


def test_chinese_non_numerals_stay_unread() -> None:
    assert read_number("一二").value is None
    assert read_number("行政许可").value is None


@pytest.mark.parametrize(("raw", "value"), [("? 0", 0), ("？12", 12), ("5�", 5)])
def test_stray_characters_beside_a_number(raw: str, value: int) -> None:
    reading = read_number(raw)
    assert reading.value == value
    assert reading.confidence < 1.0


def test_number_with_note_keeps_note_and_is_not_fully_trusted() -> None:
    reading = read_number("22（其中修订16件）")
    assert reading.value == 22 and reading.note == "(其中修订16件)" and reading.confidence < 1


def test_unreadable_cell_is_null_not_zero() -> None:
    assert read_number("见附件").value is None
    assert read_number("2 0").confidence < 1  # split digits are flagged


def test_label_key_unifies_width_brackets_numbers_script() -> None:
    assert label_key("（二）部分公开 (区分处理的, 只计这一情形, 不计其他情形)") == label_key(
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    )
    assert label_key("1、申请人无正当理由逾期不补正, 行政机关不再处理其政府信息公开申请") == label_key(
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
    )
    assert label_key("現行有效件數") == "现行有效件数"
    assert label_key("規範性檔案") == "规范性文件"


@pytest.mark.parametrize(
    ("label", "row", "quality"),
    [
        ("2.其他法律法规禁止公开", "denied_law_forbidden", "exact"),
        ("2.其他法律行政止公开", "denied_law_forbidden", "altered"),
        ("3.危及「三安全一稳定」", "denied_three_security", "exact"),
        ("4.无正当理由大量反复 申请", "ignored_mass_repeat", "exact"),
        ("行政机关不再处理其政府信息公", "other_no_correction", "fragment"),
        ("（七）总计", "total_processed", "exact"),
    ],
)
def test_match_t3_row(label: str, row: str, quality: str) -> None:
    match = match_t3_row(label)[0]
    assert (match.key, match.quality) == (row, quality)


@pytest.mark.parametrize(
    ("label", "row"),
    [
        ("（三）不4.保护第三方合法权益", "denied_third_party"),
        ("予公开 5.属于三类内部事务信息", "denied_internal_affairs"),
        ("三、本 8.属于行政查询事项", "denied_admin_query"),
        ("理结果（四）无2.没有现成信息需要另行制作", "unable_need_creation"),
        ("（五）不3.要求提供公开出版物", "ignored_publication"),
    ],
)
def test_group_label_debris_before_an_item_is_extraction_damage(label: str, row: str) -> None:
    assert match_t3_row(label)[0] == LabelMatch(row, "fragment")


def test_single_spaced_header_row_is_split_into_column_titles() -> None:
    assert split_line("信息内容 本年制发件数 本年废止件数 现行有效件数") == [
        "信息内容",
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
    ]
    assert split_line("全年 共办理 申请") == ["全年 共办理 申请"]


def test_group_labels_and_t2_rows() -> None:
    assert match_t3_group("(六) 其他处理") == "other"
    assert match_t3_group("（六）其他") == "other"
    assert match_t3_row("（三）不予公开") == []
    assert match_t2_row("行政規範性檔案").key == "normative"  # type: ignore[union-attr]
    altered = match_t2_row("规章(设区的市、自治州人民政府应提供相关数据)")
    assert altered is not None and altered.quality == "altered"


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("一、总体情况", "1"),
        ("## 二、主动公开政府信息情况", "2"),
        ("（三）收到和处理政府信息公开申请情况", "3"),
        ("四、因政府信息公开工作被申请行政复议、提起行政诉讼情况", "4"),
        ("五、存在的主要问题及整改措施", "5"),
        ("（一）2024 年工作中存在问题的改进情况", "5"),
        ("六、其他需要报告的事项", "6"),
        ("文包括总体情况、主动公开政府信息情况、收到和处理政府信息", None),
        ("其他需要报告的事项。本年度报告中所列数据统计期限为 2025", None),
    ],
)
def test_section_headings(line: str, section: str | None) -> None:
    assert section_of_heading(line) == section


def test_titles_agency_kind() -> None:
    assert (
        find_title(["洪泽区人民政府", "2023 年政府信息公开工作年度报告"])
        == "洪泽区人民政府2023年政府信息公开工作年度报告"
    )
    title = "洪泽区人民政府2023年政府信息公开工作年度报告"
    assert agency_from_title(title, "本报告由淮安市洪泽区人民政府办公室根据") == "淮安市洪泽区人民政府"
    assert agency_from_title("2022年上海市政府信息公开工作年度报告", "") == "上海市"
    assert report_kind("上海市") == "summary"
    assert report_kind("淮安市洪泽区人民政府") == "summary"
    assert report_kind("上海市人民政府办公厅") == "agency"
    assert report_kind("嘉善县大云镇人民政府") == "agency"
    assert find_title(["某县民政局2023年政府信息公开年度报告"]) == "某县民政局2023年政府信息公开年度报告"


@pytest.mark.parametrize(
    ("lines", "title", "agency"),
    [
        (
            ["某市统计局2023年政府信息公开工作年度报告（全文）"],
            "某市统计局2023年政府信息公开工作年度报告",
            "某市统计局",
        ),
        (["某县民政局2022年政府信息公开工作报告"], "某县民政局2022年政府信息公开工作报告", "某县民政局"),
        (
            ["关于印发《某区商务局2023年政府信息公开工作年度报告》的通知"],
            "某区商务局2023年政府信息公开工作年度报告",
            "某区商务局",
        ),
        (
            ["2023年政府信息公开工作年度报告", "某某市财政局"],
            "2023年政府信息公开工作年度报告",
            "某某市财政局",
        ),
    ],
)
def test_title_shapes(lines: list[str], title: str, agency: str) -> None:
    found = find_title(lines)
    assert found == title
    assert (agency_from_title(found, "") or agency_below_title(lines, found)) == agency


def test_title_wrapped_before_its_last_character() -> None:
    lines = ["台州市人民政府2024年政府信息公开工作年度报", "告", "本报告根据…要求编制"]
    assert find_title(lines) == "台州市人民政府2024年政府信息公开工作年度报告"
    assert find_title(["2025年上海市人民政府办公厅政府信息公", "开工作", "年度报告"]) == (
        "2025年上海市人民政府办公厅政府信息公开工作年度报告"
    )


def test_statistics_period_wordings() -> None:
    assert (
        statistics_period("统计期限自 2023 年 1 月 1 日起至 2023 年 12 月 31 日止")
        == "2023-01-01..2023-12-31"
    )
    assert statistics_period("统计周期为 2024 年 1 月 1 日至 12 月 31 日") == "2024-01-01..2024-12-31"
    assert statistics_period("统计期限为 2025\n年 1 月 1 日至 12 月 31 日") == "2025-01-01..2025-12-31"


def test_strip_pinyin_keeps_brackets_that_are_not_pinyin() -> None:
    assert strip_pinyin("公(gōng)開（kāi）") == "公開"
    assert strip_pinyin("(一)予以公开 〔2021〕30号 网站(PDF)") == "(一)予以公开 〔2021〕30号 网站(PDF)"


def test_sniff() -> None:
    assert sniff(b"%PDF-1.7 ...") == "pdf"
    assert sniff(b"<!DOCTYPE html><html>") == "html"
    assert sniff("一、总体情况".encode()) == "text"
    with pytest.raises(UnreadableDocument) as error:
        sniff(b"PK\x03\x04garbage")
    assert error.value.code == "corrupt_file"
    with pytest.raises(UnreadableDocument):
        sniff(b"")
