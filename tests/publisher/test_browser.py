"""The portal as a visitor's browser sees it: headless Chromium over a local static server.

The store is served under /portal/ to show that every link works under a URL prefix.
"""

import random
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urljoin

import httpx
import pytest

from services.publisher import PortalReport, build_portal, write_site
from services.publisher.render import NULL_CELL_TEXT, format_number
from shared.storage import LocalStore
from tests.chromium import CHROMIUM, HEADLESS_FLAGS
from tests.corpus.truth import random_truth
from tests.publisher.factories import portal_report, real_truth
from tests.publisher.htmlcells import read_cells

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium) is not installed"
)

ATTACK = (
    "正文<script>document.documentElement.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">结束"
)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, PortalReport]]]:
    root = tmp_path_factory.mktemp("www")
    hybrid = portal_report(real_truth("huaian-hongze-2023"), document_id=1, government="淮安市洪泽区人民政府")
    v2019 = portal_report(
        random_truth(random.Random(19), report_format="v2019"), document_id=2, government="某市人民政府"
    )
    attacked = portal_report(
        real_truth("luoyang-xigong-2022"), document_id=3, government="洛阳市西工区人民政府"
    )
    attacked.parsed.sections["1"] = ATTACK
    attacked.parsed.cells["t2_rules_in_force"] = None  # unread: must show as such, not as 0
    reports = {"hybrid": hybrid, "v2019": v2019, "attacked": attacked}
    write_site(LocalStore(root / "portal"), build_portal(list(reports.values())))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/portal/", reports
    finally:
        server.shutdown()
        server.server_close()


def dump_dom(url: str, *, wait_ms: int = 3000) -> str:
    """The DOM after load (and after scripts had `wait_ms` of virtual time), as Chromium serialises it."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            str(CHROMIUM),
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={wait_ms}",
            "--dump-dom",
            url,
        ]
        result = subprocess.run(command, capture_output=True, timeout=90, check=True)
    return result.stdout.decode("utf-8")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text = ""
        self.html_attributes: dict[str, str | None] = {}
        self.narratives: list[str] = []
        self._in_narrative = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_attributes = attributes
        if tag == "a" and attributes.get("href"):
            self._href, self._text = attributes["href"], ""
        if tag == "div" and attributes.get("class") == "narrative":
            self._in_narrative = True
            self.narratives.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text))
            self._href = None
        if tag == "div":
            self._in_narrative = False

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data
        if self._in_narrative:
            self.narratives[-1] += data


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def expected_text(report: PortalReport, key: str) -> str:
    value = report.parsed.cells[key]
    detail = report.parsed.cell_details.get(key)
    if value is None:
        return NULL_CELL_TEXT
    if detail is not None and detail.marker is not None:
        return detail.raw.strip()
    return format_number(value)


@pytest.mark.parametrize("name", ["hybrid", "v2019"])
def test_index_lists_the_report_and_its_page_shows_the_input_numbers(portal, name):
    base, reports = portal
    report = reports[name]
    index = parse(dump_dom(base + "index.html"))
    hrefs = [href for href, text in index.links if text.strip() == report.agency]
    assert hrefs == [f"reports/{report.slug}/index.html"]
    page = dump_dom(urljoin(base + "index.html", hrefs[0]))  # follow the link as a browser would
    shown = read_cells(page).cells
    printed = [key for key in report.parsed.cells if key in shown]
    assert len(printed) >= 186
    for key in printed:
        assert shown[key]["text"] == expected_text(report, key), key
    links = {text.strip(): href for href, text in parse(page).links}
    data_csv = httpx.get(urljoin(base + hrefs[0], links["数据 CSV"]))  # the relative link resolves
    assert data_csv.status_code == 200 and "t3_new_received__total" in data_csv.text


def test_narrative_markup_shows_as_text_and_does_not_run(portal):
    base, reports = portal
    report = reports["attacked"]
    page = dump_dom(base + f"reports/{report.slug}/index.html")
    document = parse(page)
    assert "data-pwned" not in document.html_attributes  # neither the script nor onerror ran
    assert document.narratives[0] == ATTACK  # the visitor reads the markup as text
    assert read_cells(page).cells["t2_rules_in_force"]["text"] == NULL_CELL_TEXT


def test_search_folds_traditional_script_and_full_width_spaces(portal):
    base, reports = portal
    report = reports["hybrid"]
    page = dump_dom(base + "search.html?q=" + quote("洪澤區\u3000人民政府"))
    hits = [(href, text) for href, text in parse(page).links if href.startswith("reports/")]
    assert hits == [(f"reports/{report.slug}/index.html", report.agency)]
    assert "找到 1 份报告" in page
