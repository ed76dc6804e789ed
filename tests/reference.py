"""Where the read-only reference material (the corpus of real reports and truths) lives:
`shared/` beside the repository, or NIANBAO_SHARED_DIR. Every test that needs it goes
through here, so that in a clone without it those tests skip with one line saying what
is missing and all others still run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("NIANBAO_SHARED_DIR") or REPO.parent / "shared")
CORPUS = SHARED_DIR / "corpus"


def missing(path: Path) -> str:
    return f"reference corpus file {path} is missing (put shared/ beside the repo or set NIANBAO_SHARED_DIR)"


def corpus_path(relative: str | Path) -> Path:
    """The path of a corpus file; skips the calling test when it is not there."""
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(missing(path))
    return path


def corpus_bytes(relative: str | Path) -> bytes:
    return corpus_path(relative).read_bytes()


def needs_corpus(*relatives: str) -> pytest.MarkDecorator:
    """Mark: skip unless these corpus files (default: the corpus folder) exist."""
    paths = [CORPUS / r for r in relatives] or [CORPUS]
    absent = [p for p in paths if not p.exists()]
    return pytest.mark.skipif(bool(absent), reason=missing(absent[0]) if absent else "")
