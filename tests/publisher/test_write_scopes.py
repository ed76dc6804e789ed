"""write_site's partial scopes (a report alone, then the site pages alone), and uploads
copied into the portal by the store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from services.publisher.model import PortalFile, StoredFile
from services.publisher.write import write_site
from shared.storage import LocalStore, raw_key


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


def test_an_upload_is_copied_from_its_store_and_known_by_its_digest(tmp_path: Path) -> None:
    raw, portal = LocalStore(tmp_path / "raw"), LocalStore(tmp_path / "portal")
    upload = b"%PDF-1.7 the upload"
    digest = hashlib.sha256(upload).hexdigest()
    raw.put(raw_key(digest), upload)
    files: dict[str, PortalFile] = {
        "reports/a/index.html": b"page",
        "reports/a/v1/original.pdf": StoredFile(raw_key(digest), digest),
    }
    assert write_site(portal, files, only_reports=["a"], site_pages=False, stored_in=raw).written == 2
    assert portal.get("reports/a/v1/original.pdf") == upload
    # The same content given as bytes (as a release before copies wrote it) is the same file.
    as_bytes = files | {"reports/a/v1/original.pdf": upload}
    assert write_site(portal, as_bytes, only_reports=["a"], site_pages=False).written == 0
    with pytest.raises(ValueError, match="no store to copy from"):
        write_site(LocalStore(tmp_path / "elsewhere"), files, only_reports=["a"])
