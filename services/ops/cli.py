"""`nianbao ops …`: the ops summary in the terminal (a rich table from the API), and
reprocessing stored reports through the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

REPROCESS_SLICE = 5000  # ids per request: the API's MAX_BULK
ops_app = typer.Typer(help="Watch and steer the pipeline (role ops).", no_args_is_help=True)


def fetch_summary(api: str, token: str) -> dict[str, Any]:
    response = httpx.get(
        f"{api}/api/v1/ops/summary", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f}s"
    return f"{value / 60:.1f}m" if value < 7200 else f"{value / 3600:.1f}h"


def summary_tables(summary: dict[str, Any]) -> Group:
    stages = Table(
        "stage",
        "queued",
        "in progress",
        "workers",
        "done 5m",
        "done 60m",
        "wait p50/p95",
        "run p50/p95",
        title=f"pipeline at {summary['at']}",
    )
    for name, s in summary["stages"].items():
        workers = f"[green]{s['workers_up']} up[/]" if s["workers_up"] else "[bold red]DOWN[/]"
        depth = s["queue_depth"]
        stages.add_row(
            name,
            "?" if depth is None else str(depth),
            str(s["in_progress"]),
            workers,
            str(s["throughput"]["5m"]["finished"]),
            str(s["throughput"]["60m"]["finished"]),
            f"{_seconds(s['queue_wait_seconds']['p50'])} / {_seconds(s['queue_wait_seconds']['p95'])}",
            f"{_seconds(s['run_seconds']['p50'])} / {_seconds(s['run_seconds']['p95'])}",
        )
    statuses = Table("status", "documents", "oldest", "for", title="documents")
    for status, count in summary["counts"].items():
        oldest = summary["oldest"].get(status)
        statuses.add_row(
            status,
            str(count),
            f"#{oldest['id']}" if oldest else "",
            _seconds(oldest["age_seconds"]) if oldest else "",
        )
    failures = Table("reason", "count", "documents", title="unacknowledged failures")
    for group in summary["failures"]:
        ids = [str(d["id"]) for d in group["documents"]]
        failures.add_row(
            group["reason"], str(group["count"]), ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
        )
    parts: list[Any] = [stages, statuses, failures]
    if summary.get("broker_error"):
        parts.append(f"[red]broker: {summary['broker_error']}[/]")
    return Group(*parts)


@ops_app.command("status")
def status(
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl+C")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes with --watch")] = 3.0,
    api: Annotated[str | None, typer.Option(envvar="NIANBAO_API_URL")] = None,
    token: Annotated[str | None, typer.Option(envvar="NIANBAO_TOKEN")] = None,
) -> None:
    """Queues, workers, stage timings, documents per status and failures."""
    from rich.console import Console

    from shared.settings import get_settings

    if not token:
        raise typer.BadParameter("an ops token is needed: --token or NIANBAO_TOKEN")
    base = api or get_settings().api_url
    if not watch:
        Console().print(summary_tables(fetch_summary(base, token)))
        return
    with Live(summary_tables(fetch_summary(base, token)), auto_refresh=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(summary_tables(fetch_summary(base, token)), refresh=True)
        except KeyboardInterrupt:
            pass


def _post(api: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{api}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=300
    )
    if response.status_code >= 400:
        raise typer.BadParameter(f"{response.status_code} from the API: {response.text[:500]}")
    answer: dict[str, Any] = response.json()
    return answer


def reprocess_requests(ids: list[int], parser_version_below: str | None) -> Iterator[dict[str, Any]]:
    """The request bodies: ids in slices the API takes at once; a version as pages (the
    caller fills in each page's after_id from the answer before)."""
    if parser_version_below is not None:
        yield {"parser_version_below": parser_version_below, "after_id": 0}
        return
    for start in range(0, len(ids), REPROCESS_SLICE):
        yield {"ids": ids[start : start + REPROCESS_SLICE]}


@ops_app.command("reprocess")
def reprocess(
    ids: Annotated[list[int] | None, typer.Argument(help="Document ids")] = None,
    parser_version_below: Annotated[
        str | None, typer.Option(help="Every report at rest whose parse came from an older parser")
    ] = None,
    api: Annotated[str | None, typer.Option(envvar="NIANBAO_API_URL")] = None,
    token: Annotated[str | None, typer.Option(envvar="NIANBAO_TOKEN")] = None,
) -> None:
    """Parse and validate stored reports again; each keeps its old result until the new one
    is complete, and its status never changes (the history says what would)."""
    from shared.settings import get_settings

    if not token:
        raise typer.BadParameter("an ops token is needed: --token or NIANBAO_TOKEN")
    if bool(ids) == (parser_version_below is not None):
        raise typer.BadParameter("give either document ids or --parser-version-below")
    base = api or get_settings().api_url
    queued, skipped = 0, 0
    for body in reprocess_requests(ids or [], parser_version_below):
        while True:
            answer = _post(base, token, "/api/v1/ops/reprocess", body)
            queued += len(answer["done"])
            skipped += len(answer["skipped"])
            for item in answer["skipped"][:20]:
                typer.echo(f"skipped {item['id']}: {item['reason']}")
            if answer.get("next_after_id") is None:
                break
            body = body | {"after_id": answer["next_after_id"]}
    typer.echo(f"{queued} reports queued for reprocessing, {skipped} skipped")
