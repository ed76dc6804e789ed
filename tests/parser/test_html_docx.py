"""HTML pages (inline CMS-style fixtures, UTF-8 and GBK) and DOCX from the official template."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest

from services.parser import parse_document
from shared.report import T3_COLUMNS, T3_ROWS_V2021, T4_KEYS, UnreadableDocument, t3_key
from tests.reference import corpus_path

T3_ITEMS = {
    "new_received": (None, "一、本年新收政府信息公开申请数量"),
    "carried_over": (None, "二、上年结转政府信息公开申请数量"),
    "granted": (None, "（一）予以公开"),
    "partial": (None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    "denied_state_secret": ("（三）不予公开", "1.属于国家秘密"),
    "denied_law_forbidden": ("（三）不予公开", "2.其他法律行政法规禁止公开"),
    "denied_three_security": ("（三）不予公开", "3.危及“三安全一稳定”"),
    "denied_third_party": ("（三）不予公开", "4.保护第三方合法权益"),
    "denied_internal_affairs": ("（三）不予公开", "5.属于三类内部事务信息"),
    "denied_process_info": ("（三）不予公开", "6.属于四类过程性信息"),
    "denied_enforcement_file": ("（三）不予公开", "7.属于行政执法案卷"),
    "denied_admin_query": ("（三）不予公开", "8.属于行政查询事项"),
    "unable_not_held": ("（四）无法提供", "1.本机关不掌握相关政府信息"),
    "unable_need_creation": ("（四）无法提供", "2.没有现成信息需要另行制作"),
    "unable_unclear": ("（四）无法提供", "3.补正后申请内容仍不明确"),
    "ignored_petition": ("（五）不予处理", "1.信访举报投诉类申请"),
    "ignored_duplicate": ("（五）不予处理", "2.重复申请"),
    "ignored_publication": ("（五）不予处理", "3.要求提供公开出版物"),
    "ignored_mass_repeat": ("（五）不予处理", "4.无正当理由大量反复申请"),
    "ignored_confirm": ("（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    "other_no_correction": (
        "（六）其他处理",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    "other_no_fee": (
        "（六）其他处理",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    "other_other": ("（六）其他处理", "3.其他"),
    "total_processed": (None, "（七）总计"),
    "carried_forward": (None, "四、结转下年度继续办理"),
}
GROUP_SIZES = {"（三）不予公开": 8, "（四）无法提供": 3, "（五）不予处理": 5, "（六）其他处理": 3}


def t3_values(row_index: int, column_index: int) -> int:
    return (row_index * 7 + column_index) % 5


def _td(text: str, **attrs: int) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<td{extra} width="60"><p align="center"><span>{text}</span></p></td>'


def _t3_html(hybrid: bool) -> str:
    rows = [
        f"<tr>{_td('（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）', colspan=3, rowspan=3)}"
        f"{_td('申请人情况', colspan=7)}</tr>",
        f"<tr>{_td('自然人', rowspan=2)}{_td('法人或其他组织', colspan=5)}{_td('总计', rowspan=2)}</tr>",
        "<tr>"
        + "".join(
            _td(h) for h in ("商业<br />企业", "科研<br />机构", "社会公益组织", "法律服务机构", "其他")
        )
        + "</tr>",
    ]
    keys = [k for k in T3_ROWS_V2021 if not (hybrid and k.startswith("other_"))]
    if hybrid:
        keys.insert(keys.index("total_processed"), "other_all")
    seen_groups: set[str] = set()
    for i, key in enumerate(keys):
        cells = "".join(_td("&nbsp;" if (i + c) % 11 == 0 else str(t3_values(i, c))) for c in range(7))
        if key == "other_all":
            rows.append(f"<tr>{_td('（六）其他处理', colspan=2)}{cells}</tr>")
            continue
        group, item = T3_ITEMS[key]
        head = ""
        if key == "granted":
            head += _td("三、本年度办理结果", rowspan=len(keys) - 3)
        if group is None:
            span = 3 if key in ("new_received", "carried_over", "carried_forward") else 2
            head += _td(item, colspan=span)
        else:
            if group not in seen_groups:
                seen_groups.add(group)
                head += _td(group, rowspan=GROUP_SIZES[group])
            head += _td(item)
        rows.append(f"<tr>{head}{cells}</tr>")
    return '<table border="1" cellspacing="0">' + "".join(rows) + "</table>"


def expected_t3(hybrid: bool) -> dict[str, int]:
    keys = [k for k in T3_ROWS_V2021 if not (hybrid and k.startswith("other_"))]
    if hybrid:
        keys.insert(keys.index("total_processed"), "other_all")
    return {
        t3_key(k, col): (0 if (i + c) % 11 == 0 else t3_values(i, c))
        for i, k in enumerate(keys)
        for c, col in enumerate(T3_COLUMNS)
    }


def report_html(*, hybrid: bool = False, charset: str = "utf-8", chrome: bool = True) -> str:
    t2 = (
        '<table border="1"><tr><td colspan="4">第二十条第（一）项</td></tr>'
        "<tr><td>信息内容</td><td>本年<br>制发件数</td><td>本年<br>废止件数</td><td>现行<br>有效件数</td></tr>"
        "<tr><td>规章</td><td>0</td><td>0</td><td>/</td></tr>"
        "<tr><td>行政规范性文件</td><td>3</td><td>1</td><td>1,015</td></tr>"
        '<tr><td colspan="4">第二十条第（五）项</td></tr>'
        '<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>'
        '<tr><td>行政许可</td><td colspan="3">１２</td></tr>'
        '<tr><td colspan="4">第二十条第（六）项</td></tr>'
        '<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>'
        '<tr><td>行政处罚</td><td colspan="3">5件</td></tr>'
        '<tr><td>行政强制</td><td colspan="3">&nbsp;</td></tr>'
        '<tr><td colspan="4">第二十条第（八）项</td></tr>'
        '<tr><td>信息内容</td><td colspan="3">本年收费金额（单位：万元）</td></tr>'
        '<tr><td>行政事业性收费</td><td colspan="3">0.0125</td></tr></table>'
    )
    t4_head = (
        '<tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>'
        '<tr><td rowspan="2">结果<br>维持</td><td rowspan="2">结果<br>纠正</td><td rowspan="2">其他<br>结果</td>'
        '<td rowspan="2">尚未<br>审结</td><td rowspan="2">总计</td><td colspan="5">未经复议直接起诉</td>'
        '<td colspan="5">复议后起诉</td></tr><tr>'
        + "<td>结果维持</td><td>结果纠正</td><td>其他结果</td><td>尚未审结</td><td>总计</td>" * 2
        + "</tr>"
    )
    t4 = (
        '<table border="1">'
        + t4_head
        + "<tr>"
        + "".join(f"<td>{i}</td>" for i in range(15))
        + "</tr></table>"
    )
    article = (
        '<div class="title"><h1>某某市某某区交通运输局2023年政府信息公开工作年度报告</h1></div>'
        '<div class="info">发布日期：2024-01-18 &nbsp; 来源：区交通运输局</div>'
        "<p>本报告所列数据统计期限为2023年1月1日至12月31日。全文包括总体情况、主动公开政府信息情况等六部分。</p>"
        "<p><strong>一、总体情况</strong></p><p>本年度我局认真贯彻《条例》。</p>"
        f"<p><strong>二、主动公开政府信息情况</strong></p>{t2}"
        f"<p><strong>三、收到和处理政府信息公开申请情况</strong></p>{_t3_html(hybrid)}"
        f"<p><strong>四、政府信息公开行政复议、行政诉讼情况</strong></p>{t4}"
        "<p><strong>五、存在的主要问题及改进情况</strong></p><p>问题是……。</p>"
        "<p><strong>六、其他需要报告的事项</strong></p><p>无。</p>"
    )
    if chrome:
        # Old CMS layout: the article sits inside a layout table between navigation and footer.
        article = (
            '<table width="1000"><tr><td><a href="/">首页</a> &gt; 政府信息公开 &gt; 年报</td></tr>'
            f"<tr><td>{article}</td></tr><tr><td>主办：某某区人民政府 ICP备案号 123</td></tr></table>"
        )
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        "<title>某某市某某区交通运输局2023年政府信息公开工作年度报告_某某区政府网</title></head>"
        f"<body><script>var x = 1;</script>{article}</body></html>"
    )


def _check_common(report_cells: Mapping[str, object]) -> None:
    assert report_cells["t2_rules_in_force"] == 0
    assert report_cells["t2_normative_in_force"] == 1015
    assert report_cells["t2_license_decisions"] == 12
    assert report_cells["t2_penalty_decisions"] == 5
    assert report_cells["t2_coercion_decisions"] == 0
    assert report_cells["t2_fee_amount_wan"] == pytest.approx(0.0125)
    assert [report_cells[k] for k in T4_KEYS] == list(range(15))


@pytest.mark.parametrize("charset", ["utf-8", "gb2312"])
def test_html_cms_page_in_layout_table(charset: str) -> None:
    html = report_html(charset=charset)
    data = html.encode("gb18030" if charset == "gb2312" else "utf-8")
    report = parse_document(data, "t20240118_1.html")
    _check_common(report.cells)
    for key, value in expected_t3(False).items():
        assert report.cells[key] == value, key
    assert report.agency == "某某市某某区交通运输局"
    assert report.year == 2023
    assert report.report_kind == "agency"
    assert report.published_on == "2024-01-18"
    assert report.statistics_period == "2023-01-01..2023-12-31"
    assert sorted(report.sections) == ["0", "1", "2", "3", "4", "5", "6"]  # "0": the preamble
    assert report.cell_details["t2_coercion_decisions"].marker == "blank"
    assert report.cell_details["t2_rules_in_force"].marker == "/"
    assert report.cell_details["t3_new_received__natural"].confidence == 1.0
    assert not report.parse_findings


def test_html_misdeclared_charset_and_js_string() -> None:
    html = report_html(chrome=False).replace('"', '\\"')
    page = f'<html><head><meta charset="utf-8"></head><body><script>var content = "{html}";</script></body></html>'
    report = parse_document(page.encode("gb18030"), "page.html")
    _check_common(report.cells)
    assert report.year == 2023


def test_html_hybrid_single_other_row() -> None:
    report = parse_document(report_html(hybrid=True).encode(), "hybrid.html")
    assert report.report_format == "v2021"
    expected = expected_t3(True)
    for key, value in expected.items():
        assert report.cells[key] == value, key
    assert report.cells["t3_other_other__natural"] is None
    assert len(report.cells) == 207
    assert "TBL-HEADER-ALTERED" in {f.rule for f in report.parse_findings}


def test_docx_from_official_template_round_trip() -> None:
    docx = pytest.importorskip("docx")
    template = corpus_path("templates/official-blank-template-2021.docx")
    document = docx.Document(str(template))
    document.paragraphs[0].text = "某某县某某镇人民政府2024年政府信息公开工作年度报告"
    t2, t3, t4 = document.tables
    t2.rows[3].cells[1].text = "7"
    t2.rows[13].cells[1].text = "1.5"
    for i in range(len(T3_ROWS_V2021)):
        for c in range(7):
            t3.rows[3 + i].cells[3 + c].text = str(t3_values(i, c))
    for c in range(15):
        t4.rows[3].cells[c].text = str(c % 4)
    buffer = io.BytesIO()
    document.save(buffer)
    report = parse_document(buffer.getvalue(), "r.docx")
    assert report.report_format == "v2021"
    assert report.cells["t2_normative_issued"] == 7
    assert report.cells["t2_fee_amount_wan"] == 1.5
    assert report.cells["t2_rules_issued"] == 0 and report.cell_details["t2_rules_issued"].marker == "blank"
    for i, key in enumerate(T3_ROWS_V2021):
        for c, col in enumerate(T3_COLUMNS):
            assert report.cells[t3_key(key, col)] == t3_values(i, c), (key, col)
    assert [report.cells[k] for k in T4_KEYS] == [c % 4 for c in range(15)]
    assert report.agency == "某某县某某镇人民政府"
    assert report.report_kind == "agency"
    assert report.year == 2024


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x00\x01\x02\x03" * 200, "unsupported_format"),
        ("随便一段文字，与年报无关。".encode(), "no_report_found"),
        (b"PK\x03\x04" + b"\x00" * 50, "corrupt_file"),
    ],
)
def test_unreadable_documents_have_clear_codes(data: bytes, code: str) -> None:
    with pytest.raises(UnreadableDocument) as error:
        parse_document(data, "x.bin")
    assert error.value.code == code
