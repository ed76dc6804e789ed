"""Shared fixtures: where the read-only corpus lives and how to compare against truth."""

from __future__ import annotations

import json
from typing import Any

from tests.reference import CORPUS, SHARED_DIR, corpus_bytes, corpus_path

SHARED = SHARED_DIR
__all__ = ["CORPUS", "SHARED", "cell_mismatches", "corpus_file", "load_truth"]


def load_truth(name: str) -> dict[str, Any]:
    return json.loads(corpus_path(f"real/{name}").read_text(encoding="utf-8"))


def corpus_file(relative: str) -> bytes:
    return corpus_bytes(relative)


def cell_mismatches(cells: dict[str, Any], truth_cells: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, expected, got) for every truth cell the parse got wrong (None must stay None)."""
    wrong = []
    for key, expected in truth_cells.items():
        got = cells.get(key, "MISSING")
        if got != expected or (got is None) != (expected is None):
            wrong.append((key, expected, got))
    return wrong
