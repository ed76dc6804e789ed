"""Mirror a set of portal files into an object store, touching only what changed.

The store keeps a manifest (path → SHA-256 of the content) written after every run, so
a run with the same files writes nothing, and a file that is no longer produced (a
report removed from the index, a year without reports) is deleted. Pages deeper in the
tree are written before the top-level pages that link to them, and deletions come last,
so a visitor never follows a fresh link to a missing page.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from shared.storage import ObjectNotFound, ObjectStore

MANIFEST_KEY = "manifest.json"
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


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(store: ObjectStore) -> dict[str, str]:
    try:
        manifest = json.loads(store.get(MANIFEST_KEY))
    except ObjectNotFound:
        return {}
    except ValueError:  # damaged: rewrite everything rather than trust it
        return {}
    return {str(path): str(digest) for path, digest in manifest.get("files", {}).items()}


def _write_order(path: str) -> tuple[int, str]:
    return (-path.count("/"), path)  # deepest first: targets before the pages linking to them


def write_site(
    store: ObjectStore,
    files: Mapping[str, bytes],
    *,
    only_reports: Collection[str] | None = None,
    site_pages: bool = True,
) -> WriteResult:
    """Make the store hold exactly `files` (plus the manifest); idempotent.

    `only_reports` (report slugs) makes the run partial, for publishing one report without
    re-rendering all others: it then covers the site pages (everything outside
    `reports/`) and the directories of these reports only; every other report's files are
    left as they are. Pass `site_files(...)` plus `report_files(...)` of those reports.
    `site_pages=False` narrows it to those reports' directories (the site pages are then
    rebuilt by a later run with `only_reports=[]`).
    """
    if MANIFEST_KEY in files:
        raise ValueError(f"{MANIFEST_KEY} is reserved for the publisher's manifest")
    in_scope = _scope(only_reports, site_pages)
    stray = [path for path in files if not in_scope(path)]
    if stray:
        raise ValueError(f"files outside the reports being written: {stray[:3]}")
    previous = read_manifest(store)
    current = {path: _digest(data) for path, data in files.items()}
    changed = [path for path in current if previous.get(path) != current[path]]
    for path in sorted(changed, key=_write_order):
        store.put(path, files[path], content_type_for(path))
    removed = sorted(path for path in previous if path not in current and in_scope(path))
    for path in removed:
        store.delete(path)
    if changed or removed:
        kept = {path: digest for path, digest in previous.items() if not in_scope(path)}
        manifest = {"files": dict(sorted({**kept, **current}.items()))}
        store.put(MANIFEST_KEY, json.dumps(manifest, indent=0).encode("utf-8"), "application/json")
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
