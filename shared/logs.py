"""Structured logs: one JSON object per line, with the document in hand when known.

``configure_json_logging()`` is called first thing by ``serve``, ``worker`` and
``sweeper``. The stage shell and Celery's task_prerun signal bind ``document_id`` (and
``upload_id`` once the row is loaded) in a context variable, so every line a task logs,
in our code or a library's, says which document it was about; task_postrun clears it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from celery.signals import celeryd_after_setup, setup_logging, task_postrun, task_prerun

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "nianbao_log_context", default=None
)
CONTEXT_KEYS = ("document_id", "upload_id")


def bind_log_context(**values: Any) -> None:
    """Add `document_id` / `upload_id` to every following log line of this context."""
    _context.set({**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}})


def clear_log_context() -> None:
    _context.set(None)


def log_context() -> dict[str, Any]:
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the bound context, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(log_context())
        for key in CONTEXT_KEYS:  # `extra={"document_id": …}` on a single call
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Route every logger through one JSON handler on stderr (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # Library loggers that bring their own handlers would print plain text beside ours.
    # With a receiver connected, Celery installs no handlers of its own.
    setup_logging.connect(_keep_our_logging, weak=False)
    celeryd_after_setup.connect(_banner_as_json, weak=False)
    logging.captureWarnings(True)  # warnings.warn (e.g. Celery's as-root warning) as log lines
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task", "celery.redirected"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def _keep_our_logging(**_: Any) -> None:
    """Connected to setup_logging, this tells Celery not to configure logging."""


def _banner_as_json(sender: str | None = None, instance: Any = None, **_: Any) -> None:
    """The worker's start-up banner is ASCII art on stdout: say it in one JSON line instead."""
    if instance is None:
        return
    instance.quiet = True
    queues = sorted(q.name for q in instance.app.amqp.queues.consume_from.values())
    logging.getLogger("celery.worker").info(
        "worker %s ready: queues %s, concurrency %s", sender, ",".join(queues), instance.concurrency
    )


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    clear_log_context()
    name = getattr(task, "name", "") or ""
    if name.startswith("nianbao.") and args and isinstance(args[0], int):
        bind_log_context(document_id=args[0])


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    clear_log_context()
