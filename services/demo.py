"""The embedded demo: every service of the compose deployment, started as local
processes over SQLite, a storage directory and kombu's filesystem broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_REGISTRY = SAMPLES_DIR.parent / "samples-registry.csv"


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def _wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not become healthy at {url}")


def _approve_for_the_portal(api_url: str, ops_token: str, reviewer_token: str, documents: list[dict]) -> list[dict]:
    """Approve `needs_review` reports so the portal has something to show."""
    from services.client import wait_for_documents

    waiting = [d["id"] for d in documents if d["status"] == "needs_review"]
    for doc_id in waiting:
        httpx.post(
            f"{api_url}/api/v1/documents/{doc_id}/approve",
            headers={"Authorization": f"Bearer {reviewer_token}"},
            json={"reason": "demo: warnings read and accepted"},
            timeout=30,
        ).raise_for_status()
    return wait_for_documents(api_url, ops_token, waiting, timeout=300) if waiting else []


def _wait_for_site_pages(timeout: float = 60) -> None:
    """The index and other site pages are rebuilt a moment after the last publication."""
    from shared.db import session_scope
    from shared.models import PortalState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            state = session.get(PortalState, 1)
            if state is None or state.built_seq >= state.dirty_seq:
                return
        time.sleep(0.5)


def run_demo(*, port: int, keep_running: bool, data_dir: Path = Path("var/demo")) -> int:
    console = Console()
    shutil.rmtree(data_dir, ignore_errors=True)  # a demo starts from nothing, every time
    data_dir.mkdir(parents=True)
    api_url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "NIANBAO_DATA_DIR": str(data_dir.resolve()),
        "NIANBAO_API_URL": api_url,
        "NIANBAO_PORTAL_URL": f"{api_url}/portal/",
        "NIANBAO_STORAGE_BACKEND": "local",
        "NIANBAO_BROKER_URL": "filesystem://",
        # The demo serves plain http on 127.0.0.1: Chromium keeps Secure cookies there, but
        # not every browser does (Safari does not), so the desk's cookie is not Secure here.
        "NIANBAO_WEB_COOKIE_SECURE": "false",
    }
    env.pop("NIANBAO_DATABASE_URL", None)
    os.environ.update(env)
    from services.agencies import import_registry, read_registry_csv
    from services.client import collect_files, print_results, upload_files, wait_for_documents
    from services.ingest.auth import Role, create_token
    from services.ingest.web.session import create_signin_link, token_by_secret
    from shared.db import session_scope, upgrade_schema
    from shared.settings import get_settings

    upgrade_schema()
    with session_scope() as session:
        if SAMPLE_REGISTRY.is_file():  # who reports to whom: fills the coverage page
            import_registry(session, read_registry_csv(SAMPLE_REGISTRY.read_text(encoding="utf-8")))
        ops_token = create_token(session, Role.ops, label="demo")
        reviewer_token = create_token(session, Role.reviewer, label="demo reviewer")
        session.flush()
        ops_row = token_by_secret(session, ops_token)
        assert ops_row is not None and ops_row.id is not None
        desk_link = create_signin_link(session, ops_row.id, get_settings())
    logs = data_dir / "logs"
    logs.mkdir()
    processes = [
        _start(["serve", "--port", str(port)], env, logs / "api.log"),
        _start(["worker", "--queues", "parse,validate", "--concurrency", "2"], env, logs / "worker.log"),
        # One publisher, as in compose: the portal is one consistent site written in turn.
        _start(["worker", "--queues", "publish", "--concurrency", "1"], env, logs / "publisher.log"),
        _start(["sweeper", "--interval", "2"], env, logs / "sweeper.log"),
    ]
    try:
        _wait_healthy(f"{api_url}/healthz")
        files = collect_files([SAMPLES_DIR])
        console.print(f"Uploading {len(files)} sample reports from {SAMPLES_DIR} …")
        documents = upload_files(api_url, ops_token, files, agency=None, year=None)
        documents = wait_for_documents(api_url, ops_token, [d["id"] for d in documents], timeout=300)
        print_results(documents)
        documents = _approve_for_the_portal(api_url, ops_token, reviewer_token, documents)
        if documents:
            console.print("\nAs a reviewer would, the demo approves the reports that only carry warnings:")
            print_results(documents)
        _wait_for_site_pages()
        console.print(f"\nPortal:  {api_url}/portal/\nAPI:     {api_url}/docs\nToken (ops): {ops_token}")
        console.print(f"Season desk: {api_url}/desk (sign in with the token, or once with {desk_link})")
        console.print(f"Logs:    {logs}")
        if keep_running:
            console.print("Press Ctrl+C to stop.")
            while all(p.poll() is None for p in processes):
                time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
