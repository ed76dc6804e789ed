"""Mirror a set of portal files into an object store, touching only what changed.

The store keeps manifests (path → SHA-256 of the content) written after every run, so
a run with the same files writes nothing, and a file that is no longer produced (a
report removed from the index, a year without reports) is deleted. One manifest per
report directory (`reports/<slug>/.manifest.json`) and one for the site pages
(`manifest.json`): publishing a report reads and writes its own, so its cost does not
grow with the archive. Pages deeper in the tree are written before the top-level pages
that link to them, and deletions come last, so a visitor never follows a fresh link to a
missing page.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.publisher.model import PortalFile, StoredFile
from shared.storage import ObjectNotFound, ObjectStore

MANIFEST_KEY = "manifest.json"  # the site pages' manifest (every file outside a report directory)
REPORT_MANIFEST = ".manifest.json"  # each report directory's own
PARALLEL_WRITES = 8  # store requests in flight at once (the S3 client's pool holds 10)
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class WriteResult:
    written: int
    unchanged: int
    deleted: int


def content_type_for(path: str) -> str:
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _digest(file: PortalFile) -> str:
    return file.sha256 if isinstance(file, StoredFile) else hashlib.sha256(file).hexdigest()


def _manifest_key(area: str | None) -> str:
    """Where the manifest of an area lives: None is the site pages, a slug a report directory."""
    return MANIFEST_KEY if area is None else f"reports/{area}/{REPORT_MANIFEST}"


def _area_of(path: str) -> str | None:
    parts = path.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "reports" else None


def read_manifest(store: ObjectStore, area: str | None = None) -> dict[str, str]:
    try:
        manifest = json.loads(store.get(_manifest_key(area)))
    except ObjectNotFound:
        return {}
    except ValueError:  # damaged: rewrite everything rather than trust it
        return {}
    return {str(path): str(digest) for path, digest in manifest.get("files", {}).items()}


def _write_manifest(store: ObjectStore, area: str | None, entries: Mapping[str, str]) -> None:
    key = _manifest_key(area)
    if not entries and area is not None:
        store.delete(key)
        return
    manifest = {"files": dict(sorted(entries.items()))}
    store.put(key, json.dumps(manifest, indent=0).encode("utf-8"), "application/json")


def _site_manifest(store: ObjectStore) -> dict[str, str]:
    """The site pages' manifest. Stores written before the manifest was split hold every
    path in it: each report directory gets its own manifest here, once. A directory that
    has one already was rewritten since (a report-only run does not read this manifest):
    its old paths that the new manifest lacks are files no longer produced, and go."""
    entries = read_manifest(store)
    by_area: dict[str | None, dict[str, str]] = {}
    for path, digest in entries.items():
        by_area.setdefault(_area_of(path), {})[path] = digest
    site = by_area.pop(None, {})
    if by_area:
        for area, area_entries in by_area.items():
            if not store.exists(_manifest_key(area)):
                _write_manifest(store, area, area_entries)
                continue
            kept = read_manifest(store, area)
            _in_parallel(store.delete, sorted(path for path in area_entries if path not in kept))
        _write_manifest(store, None, site)
    return site


def _areas(store: ObjectStore, only_reports: Collection[str] | None, site_pages: bool) -> list[str | None]:
    """The manifests a run must read: its report directories (every one on a full run) and,
    unless it writes report directories only, the site pages'."""
    if only_reports is not None:
        return [*(([None]) if site_pages else []), *sorted(set(only_reports))]
    suffix = f"/{REPORT_MANIFEST}"
    slugs = {key.split("/")[1] for key in store.list("reports/") if key.endswith(suffix)}
    return [None, *sorted(slugs)]


def _by_depth(paths: Collection[str]) -> list[list[str]]:
    """The paths grouped by depth, deepest first: targets before the pages linking to them."""
    groups: dict[int, list[str]] = {}
    for path in sorted(paths):
        groups.setdefault(path.count("/"), []).append(path)
    return [groups[depth] for depth in sorted(groups, reverse=True)]


def _in_parallel(action: Callable[[str], None], paths: list[str]) -> None:
    """Run `action` on every path, a few at a time: each is a round trip to the store, and
    a publish holds its report series' turn (and a publish process) while it waits."""
    if len(paths) <= 1:
        for path in paths:
            action(path)
        return
    for _ in _writers().map(action, paths):  # re-raises the first failure
        pass


_writer_pool: tuple[int, ThreadPoolExecutor] | None = None
_writer_pool_lock = threading.Lock()


def _writers() -> ThreadPoolExecutor:
    """The process's writer threads, kept between runs: starting and joining threads for
    every publication cost ≈ 1 ms of CPU (0.1 ms with threads kept). Made anew in a forked
    process (the parent's threads do not exist there); the runs do not nest, so sharing the
    threads among concurrent runs cannot deadlock."""
    global _writer_pool
    with _writer_pool_lock:
        if _writer_pool is None or _writer_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(max_workers=PARALLEL_WRITES, thread_name_prefix="portal-write")
            _writer_pool = (os.getpid(), pool)
        return _writer_pool[1]


def write_site(
    store: ObjectStore,
    files: Mapping[str, PortalFile],
    *,
    only_reports: Collection[str] | None = None,
    site_pages: bool = True,
    stored_in: ObjectStore | None = None,
    new_reports: Collection[str] = (),
) -> WriteResult:
    """Make the store hold exactly `files` (plus the manifest); idempotent.

    A `StoredFile` among `files` is copied from `stored_in` (the uploads' store).
    `new_reports`: report slugs whose directories the caller knows were never written
    (the database holds no publication of the series): their manifests are not read, a
    request less for each first publication.

    `only_reports` (report slugs) makes the run partial, for publishing one report without
    re-rendering all others: it then covers the site pages (everything outside
    `reports/`) and the directories of these reports only; every other report's files are
    left as they are. Pass `site_files(...)` plus `report_files(...)` of those reports.
    `site_pages=False` narrows it to those reports' directories (the site pages are then
    rebuilt by a later run with `only_reports=[]`).
    """
    reserved = [path for path in files if path == MANIFEST_KEY or path.endswith(f"/{REPORT_MANIFEST}")]
    if reserved:
        raise ValueError(f"{reserved[0]} is reserved for the publisher's manifests")
    in_scope = _scope(only_reports, site_pages)
    stray = [path for path in files if not in_scope(path)]
    if stray:
        raise ValueError(f"files outside the reports being written: {stray[:3]}")
    # A report-only run (each publish) leaves the site pages' manifest unread: one request
    # less per publication.
    site = _site_manifest(store) if only_reports is None or site_pages else {}
    areas = _areas(store, only_reports, site_pages)
    before = {
        area: site if area is None else {} if area in new_reports else read_manifest(store, area)
        for area in areas
    }
    previous = {path: digest for entries in before.values() for path, digest in entries.items()}
    current = {path: _digest(data) for path, data in files.items()}
    changed = [path for path in current if previous.get(path) != current[path]]

    def put(path: str) -> None:
        file = files[path]
        if isinstance(file, StoredFile):
            if stored_in is None:
                raise ValueError(f"{path} is a copy of {file.key}, but no store to copy from was given")
            store.copy_from(stored_in, file.key, path, content_type_for(path))
        else:
            store.put(path, file, content_type_for(path))

    for depth in _by_depth(changed):
        _in_parallel(put, depth)
    removed = sorted(path for path in previous if path not in current and in_scope(path))
    _in_parallel(store.delete, removed)
    after: dict[str | None, dict[str, str]] = {area: {} for area in areas}
    for path, digest in current.items():
        after.setdefault(_area_of(path), {})[path] = digest
    for area, entries in after.items():
        if entries != before.get(area, {}):
            _write_manifest(store, area, entries)
    return WriteResult(written=len(changed), unchanged=len(current) - len(changed), deleted=len(removed))


def _scope(only_reports: Collection[str] | None, site_pages: bool = True) -> Callable[[str], bool]:
    """Which paths a run is responsible for: all, or some reports with or without the site
    pages (everything outside `reports/`)."""
    if only_reports is None:
        return lambda path: True
    prefixes = tuple(f"reports/{slug}/" for slug in only_reports)
    if not site_pages:
        return lambda path: path.startswith(prefixes)
    return lambda path: not path.startswith("reports/") or path.startswith(prefixes)
