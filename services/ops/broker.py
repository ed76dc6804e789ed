"""Queue depth per stage and worker liveness per queue, asked of the broker itself.

Depth is read the way kombu stores messages, without consuming any:

* Redis: one list per queue, plus one list per priority step named
  ``<queue>\\x06\\x16<step>`` (kombu's redis transport); depth is the sum of their LLENs.
* filesystem: one file per message named ``<ms>_<uuid>.<queue>.msg`` in the queue folder.

Messages a worker has taken but not acknowledged are not in the queue: those documents
show as "in progress" (their running status) instead.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from services.ops.summary import BrokerView
from shared.models import Stage
from shared.settings import Settings

# kombu.transport.redis: PRIORITY_STEPS and Channel.sep
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)
REDIS_PRIORITY_SEP = "\x06\x16"
# A worker that does not answer a broadcast within this many seconds counts as down.
INSPECT_TIMEOUT = 1.5
# Several dashboards polling at once share one broadcast (and its wait) per this many seconds.
WORKERS_CACHE_SECONDS = 3.0


def redis_queue_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{REDIS_PRIORITY_SEP}{step}" for step in REDIS_PRIORITY_STEPS]


def redis_queue_depths(url: str, queues: list[str]) -> dict[str, int]:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for key in redis_queue_keys(queue):
                    pipe.llen(key)
            sizes = pipe.execute()
    finally:
        client.close()
    steps = len(REDIS_PRIORITY_STEPS)
    return {queue: int(sum(sizes[i * steps : (i + 1) * steps])) for i, queue in enumerate(queues)}


def filesystem_queue_depths(folder: Path, queues: list[str]) -> dict[str, int]:
    depths = dict.fromkeys(queues, 0)
    for name in folder.iterdir() if folder.exists() else []:
        # kombu matches a message to its queue by everything after the first dot.
        queue = name.name.partition(".")[2].removesuffix(".msg")
        if queue in depths and name.name.endswith(".msg"):
            depths[queue] += 1
    return depths


def queue_depths(settings: Settings) -> dict[str, int]:
    queues = [stage.value for stage in Stage]
    if settings.broker_url.startswith("redis"):
        # With a key prefix (shared Redis) kombu's lists are named "<prefix><queue>".
        depths = redis_queue_depths(settings.broker_url, [settings.broker_key_prefix + q for q in queues])
        return {q: depths[settings.broker_key_prefix + q] for q in queues}
    if settings.broker_url.startswith("filesystem"):
        return filesystem_queue_depths(settings.filesystem_broker_dir / "queue", queues)
    raise ValueError(f"queue depth is not implemented for the broker {settings.broker_url.split(':')[0]}")


def workers_by_queue(active_queues: dict[str, list[dict[str, Any]]] | None) -> dict[str, list[str]]:
    """`inspect().active_queues()` answer → stage queue → sorted worker names."""
    workers: dict[str, list[str]] = {stage.value: [] for stage in Stage}
    for worker, queues in (active_queues or {}).items():
        for queue in queues:
            if queue.get("name") in workers:
                workers[queue["name"]].append(worker)
    return {queue: sorted(names) for queue, names in workers.items()}


class WorkerWatch:
    """Asks the workers which queues they consume, at most once per cache period."""

    def __init__(self, app: Celery, cache_seconds: float = WORKERS_CACHE_SECONDS) -> None:
        self.app = app
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._asked_at = -float("inf")
        self._answer: dict[str, list[str]] = {}

    def workers(self) -> dict[str, list[str]]:
        with self._lock:
            if time.monotonic() - self._asked_at >= self.cache_seconds:
                replies = self.app.control.inspect(timeout=INSPECT_TIMEOUT).active_queues()
                self._answer = workers_by_queue(replies)
                self._asked_at = time.monotonic()
            return self._answer


def broker_view(settings: Settings, watch: WorkerWatch) -> BrokerView:
    """Depths and workers; a broker that does not answer leaves depths unknown (None)."""
    error: str | None = None
    try:
        depths: dict[str, int | None] = dict(queue_depths(settings))
    except Exception as exc:
        depths = {stage.value: None for stage in Stage}
        error = f"{type(exc).__name__}: {exc}"[:300]
    try:
        workers = watch.workers()
    except Exception as exc:
        workers = {stage.value: [] for stage in Stage}
        error = error or f"{type(exc).__name__}: {exc}"[:300]
    return BrokerView(queue_depth=depths, workers=workers, broker_error=error)
