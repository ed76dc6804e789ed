import csv
import hashlib
import io
import json
import threading
import time
from datetime import date, datetime

import openpyxl
import pytest

from services.publisher import (
    DuplicateReportError,
    Retraction,
    build_portal,
    coverage,
    report_files,
    site_files,
    write_site,
)
from services.publisher.site import report_figures
from services.publisher.write import MANIFEST_KEY, REPORT_MANIFEST
from shared.storage import LocalStore
from tests.publisher.factories import portal_report, real_truth, synthetic_reports
from tests.publisher.htmlcells import read_cells

HONGZE = "淮安市洪泽区人民政府"


def huaian(**kwargs):
    return portal_report(real_truth("huaian-hongze-2023"), government=HONGZE, **kwargs)


def test_second_write_changes_nothing(tmp_path):
    reports = synthetic_reports(25)
    store = LocalStore(tmp_path)
    first = write_site(store, build_portal(reports, as_of=date(2026, 6, 1)))
    assert first.written > 100 and first.unchanged == 0 and first.deleted == 0
    before = {key: store.get(key) for key in store.list()}
    second = write_site(store, build_portal(reports, as_of=date(2026, 6, 1)))
    assert (second.written, second.deleted) == (0, 0)
    assert second.unchanged == first.written
    assert {key: store.get(key) for key in store.list()} == before


class _RecordingStore(LocalStore):
    """Records when each put starts and ends (puts run a few at a time)."""

    def __init__(self, root):
        super().__init__(root)
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def put(self, key, data, content_type="application/octet-stream"):
        with self._lock:
            self.events.append(("start", key))
        time.sleep(0.002)  # long enough for the puts of one depth to overlap
        super().put(key, data, content_type)
        with self._lock:
            self.events.append(("end", key))


def test_pages_are_written_after_every_deeper_file_they_may_link_to(tmp_path):
    store = _RecordingStore(tmp_path)
    files = {f"reports/r{i}/v1/index.html": b"v" for i in range(6)}
    files |= {f"reports/r{i}/index.html": b"c" for i in range(6)} | {"index.html": b"i", "search.html": b"s"}
    write_site(store, files)
    position = {event: n for n, event in enumerate(store.events)}
    for deeper in files:
        for shallower in files:
            if deeper.count("/") > shallower.count("/"):
                assert position[("end", deeper)] < position[("start", shallower)], (deeper, shallower)
    starts = [key for kind, key in store.events if kind == "start" and key.endswith("v1/index.html")]
    first_end = next(n for n, (kind, _) in enumerate(store.events) if kind == "end")
    assert first_end > 1 and len(starts) == 6  # the six deepest were in flight together


def test_write_removes_files_no_longer_produced(tmp_path):
    store = LocalStore(tmp_path)
    write_site(store, {"a.html": b"a", "dir/b.html": b"b"})
    result = write_site(store, {"a.html": b"a2"})
    assert (result.written, result.unchanged, result.deleted) == (1, 0, 1)
    assert sorted(store.list()) == ["a.html", MANIFEST_KEY]
    assert store.get("a.html") == b"a2"
    with pytest.raises(ValueError):
        write_site(store, {MANIFEST_KEY: b"{}"})
    with pytest.raises(ValueError):
        write_site(store, {f"reports/x/{REPORT_MANIFEST}": b"{}"})


def test_supersede_new_version_is_current_old_is_history(tmp_path):
    v1 = huaian(document_id=10, version=1, published_at=datetime(2024, 2, 1, 9, 0))
    v2 = huaian(document_id=11, version=2, published_at=datetime(2024, 3, 5, 9, 0))
    v2.parsed.cells["t2_penalty_decisions"] = 4120  # the correction
    v2.superseded_versions = [v1]
    store = LocalStore(tmp_path)
    write_site(store, build_portal([v1]))
    result = write_site(store, build_portal([v2]))
    assert result.deleted == 0  # v1's files stay reachable
    base = f"reports/{v2.slug}"
    current = store.get(f"{base}/index.html").decode()
    assert read_cells(current).cells["t2_penalty_decisions"]["text"] == "4120"
    assert 'href="v1/index.html"' in current  # history link from the current page
    old = store.get(f"{base}/v1/index.html").decode()
    assert read_cells(old).cells["t2_penalty_decisions"]["text"] == "4119"
    assert 'id="superseded"' in old and 'href="../index.html"' in old
    assert json.loads(store.get(f"{base}/v1/data.json"))["version"] == 1
    assert json.loads(store.get(f"{base}/v2/data.json"))["version"] == 2
    index = store.get("index.html").decode()
    assert index.count(f'href="{base}/index.html"') == 1


def test_retract_keeps_page_with_notice_and_leaves_index(tmp_path):
    report = huaian()
    other = portal_report(real_truth("luoyang-xigong-2022"), document_id=2, government="洛阳市西工区人民政府")
    store = LocalStore(tmp_path)
    write_site(store, build_portal([report, other]))
    base = f"reports/{report.slug}"
    assert base in store.get("index.html").decode()
    report.retraction = Retraction(datetime(2024, 4, 1), "上传了错误的文件")
    result = write_site(store, build_portal([report, other]))
    # data.json, data.csv and the original of the retracted report, and the 2023 open data
    # (it was the only 2023 report).
    assert result.deleted == 5
    assert not store.exists("data/2023.csv") and store.exists("data/2022.csv")
    page = store.get(f"{base}/index.html").decode()
    assert 'id="retraction"' in page and "上传了错误的文件" in page
    assert "data-key" not in page  # no numbers from a withdrawn report
    assert not store.exists(f"{base}/v1/data.json")
    assert base not in store.get("index.html").decode()
    assert HONGZE not in store.get("search-index.json").decode()
    assert "西工区城市改造办公室" in store.get("index.html").decode()


def test_duplicate_current_reports_are_refused():
    with pytest.raises(DuplicateReportError):
        site_files([huaian(document_id=1), huaian(document_id=2)])


def test_coverage_published_late_missing_and_not_due():
    agency_on_time = portal_report(real_truth("luoyang-xigong-2022"), government="洛阳市西工区人民政府")
    agency_on_time.deadline_status = "on_time"
    summary = portal_report(real_truth("huaian-hongze-2023"), government=HONGZE)
    summary.deadline_status = "late"
    expected = {
        "洛阳市西工区人民政府": ["西工區城市改造辦公室", "西工区民政局"],  # listed in traditional script
        HONGZE: ["淮安市洪泽区财政局"],
    }
    after = coverage([agency_on_time, summary], expected, as_of=date(2024, 6, 1))
    statuses = {
        year: {gov: [(row.agency, row.status) for row in rows] for gov, rows in govs.items()}
        for year, govs in after.items()
    }
    assert statuses[2022]["洛阳市西工区人民政府"] == [
        ("洛阳市西工区人民政府", "missing"),
        ("西工區城市改造辦公室", "on_time"),
        ("西工区民政局", "missing"),
    ]
    assert statuses[2023][HONGZE] == [(HONGZE, "late"), ("淮安市洪泽区财政局", "missing")]
    # Before 31 Jan the agencies are not yet due; before 31 Mar neither is the summary.
    early = coverage([summary], expected, as_of=date(2024, 1, 15))
    assert [row.status for row in early[2023][HONGZE]] == ["late", "not_due"]
    early_summary = coverage([agency_on_time], expected, as_of=date(2023, 2, 15))
    assert [row.status for row in early_summary[2022]["洛阳市西工区人民政府"]] == [
        "not_due",
        "on_time",
        "missing",
    ]


def test_coverage_lists_published_agencies_not_on_the_list():
    report = huaian()
    rows = coverage([report], {"别的政府": []}, as_of=date(2025, 1, 1))[2023]
    assert [(row.agency, row.expected) for row in rows[HONGZE]] == [(HONGZE, False)]


def test_statistics_use_summary_or_sum_of_agencies():
    summary = huaian()
    figures = report_figures(summary)
    assert figures["received"] == 21 and figures["other"] == 0  # hybrid: the single 其他处理 row
    assert figures["denied"] == 3 and figures["unable"] == 13
    agency = portal_report(real_truth("luoyang-xigong-2022"), government="洛阳市西工区人民政府")
    agency.parsed.cells["t4_review_total"] = None
    assert report_figures(agency)["reviews"] is None  # unread stays unknown, never 0
    stats = site_files([summary, agency])["stats.html"].decode()
    assert "本级政府汇总报告（淮安市洪泽区人民政府）" in stats
    assert "1 份部门报告之和" in stats
    assert stats.count("<svg") >= 4


def test_open_data_year_files_match_cells():
    reports = synthetic_reports(30)
    files = site_files(reports)
    year = reports[0].year
    of_year = {r.slug: r for r in reports if r.year == year}
    rows = list(csv.DictReader(io.StringIO(files[f"data/{year}.csv"].decode("utf-8-sig"))))
    assert {row["slug"] for row in rows} == set(of_year)
    for row in rows:
        cells = of_year[row["slug"]].parsed.cells
        for key, value in cells.items():
            assert row[key] == ("" if value is None else str(value)), key
    workbook = openpyxl.load_workbook(io.BytesIO(files[f"data/{year}.xlsx"]))
    sheet = workbook[str(year)]
    header = [cell.value for cell in sheet[1]]
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = dict(zip(header, values, strict=True))
        cells = of_year[row["slug"]].parsed.cells
        assert all(row[key] == value for key, value in cells.items())
    assert site_files(reports)[f"data/{year}.xlsx"] == files[f"data/{year}.xlsx"]  # reproducible bytes


def test_search_index_folds_names_and_ships_traditional_map():
    index = json.loads(site_files([huaian()])["search-index.json"])
    assert index["reports"][0]["folded"] == HONGZE
    assert index["t2s"]["澤"] == "泽" and index["t2s"]["區"] == "区"
    assert index["reports"][0]["url"].startswith("reports/2023-")


def test_xlsx_bytes_do_not_depend_on_the_clock(monkeypatch):
    import time

    from services.publisher import opendata

    reports = synthetic_reports(3)
    first = opendata.year_xlsx(reports, 2023)
    real_localtime = time.localtime
    monkeypatch.setattr(time, "localtime", lambda seconds=None: real_localtime(86400 * 400))
    opendata._LAST_WORKBOOK.clear()  # made again, not the one kept
    assert opendata.year_xlsx(reports, 2023) == first


def test_a_year_whose_rows_did_not_change_keeps_its_workbook(monkeypatch):
    from services.publisher import opendata

    reports = synthetic_reports(3)
    first = opendata.year_xlsx(reports, 2023)
    made = []
    real_workbook = opendata._workbook
    monkeypatch.setattr(opendata, "_workbook", lambda *args: made.append(args) or real_workbook(*args))
    assert opendata.year_xlsx(reports, 2023) == first and made == []
    key = next(key for key, value in reports[0].parsed.cells.items() if isinstance(value, int))
    reports[0].parsed.cells[key] += 1
    assert opendata.year_xlsx(reports, 2023) != first and len(made) == 1


def test_agencies_page_shows_each_agency_across_years():
    first = portal_report(real_truth("luoyang-xigong-2022"), government="洛阳市西工区人民政府")
    truth = real_truth("luoyang-xigong-2022")
    truth["year"] = 2024
    later = portal_report(truth, document_id=2, government="洛阳市西工区人民政府")
    page = site_files([first, later])["agencies.html"].decode()
    row = page[page.index("<tr><td>西工区城市改造办公室</td>") :].split("</tr>")[0]
    assert (
        f'href="reports/{first.slug}/index.html"' in row and f'href="reports/{later.slug}/index.html"' in row
    )
    assert row.count("<td></td>") == 1  # 2023: nothing published


def test_coverage_page_names_who_has_not_published():
    report = huaian()
    report.deadline_status = "late"
    expected = {HONGZE: ["淮安市洪泽区财政局"]}
    page = site_files([report], expected, as_of=date(2024, 6, 1))["coverage.html"].decode()
    missing_row = page[page.index('<tr class="status-missing">') :].split("</tr>")[0]
    assert "淮安市洪泽区财政局" in missing_row and "未发布" in missing_row
    late_row = page[page.index('<tr class="status-late">') :].split("</tr>")[0]
    assert f'href="reports/{report.slug}/index.html"' in late_row and "逾期发布" in late_row


def test_damaged_manifest_means_rewrite_everything(tmp_path):
    store = LocalStore(tmp_path)
    write_site(store, {"a.html": b"a"})
    store.put(MANIFEST_KEY, b"{not json")
    assert write_site(store, {"a.html": b"a"}).written == 1
    assert write_site(store, {"a.html": b"a"}).written == 0


def test_partial_write_publishes_one_report_and_leaves_the_others(tmp_path):
    reports = synthetic_reports(6)
    store = LocalStore(tmp_path)
    write_site(store, build_portal(reports))
    untouched = {key: store.get(key) for key in store.list() if key.startswith(f"reports/{reports[1].slug}/")}
    changed = reports[0]
    changed.retraction = Retraction(datetime(2025, 1, 1), "重复上传")
    files = {**site_files(reports), **report_files(changed)}
    result = write_site(store, files, only_reports=[changed.slug])
    # The retracted report's data files, and its year's open data if it was alone in it.
    alone_in_its_year = all(r.year != changed.year for r in reports[1:])
    assert result.deleted == 3 + (2 if alone_in_its_year else 0)
    assert not store.exists(f"reports/{changed.slug}/v1/data.json")
    assert {
        key: store.get(key) for key in store.list() if key.startswith(f"reports/{reports[1].slug}/")
    } == untouched
    assert changed.slug not in store.get("index.html").decode()
    # The manifest still knows every file: a full run afterwards changes nothing.
    assert write_site(store, build_portal(reports)).written == 0
    with pytest.raises(ValueError):
        write_site(store, report_files(reports[1]), only_reports=[changed.slug])


class CountingStore(LocalStore):
    """A local store that remembers which manifests were read and written."""

    def __init__(self, root):
        super().__init__(root)
        self.manifests_read: list[str] = []
        self.manifests_written: list[str] = []

    def get(self, key):
        if key.endswith(MANIFEST_KEY):
            self.manifests_read.append(key)
        return super().get(key)

    def put(self, key, data, content_type="application/octet-stream"):
        if key.endswith(MANIFEST_KEY):
            self.manifests_written.append(key)
        super().put(key, data, content_type)


def test_publishing_a_report_touches_its_own_manifest_only(tmp_path):
    reports = synthetic_reports(12)
    store = CountingStore(tmp_path)
    write_site(store, build_portal(reports))
    store.manifests_read.clear(), store.manifests_written.clear()
    changed = reports[3]
    changed.retraction = Retraction(datetime(2025, 1, 1), "重复上传")
    own = f"reports/{changed.slug}/{REPORT_MANIFEST}"
    write_site(store, report_files(changed), only_reports=[changed.slug], site_pages=False)
    # Its own manifest only: not the site pages', not another report's.
    assert store.manifests_read == [own]
    assert store.manifests_written == [own]
    # Everything stays known: the site refresh and a full run afterwards agree.
    assert write_site(store, site_files(reports), only_reports=[]).written > 0
    assert write_site(store, build_portal(reports)).written == 0


def test_a_first_publication_reads_no_manifest(tmp_path):
    """The publisher knows a series' directory is new (no publication of it yet)."""
    store = CountingStore(tmp_path)
    write_site(store, build_portal(synthetic_reports(3)))
    store.manifests_read.clear(), store.manifests_written.clear()
    fresh = synthetic_reports(4)[3]
    files = report_files(fresh)
    result = write_site(store, files, only_reports=[fresh.slug], site_pages=False, new_reports=[fresh.slug])
    assert store.manifests_read == [] and result.written == len(files)
    assert store.manifests_written == [f"reports/{fresh.slug}/{REPORT_MANIFEST}"]
    assert write_site(store, files, only_reports=[fresh.slug], site_pages=False).written == 0


def test_a_store_with_one_manifest_of_everything_is_split_once(tmp_path):
    reports = synthetic_reports(4)
    store = LocalStore(tmp_path)
    files = build_portal(reports)
    write_site(store, files)
    # As an older release left it: every path in manifest.json, no report manifests.
    everything = {}
    for key in list(store.list()):
        if key == MANIFEST_KEY or key.endswith(REPORT_MANIFEST):
            everything |= json.loads(store.get(key))["files"]
            store.delete(key)
    store.put(MANIFEST_KEY, json.dumps({"files": everything}).encode())
    assert write_site(store, files).written == 0
    shards = [key for key in store.list() if key.endswith(REPORT_MANIFEST)]
    assert len(shards) == len(reports)
    site = json.loads(store.get(MANIFEST_KEY))["files"]
    assert not any(path.startswith("reports/") and path.count("/") >= 2 for path in site)


def test_a_report_rewritten_before_the_split_loses_its_stale_files_at_the_split(tmp_path):
    """A publish reads its own manifest only; in a store of an older release the report's
    old files are listed in the site pages' manifest alone, so the split removes those
    that the report's new manifest no longer names."""
    store = LocalStore(tmp_path)
    old_release = {"index.html": b"i", "reports/a/index.html": b"a", "reports/a/v1/data.csv": b"c"}
    for path, data in old_release.items():
        store.put(path, data)
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in old_release.items()}
    store.put(MANIFEST_KEY, json.dumps({"files": digests}).encode())
    write_site(store, {"reports/a/index.html": b"a2"}, only_reports=["a"], site_pages=False)
    assert store.exists("reports/a/v1/data.csv")  # not known to the report's own run
    write_site(store, {"index.html": b"i"}, only_reports=[])
    assert not store.exists("reports/a/v1/data.csv") and store.get("reports/a/index.html") == b"a2"
    assert json.loads(store.get(MANIFEST_KEY))["files"] == {"index.html": digests["index.html"]}
    assert write_site(store, {"index.html": b"i", "reports/a/index.html": b"a2"}).written == 0


def test_coverage_shows_the_current_reporting_year_before_anyone_published():
    rows = coverage([], {"某县人民政府": ["某县民政局"]}, as_of=date(2026, 2, 10))
    assert list(rows) == [2025]
    assert [(row.agency, row.status) for row in rows[2025]["某县人民政府"]] == [
        ("某县人民政府", "not_due"),  # summary reports are due 31 March
        ("某县民政局", "missing"),  # agencies were due 31 January
    ]


def test_summary_reports_without_a_recorded_government_are_listed_under_their_own_name():
    summary = portal_report(real_truth("huaian-hongze-2023"))  # government=None
    agency = portal_report(real_truth("luoyang-xigong-2022"), document_id=2)  # government=None
    files = site_files([summary, agency])
    index = files["index.html"].decode()
    assert f"<h3>{HONGZE}（1 份）</h3>" in index and "<h3>（未注明所属政府）（1 份）</h3>" in index
    assert f"本级政府汇总报告（{HONGZE}）" in files["stats.html"].decode()


def test_reports_without_a_government_are_placed_by_the_expected_lists():
    agency = portal_report(real_truth("luoyang-xigong-2022"))  # government=None
    expected = {"洛阳市西工区人民政府": ["西工區城市改造辦公室"]}
    index = site_files([agency], expected, as_of=date(2024, 6, 1))["index.html"].decode()
    assert "<h3>洛阳市西工区人民政府（1 份）</h3>" in index
    assert agency.government is None  # the input is not modified
