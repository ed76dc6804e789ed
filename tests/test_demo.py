"""The README's first command: the embedded demo (SQLite, a storage directory, a real
Celery worker on kombu's filesystem transport) processes the samples end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.stack import free_port


def test_demo_processes_every_sample_and_fills_the_portal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo", "--exit", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "published" in out and "rejected" in out and "no_report_found" in out
    assert "Portal:" in out and "/docs" in out
    portal = tmp_path / "var" / "demo" / "storage" / "nianbao-portal"
    pages = list((portal / "reports").glob("*/index.html"))
    assert len(pages) >= 6, sorted(p.name for p in portal.rglob("*"))[:20]
    assert (portal / "index.html").is_file() and (portal / "coverage.html").is_file()
    # The samples' verdicts: a report with a broken sum is rejected, a meeting note fails.
    assert out.count("published") >= 6
