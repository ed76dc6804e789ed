"""`nianbao ops …`: the ops summary in the terminal (a rich table from the API)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

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
