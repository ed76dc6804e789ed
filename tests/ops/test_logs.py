"""Every log line is one JSON object, with the document when one is bound."""

from __future__ import annotations

import json
import logging

from shared.logs import JsonFormatter, bind_log_context, clear_log_context


def _line(logger: str, message: str, *args: object, exc: bool = False) -> dict:
    record = logging.LogRecord(logger, logging.WARNING, __file__, 1, message, args, None)
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            record.exc_info = sys.exc_info()
    return json.loads(JsonFormatter().format(record))


def test_line_without_context() -> None:
    clear_log_context()
    line = _line("nianbao.x", "hello %s", "世界")
    assert set(line) == {"time", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "nianbao.x", "hello 世界")
    assert line["time"].endswith("Z")


def test_bound_document_and_upload_appear_until_cleared() -> None:
    bind_log_context(document_id=12)
    bind_log_context(upload_id="up_1", document_id=None)  # None does not unbind
    line = _line("celery.worker", "done")
    assert (line["document_id"], line["upload_id"]) == (12, "up_1")
    clear_log_context()
    assert "document_id" not in _line("celery.worker", "next")


def test_exception_is_inside_the_json() -> None:
    line = _line("nianbao.y", "failed", exc=True)
    assert "ValueError: boom" in line["exception"]
