"""write_site's partial scopes: a report alone, then the site pages alone."""

from __future__ import annotations

from pathlib import Path

from services.publisher.write import write_site
from shared.storage import LocalStore


def test_report_only_and_site_only_runs_leave_each_other_alone(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    write_site(store, {"index.html": b"v1", "reports/a/index.html": b"a", "reports/b/index.html": b"b"})
    result = write_site(store, {"reports/a/index.html": b"a2"}, only_reports=["a"], site_pages=False)
    assert (result.written, result.deleted) == (1, 0)
    assert store.get("index.html") == b"v1" and store.get("reports/b/index.html") == b"b"
    result = write_site(store, {"index.html": b"v2", "stats.html": b"s"}, only_reports=[])
    assert (result.written, result.deleted) == (2, 0)
    assert store.get("reports/a/index.html") == b"a2"
    result = write_site(store, {"index.html": b"v2"}, only_reports=[])
    assert (result.written, result.deleted) == (0, 1) and not store.exists("stats.html")
