"""``nianbao``: run the services, upload files, follow them, and use the parser and
validator directly on a file."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from services.ops.cli import ops_app

app = typer.Typer(
    help="nianbao — read, check, track and publish 政府信息公开工作年度报告.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
agencies_app = typer.Typer(
    help="The agency registry (who reports to which government) and name aliases.", no_args_is_help=True
)
app.add_typer(agencies_app, name="agencies")


@agencies_app.command("import")
def agencies_import(file: Annotated[Path, typer.Argument(help="CSV with columns government,agency")]) -> None:
    """Register member agencies of governments (for coverage and summary checks)."""
    from services.agencies import import_registry, read_registry_csv
    from shared.db import session_scope, upgrade_schema

    upgrade_schema()
    with session_scope() as session:
        count = import_registry(session, read_registry_csv(file.read_text(encoding="utf-8-sig")))
    typer.echo(f"{count} agencies registered")


@agencies_app.command("alias")
def agencies_alias(old: str, current: str) -> None:
    """Treat OLD (e.g. a name before 机构改革) as the agency now called CURRENT."""
    from services.agencies import set_alias
    from shared.db import session_scope, upgrade_schema

    upgrade_schema()
    with session_scope() as session:
        set_alias(session, old, current)
    typer.echo(f"{old} → {current}")


@agencies_app.command("list")
def agencies_list() -> None:
    """Print the registry, government by government."""
    from services.agencies import expected_by_government
    from shared.db import session_scope

    with session_scope() as session:
        for government, members in expected_by_government(session).items():
            typer.echo(f"{government}: {'、'.join(members)}")


app.add_typer(ops_app, name="ops")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations (idempotent)."""
    from shared.db import upgrade_schema

    upgrade_schema()
    typer.echo("database schema is up to date")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="uploader | reviewer | publisher | ops")],
    agency: Annotated[
        list[str] | None, typer.Option(help="Agency an uploader may submit for (repeatable)")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Who or what the token is for")] = None,
    expires_in: Annotated[
        str | None, typer.Option(help="Valid for this long, e.g. 90d, 12h, 30m (default: until revoked)")
    ] = None,
) -> None:
    """Create a token and print it (only its hash is stored: keep it now), and on stderr a
    one-time link that signs a browser in to the season desk with it."""
    from services.ingest.auth import Role, create_token, parse_duration
    from services.ingest.web.session import create_signin_link, token_by_secret
    from shared.db import session_scope, upgrade_schema
    from shared.settings import get_settings

    upgrade_schema()
    settings = get_settings()
    try:
        lifetime = parse_duration(expires_in) if expires_in else None
        with session_scope() as session:
            token = create_token(session, Role(role), agency or [], label, lifetime)
            session.flush()
            row = token_by_secret(session, token)
            assert row is not None and row.id is not None
            link = create_signin_link(session, row.id, settings)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(token)  # stdout holds the token alone, for scripts: TOKEN=$(nianbao token create …)
    minutes = f"{settings.web_signin_link_minutes:g}"
    typer.echo(f"one-time sign-in link (works once, for {minutes} minutes): {link}", err=True)


@token_app.command("revoke")
def token_revoke(token: Annotated[str, typer.Argument(help="The token as it was printed")]) -> None:
    """Revoke a token: the API refuses it from now on."""
    from services.ingest.auth import revoke_token
    from shared.db import session_scope, upgrade_schema

    upgrade_schema()
    with session_scope() as session:
        revoked = revoke_token(session, token)
    if not revoked:
        typer.echo("no such live token", err=True)
        raise typer.Exit(1)
    typer.echo("revoked")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes; one per core takes uploads in parallel")
    ] = 1,
) -> None:
    """Run the ingest API (and, in the embedded deployment, the portal)."""
    import uvicorn

    from shared.db import upgrade_schema
    from shared.logs import configure_json_logging
    from shared.settings import get_settings
    from shared.storage import ensure_buckets

    configure_json_logging()
    upgrade_schema()
    ensure_buckets(get_settings())
    uvicorn.run(
        "services.ingest.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=None,
    )


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated stages: parse,validate,publish")
    ] = "parse,validate,publish",
    concurrency: int = 1,
    pool: Annotated[str, typer.Option(help="prefork | solo | threads")] = "prefork",
) -> None:
    """Run a Celery worker for one or more stage queues (at NIANBAO_WORKER_NICE)."""
    from shared.celery_app import celery_app
    from shared.logs import configure_json_logging
    from shared.settings import get_settings

    configure_json_logging()
    lower_priority_to(get_settings().worker_nice)

    celery_app.worker_main(worker_arguments(queues, concurrency, pool, task_events=get_settings().task_events))


def worker_arguments(queues: str, concurrency: int, pool: str, *, task_events: bool) -> list[str]:
    """`celery worker`'s arguments; task events (-E) only when asked for: Flower turns
    them on while it watches."""
    name = f"{queues.replace(',', '+')}@%h"
    events = ["-E"] if task_events else []
    return ["worker", "-Q", queues, "-c", str(concurrency), "-P", pool, *events, "--loglevel=INFO", "-n", name]


def lower_priority_to(niceness: int) -> None:
    """Raise this process's niceness to `niceness` (its pool children inherit it); never
    lower it, which needs privileges."""
    current = os.nice(0)
    if niceness > current:
        os.nice(niceness - current)
    _lower_session_priority_to(niceness)


def _lower_session_priority_to(niceness: int) -> None:
    """Linux (with autogroup) shares the CPU between sessions first and weighs a process's
    niceness only against the other processes of its own session: a worker that a
    supervisor started in a session of its own would compete with the API as an equal
    whatever its niceness. Such a worker (the session's leader) lowers its session's
    niceness as well. One started beside others in a shell's session leaves the session
    alone (the API may be in it): there its own niceness does the work."""
    if os.getsid(0) != os.getpid():
        return
    autogroup = Path("/proc/self/autogroup")  # "/autogroup-85 nice 0"; absent without autogroup
    try:
        current = int(autogroup.read_text().rsplit("nice", 1)[1])
        if niceness > current:
            autogroup.write_text(str(niceness))
    except (OSError, ValueError, IndexError):
        pass  # not Linux, autogroup off, or not allowed: the process niceness stands alone


@app.command()
def sweeper(interval: Annotated[float | None, typer.Option(help="Seconds between sweeps")] = None) -> None:
    """Send outbox messages and re-queue stuck documents, forever."""
    import logging

    from services.publisher.tasks import request_site_refresh, resend_pending_pushes
    from shared.logs import configure_json_logging
    from shared.settings import get_settings
    from shared.tracking import sweep_once

    configure_json_logging()
    log = logging.getLogger("nianbao.sweeper")
    pause = interval or get_settings().sweep_interval
    while True:
        try:
            result = sweep_once() | {"pushes": resend_pending_pushes(), "site": int(request_site_refresh())}
            if any(result.values()):
                log.info("swept %s", json.dumps(result))
        except Exception as exc:  # database or broker down: try again next round
            log.warning("sweep failed: %s: %s", type(exc).__name__, exc)
        time.sleep(pause)


@app.command()
def parse(file: Path) -> None:
    """Parse FILE and print the report as JSON (cells under the spec's keys)."""
    from services.parser import parse_document
    from shared.report import UnreadableDocument

    try:
        report = parse_document(file.read_bytes(), file.name)
    except UnreadableDocument as exc:
        typer.echo(json.dumps({"error": exc.code, "message": exc.message}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))


@app.command()
def check(
    file: Path,
    previous: Annotated[Path | None, typer.Option(help="The same agency's report of the year before")] = None,
    members: Annotated[
        list[Path] | None, typer.Option(help="Member agency reports (for a summary report)")
    ] = None,
) -> None:
    """Parse and validate FILE; print the parse plus `findings` and the `decision` as JSON."""
    from datetime import date

    from services.parser import parse_document
    from services.validator import ValidationContext, decide, validate
    from shared.report import UnreadableDocument
    from shared.settings import get_settings

    try:
        report = parse_document(file.read_bytes(), file.name)
        prev = parse_document(previous.read_bytes(), previous.name) if previous else None
        member_reports = [parse_document(m.read_bytes(), m.name) for m in members or []]
    except UnreadableDocument as exc:
        typer.echo(json.dumps({"error": exc.code, "message": exc.message}, ensure_ascii=False))
        raise typer.Exit(2) from exc
    context = ValidationContext(
        as_of=date.today(),
        previous=prev,
        members=member_reports or None,
        severity_overrides=get_settings().severity_overrides,
    )
    findings = validate(report, context)
    out = report.to_json() | {"findings": [f.to_json() for f in findings], "decision": decide(findings)}
    typer.echo(json.dumps(out, ensure_ascii=False, indent=1))


@app.command()
def rules(markdown: Annotated[bool, typer.Option(help="Print the catalogue as Markdown")] = False) -> None:
    """List every validation rule with its ID, severity and messages."""
    from rich.console import Console
    from rich.table import Table

    from services.validator import catalogue_markdown, rule_catalogue

    if markdown:
        typer.echo(catalogue_markdown())
        return
    table = Table("ID", "severity", "中文", "English", "why at this level")
    for rule in rule_catalogue():
        table.add_row(rule.id, rule.severity, rule.message_zh, rule.message_en, rule.why)
    Console().print(table)


@app.command()
def notices(year: Annotated[int, typer.Option(help="Report year")]) -> None:
    """Per agency, the notices of its latest validated report of the year (harmless deviations, by rule)."""
    from sqlmodel import col, select

    from services.validator.notices import notice_counts, notice_lines
    from shared.db import session_scope
    from shared.models import Document

    with session_scope() as session:
        rows = session.exec(
            select(Document.agency_norm, Document.findings)
            .where(Document.year == year, col(Document.duplicate_of).is_(None))
            .order_by(col(Document.id))
        ).all()
    # Newest validated report per agency wins (a JSON column holds null until validation).
    latest = {agency or "(unknown agency)": findings for agency, findings in rows if findings is not None}
    lines = notice_lines(notice_counts(latest.items()))
    typer.echo(f"agency\tnotices\tby rule ({year}, {len(latest)} agencies with a validated report)")
    for line in lines:
        typer.echo(line)


@app.command()
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or zip bundles")],
    agency: Annotated[str | None, typer.Option(help="Agency the files are for")] = None,
    year: Annotated[int | None, typer.Option(help="Report year")] = None,
    api: Annotated[str | None, typer.Option(envvar="NIANBAO_API_URL", help="API address")] = None,
    token: Annotated[str | None, typer.Option(envvar="NIANBAO_TOKEN", help="Bearer token")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until every file reaches a final status")] = True,
) -> None:
    """Upload reports through the API, then print a table of their results."""
    from services.client import collect_files, print_results, upload_files, wait_for_documents
    from shared.settings import get_settings

    if not token:
        raise typer.BadParameter("a token is needed: --token or NIANBAO_TOKEN (see `nianbao token create`)")
    base = api or get_settings().api_url
    files = collect_files(paths)
    if not files:
        raise typer.BadParameter("no files found")
    documents = upload_files(base, token, files, agency=agency, year=year)
    if wait:
        documents = wait_for_documents(base, token, [d["id"] for d in documents])
    print_results(documents)


@app.command()
def status(
    document_id: int,
    api: Annotated[str | None, typer.Option(envvar="NIANBAO_API_URL")] = None,
    token: Annotated[str | None, typer.Option(envvar="NIANBAO_TOKEN")] = None,
) -> None:
    """Print a document's status, history and findings."""
    from services.client import ApiClient, print_document
    from shared.settings import get_settings

    if not token:
        raise typer.BadParameter("a token is needed: --token or NIANBAO_TOKEN")
    print_document(ApiClient(api or get_settings().api_url, token).document(document_id))


@app.command()
def demo(
    port: int = 8000,
    exit_after: Annotated[bool, typer.Option("--exit", help="Stop once the samples are processed")] = False,
) -> None:
    """Embedded demo: SQLite, local storage, a real Celery worker on kombu's filesystem
    transport. Processes the bundled sample reports and keeps the API and portal up."""
    from services.demo import run_demo

    sys.exit(run_demo(port=port, keep_running=not exit_after))


if __name__ == "__main__":
    app()
