"""Shared fixtures: where the read-only corpus lives and how to compare against truth."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(os.environ.get("NIANBAO_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
CORPUS = SHARED / "corpus"


def load_truth(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / "real" / name).read_text(encoding="utf-8"))


def corpus_file(relative: str) -> bytes:
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"corpus file {path} not available")
    return path.read_bytes()


def cell_mismatches(cells: dict[str, Any], truth_cells: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, expected, got) for every truth cell the parse got wrong (None must stay None)."""
    wrong = []
    for key, expected in truth_cells.items():
        got = cells.get(key, "MISSING")
        if got != expected or (got is None) != (expected is None):
            wrong.append((key, expected, got))
    return wrong
