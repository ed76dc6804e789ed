"""A small HTTP client of the ingest API, used by the CLI (and the demo)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

SETTLED = {"needs_review", "rejected", "published", "failed", "superseded"}
BATCH_FILES = 20


class ApiClient:
    def __init__(self, base_url: str, token: str, timeout: float = 60.0) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    def upload(self, files: list[Path], *, agency: str | None, year: int | None) -> dict[str, Any]:
        form = {k: str(v) for k, v in (("agency", agency), ("year", year)) if v is not None}
        parts = [("files", (f.name, f.read_bytes())) for f in files]
        response = self.http.post("/api/v1/uploads", files=parts, data=form)
        response.raise_for_status()
        return response.json()

    def document(self, document_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/documents/{document_id}")
        response.raise_for_status()
        return response.json()


def collect_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
    return files


def upload_files(
    base_url: str, token: str, files: list[Path], *, agency: str | None, year: int | None
) -> list[dict[str, Any]]:
    client = ApiClient(base_url, token)
    documents: list[dict[str, Any]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("uploading", total=len(files))
        for start in range(0, len(files), BATCH_FILES):
            batch = files[start : start + BATCH_FILES]
            documents.extend(client.upload(batch, agency=agency, year=year)["documents"])
            progress.advance(task, len(batch))
    return documents


def wait_for_documents(
    base_url: str, token: str, ids: list[int], timeout: float = 600.0
) -> list[dict[str, Any]]:
    client = ApiClient(base_url, token)
    latest: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with Progress(transient=True) as progress:
        task = progress.add_task("processing", total=len(ids))
        while time.monotonic() < deadline:
            for doc_id in ids:
                if doc_id not in latest or latest[doc_id]["status"] not in SETTLED:
                    latest[doc_id] = client.document(doc_id)
            done = sum(d["status"] in SETTLED for d in latest.values())
            progress.update(task, completed=done)
            if done == len(ids):
                break
            time.sleep(0.5)
    return [latest[i] for i in ids]


def _verdict(doc: dict[str, Any]) -> str:
    if doc.get("error"):
        return str(doc["error"])[:120]
    findings = doc.get("findings") or []
    errors = [f["rule"] for f in findings if f["severity"] == "error"]
    warnings = [f["rule"] for f in findings if f["severity"] == "warning"]
    if doc.get("duplicate_of"):
        return f"duplicate of #{doc['duplicate_of']}"
    parts = []
    if errors:
        parts.append(f"{len(errors)} errors: " + ", ".join(errors[:3]) + (" …" if len(errors) > 3 else ""))
    if warnings:
        parts.append(
            f"{len(warnings)} warnings: " + ", ".join(warnings[:3]) + (" …" if len(warnings) > 3 else "")
        )
    return "; ".join(parts) or "no findings"


def print_results(documents: list[dict[str, Any]]) -> None:
    table = Table("id", "file", "agency", "year", "status", "why", expand=True)
    for doc in documents:
        table.add_row(
            str(doc["id"]),
            doc["filename"],
            doc.get("agency") or "",
            str(doc.get("year") or ""),
            doc["status"],
            _verdict(doc),
        )
    Console(width=max(140, Console().width)).print(table)


def print_document(doc: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]#{doc['id']}[/] {doc['filename']} — {doc['status']}  ({doc.get('submission_no')})")
    console.print(
        f"agency {doc.get('agency')}, year {doc.get('year')}, format {doc.get('report_format')}, version {doc.get('version')}"
    )
    history = Table("at", "status", "stage", "attempt", "detail")
    for event in doc.get("history", []):
        history.add_row(
            event["at"], event["status"], event["stage"] or "", str(event["attempt"]), event["detail"]
        )
    console.print(history)
    findings = Table("rule", "severity", "message", "cells")
    for finding in doc.get("findings") or []:
        findings.add_row(
            finding["rule"], finding["severity"], finding["message_zh"], ", ".join(finding["cells"][:4])
        )
    console.print(findings)
