import csv
import io
import json
import random
import re
from datetime import datetime

import pytest

from services.publisher import Retraction, data_csv, data_json, render_report_page, report_files, report_slug
from services.publisher.model import PortalFile, original_file_name
from services.publisher.render import CSV_COLUMNS, NULL_CELL_TEXT, format_number
from shared.report import T3_RESULT_ROWS_OTHER, CellDetail, Finding, ParsedReport, ParseFinding, t3_key
from tests.corpus.truth import random_truth
from tests.publisher.factories import portal_report, real_truth
from tests.publisher.htmlcells import header, read_cells


def _text(file: PortalFile) -> str:
    assert isinstance(file, bytes), "a rendered page, not a stored copy"
    return file.decode()


def expected_text(report, key):
    detail = report.parsed.cell_details.get(key)
    value = report.parsed.cells[key]
    if value is None:
        return NULL_CELL_TEXT
    if detail is not None and detail.marker is not None:
        return detail.raw.strip()
    return format_number(value)


def assert_every_printed_cell_matches(report, html):
    cells = read_cells(html).cells
    for key, value in report.parsed.cells.items():
        if key not in cells:
            continue
        assert cells[key]["text"] == expected_text(report, key), key
        assert cells[key]["data-value"] == format_number(value), key
    return cells


def test_hybrid_report_huaian_numbers_in_place():
    report = portal_report(real_truth("huaian-hongze-2023"), government="淮安市洪泽区人民政府")
    assert report.is_hybrid
    cells = assert_every_printed_cell_matches(report, render_report_page(report))
    # The single （六）其他处理 row is printed; the absent v2021 sub-rows are not.
    assert t3_key("other_all", "total") in cells
    assert not any(t3_key(row, "natural") in cells for row in T3_RESULT_ROWS_OTHER)
    assert cells["t2_penalty_decisions"]["text"] == "4119"
    assert cells["t2_fee_amount_wan"]["text"] == "7730.28"
    assert cells[t3_key("new_received", "natural")]["text"] == "21"
    assert len(cells) == 186  # 10 + 23 rows × 7 + 15
    parsed = read_cells(render_report_page(report))
    # 三、本年度办理结果 spans the 20 result rows of the hybrid layout.
    assert header(parsed, "三、本年度办理结果")["rowspan"] == "20"
    assert header(parsed, "（六）其他处理")["colspan"] == "2"


def test_v2021_report_luoyang_layout_and_numbers():
    report = portal_report(real_truth("luoyang-xigong-2022"))
    assert not report.is_hybrid
    html = render_report_page(report)
    cells = assert_every_printed_cell_matches(report, html)
    assert len(cells) == 200
    parsed = read_cells(html)
    # Merges as in official-blank-template-2021.docx.
    assert header(parsed, "三、本年度办理结果")["rowspan"] == "22"
    assert header(parsed, "（六）其他处理")["rowspan"] == "3"
    assert header(parsed, "（三）不予公开")["rowspan"] == "8"
    assert header(parsed, "申请人情况")["colspan"] == "7"
    assert header(parsed, "法人或其他组织")["colspan"] == "5"
    assert header(parsed, "自然人")["rowspan"] == "2"
    assert header(parsed, "行政诉讼")["colspan"] == "10"
    assert header(parsed, "第二十条第（一）项")["colspan"] == "4"
    balance = [h for h in parsed.headers if h["text"].startswith("（本列数据的勾稽关系为")][0]
    assert (balance["rowspan"], balance["colspan"]) == ("3", "3")


def test_v2019_report_numbers_and_blocks():
    truth = random_truth(random.Random(11), report_format="v2019")
    report = portal_report(truth)
    html = render_report_page(report)
    cells = assert_every_printed_cell_matches(report, html)
    assert len(cells) == 198
    assert "t2v19_procurement_amount" in cells and cells["t2v19_procurement_amount"]["colspan"] == "2"
    assert "本年新制作数量" in html and "本年制发件数" not in html
    assert t3_key("other_all", "org_legal") in cells


def test_markers_raw_text_and_null_cells_are_visible():
    truth = real_truth("luoyang-xigong-2022")
    report = portal_report(truth)
    report.parsed.cells["t2_rules_issued"] = 0
    report.parsed.cell_details["t2_rules_issued"] = CellDetail(raw="/", marker="/")
    report.parsed.cells["t2_rules_repealed"] = 0
    report.parsed.cell_details["t2_rules_repealed"] = CellDetail(raw="\u3000", marker="blank")
    report.parsed.cells["t2_rules_in_force"] = None
    report.parsed.cell_details.pop("t2_rules_in_force", None)
    cells = read_cells(render_report_page(report)).cells
    assert (cells["t2_rules_issued"]["text"], cells["t2_rules_issued"]["data-value"]) == ("/", "0")
    assert "cell-marker" in cells["t2_rules_issued"]["class"]
    assert (cells["t2_rules_repealed"]["text"], cells["t2_rules_repealed"]["data-value"]) == ("", "0")
    assert "cell-blank" in cells["t2_rules_repealed"]["class"]
    assert cells["t2_rules_in_force"]["text"] == NULL_CELL_TEXT
    assert cells["t2_rules_in_force"]["data-value"] == ""
    assert "cell-null" in cells["t2_rules_in_force"]["class"]


def test_narrative_and_names_are_escaped():
    truth = real_truth("luoyang-xigong-2022")
    truth["agency"] = '西工区<b onmouseover="x()">办公室</b>'
    report = portal_report(truth)
    report.parsed.sections["1"] = "总体情况<script>alert('x')</script>&"
    report.parsed.title = "<i>标题</i>"
    html = render_report_page(report)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;" in html
    assert "<b onmouseover" not in html and "<i>标题" not in html
    assert "&lt;i&gt;标题&lt;/i&gt;" in html
    # Defence in depth: the page forbids inline scripts, should anything slip through.
    assert "script-src 'self';" in html and "<script" not in html


@pytest.mark.parametrize(
    "agency", ["../../etc/passwd", "a/b\\c", "淮安市洪泽区人民政府", "", "..", "名称?#%20&x=1"]
)
def test_slug_is_path_and_url_safe(agency):
    slug = report_slug(agency, 2023)
    assert re.fullmatch(r"2023-[0-9a-f]{12}", slug)


def test_slug_folds_script_width_and_spaces():
    assert report_slug("淮安市洪泽区人民政府", 2023) == report_slug("淮安市洪澤區人民政府", 2023)
    assert report_slug("淮安市 洪泽区\u3000人民政府", 2023) == report_slug("淮安市洪泽区人民政府", 2023)
    assert report_slug("ＡＢＣ局", 2023) == report_slug("ABC局", 2023)
    assert report_slug("淮安市洪泽区人民政府", 2023) != report_slug("淮安市洪泽区人民政府", 2024)
    assert report_slug("淮安市洪泽区人民政府", 2023) != report_slug("淮安市清江浦区人民政府", 2023)


def test_csv_matches_cells():
    truth = random_truth(random.Random(5), report_format="v2021")
    report = portal_report(truth)
    report.parsed.cells["t2_fee_amount_wan"] = 12.3456
    report.parsed.cells["t4_review_total"] = None
    rows = list(csv.DictReader(io.StringIO(data_csv(report).decode("utf-8-sig"))))
    assert [row["key"] for row in rows][:3] == ["t2_rules_issued", "t2_rules_repealed", "t2_rules_in_force"]
    by_key = {row["key"]: row for row in rows}
    assert set(by_key) == set(report.parsed.cells)
    for key, value in report.parsed.cells.items():
        assert by_key[key]["value"] == ("" if value is None else format_number(value)), key
        detail = report.parsed.cell_details.get(key)
        if detail is not None:
            assert by_key[key]["raw"] == detail.raw
            assert by_key[key]["marker"] == (detail.marker or "")
    assert by_key["t2_fee_amount_wan"]["value"] == "12.3456"
    assert by_key["t4_review_total"]["value"] == ""
    assert by_key["t3_granted__natural"]["label"] == "（一）予以公开｜自然人"


def test_json_round_trips_the_parse():
    report = portal_report(real_truth("huaian-hongze-2023"))
    payload = json.loads(data_json(report))
    assert ParsedReport.from_json(payload["parsed"]) == report.parsed
    assert payload["slug"] == report.slug and payload["hybrid"] is True
    assert payload["deadline"] == "2024-03-31"  # a government's summary report


def test_report_files_paths_and_links():
    report = portal_report(real_truth("luoyang-xigong-2022"), version=2, original=b"%PDF-1.7")
    report.original_filename = "../西工区 2022 年报.PDF"
    files = report_files(report)
    base = f"reports/{report.slug}"
    assert set(files) == {
        f"{base}/index.html",
        f"{base}/v2/index.html",
        f"{base}/v2/data.json",
        f"{base}/v2/data.csv",
        f"{base}/v2/original.pdf",
    }
    assert files[f"{base}/v2/original.pdf"] == b"%PDF-1.7"
    current = _text(files[f"{base}/index.html"])
    version_page = _text(files[f"{base}/v2/index.html"])
    assert 'href="v2/data.csv"' in current and 'href="../../index.html"' in current
    assert 'href="data.csv"' in version_page and 'href="../../../index.html"' in version_page
    for page in (current, version_page):
        links = re.findall(r'href="([^"]+)"', page)
        assert links and all(not link.startswith(("/", "http")) for link in links), links


def test_format_number_is_plain_decimal():
    assert format_number(7730.28) == "7730.28"
    assert format_number(0.0001) == "0.0001"
    assert format_number(1e-05) == "0.00001"
    assert format_number(3) == "3"
    assert format_number(-8) == "-8"
    assert format_number(None) == ""


def test_pre2019_report_has_narrative_and_no_tables():
    truth = real_truth("luoyang-xigong-2022")
    report = portal_report(truth)
    report.report_format = "pre2019"
    report.parsed.report_format = "pre2019"
    report.parsed.cells = {}
    report.parsed.cell_details = {}
    report.parsed.sections = {"1": "概述：本年度主动公开信息 120 条。"}
    html = render_report_page(report)
    assert "概述：本年度主动公开信息 120 条。" in html
    assert "data-key" not in html and '<table class="report-table"' not in html
    assert data_csv(report).decode("utf-8-sig") == ",".join(CSV_COLUMNS) + "\n"


def test_retraction_of_the_current_version_withdraws_the_earlier_ones_too():
    v1 = portal_report(real_truth("luoyang-xigong-2022"), document_id=1, version=1)
    v2 = portal_report(real_truth("luoyang-xigong-2022"), document_id=2, version=2)
    v2.superseded_versions = [v1]
    v2.retraction = Retraction(datetime(2024, 5, 1), "机关申请撤回")
    files = report_files(v2)
    base = f"reports/{v2.slug}"
    assert set(files) == {f"{base}/index.html", f"{base}/v2/index.html", f"{base}/v1/index.html"}
    for page in files.values():
        assert "机关申请撤回" in _text(page) and "data-key" not in _text(page)


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("报告.PDF", "original.pdf"),
        ("a.docx", "original.docx"),
        ("page.html", "original.bin"),  # active content must not be served from the portal's origin
        ("x.svg", "original.bin"),
        ("no extension", "original.bin"),
        ("../../evil.pdf/..", "original.bin"),
    ],
)
def test_original_file_names_are_safe(uploaded, stored):
    assert original_file_name(uploaded) == stored


def test_earlier_version_of_a_renamed_agency_stays_under_the_current_address():
    old_truth = real_truth("luoyang-xigong-2022")
    old_truth["agency"] = "西工区旧城改造办公室"
    v1 = portal_report(old_truth, document_id=1, version=1)
    v2 = portal_report(real_truth("luoyang-xigong-2022"), document_id=2, version=2)
    v2.superseded_versions = [v1]
    files = report_files(v2)
    assert f"reports/{v2.slug}/v1/index.html" in files
    assert all(path.startswith(f"reports/{v2.slug}/") for path in files)


def test_findings_are_listed_and_mark_their_cells():
    report = portal_report(real_truth("huaian-hongze-2023"))
    review = [f"t4_review_{o}" for o in ("upheld", "corrected", "other", "pending", "total")]
    report.findings = [
        Finding(
            "T4-CORRECTED-RATE", "info", "行政复议纠错1件。", "1 review corrected.", ["t4_review_corrected"]
        ),
        Finding(
            "T4-SUM-REVIEW", "error", "行政复议各项之和11≠总计0<b>", "sum 11 != 0", review, "t4_review_total"
        ),
    ]
    report.parsed.parse_findings = [ParseFinding("TBL-HEADER-ALTERED", "表三（六）其他处理为单行")]
    html = render_report_page(report)
    cells = read_cells(html).cells
    assert cells["t4_review_total"]["class"].split() == ["num", "cell-flagged", "flag-error", "cell-culprit"]
    assert "flag-error" in cells["t4_review_corrected"]["class"].split()  # the worst severity wins
    assert "核对 T4-SUM-REVIEW" in cells["t4_review_upheld"]["title"]
    assert "cell-flagged" not in cells["t4_suit_direct_total"]["class"]
    findings = html[html.index('id="findings"') :]
    assert findings.index("T4-SUM-REVIEW") < findings.index("T4-CORRECTED-RATE")  # errors first
    assert 'href="#cell-t4_review_total"' in findings and 'id="cell-t4_review_total"' in html
    assert "≠总计0&lt;b&gt;" in findings
    assert "表三（六）其他处理为单行" in html


def test_times_are_utc_in_data_and_beijing_time_on_the_page():
    report = portal_report(real_truth("luoyang-xigong-2022"), published_at=datetime(2024, 1, 31, 17, 30))
    assert json.loads(data_json(report))["published_at"] == "2024-01-31T17:30:00+00:00"
    assert "2024-02-01 01:30（北京时间）" in render_report_page(report)
