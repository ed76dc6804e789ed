"""The history line a reprocess writes: what the new parse and findings change."""

from __future__ import annotations

from services.ops.reprocess import describe_changes
from shared.models import Document, Status


def _doc(**fields: object) -> Document:
    base: dict[str, object] = {
        "upload_id": "u",
        "filename": "f",
        "size": 1,
        "sha256": "s",
        "storage_key": "k",
    }
    return Document(**(base | fields))  # type: ignore[arg-type]


def test_changes_are_counted_and_named() -> None:
    old = _doc(
        status=Status.published,
        parser_version="0.2.0",
        agency="甲局",
        year=2023,
        parsed={"cells": {"a": 1, "b": 2, "c": None}},
        findings=[{"rule": "T3-SUM", "severity": "error"}, {"rule": "NARR-APPS", "severity": "warning"}],
    )
    new = _doc(
        status=Status.published,
        parser_version="0.3.0",
        agency="甲局",
        year=2024,
        parsed={"cells": {"a": 1, "b": 3, "c": 0}},
        findings=[{"rule": "NARR-APPS", "severity": "warning"}],
    )
    assert describe_changes(old, new, Status.approved) == (
        "reprocessed: parser 0.2.0 → 0.3.0; 2 cells changed (b, c); findings 2 → 1; gone: T3-SUM/error; "
        "the verdict would now be approved; status kept at published; the new parse reads year 2024 (kept 2023)"
    )


def test_nothing_changed() -> None:
    doc = _doc(status=Status.needs_review, parser_version="0.3.0", parsed={"cells": {"a": 1}}, findings=[])
    assert describe_changes(doc, doc, Status.needs_review) == (
        "reprocessed: parser 0.3.0 → 0.3.0; 0 cells changed; findings 0 → 0"
    )
