"""Queue depth read the way kombu stores messages: messages put by kombu itself, on
kombu's filesystem transport and on the machine's Redis, counted without consuming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from kombu import Connection, Exchange, Queue

from services.ops.broker import filesystem_queue_depths, redis_queue_depths, workers_by_queue

STAGES = ["parse", "validate", "publish"]
REDIS_URL = "redis://127.0.0.1:6379/13"


def _publish(connection: Connection, counts: dict[str, int], priority: int | None = None) -> None:
    exchange = Exchange("", type="direct")
    with connection.Producer() as producer:
        for queue, count in counts.items():
            for n in range(count):
                producer.publish(
                    {"n": n},
                    exchange=exchange,
                    routing_key=queue,
                    declare=[Queue(queue)],
                    priority=priority,
                )


def test_filesystem_depth_counts_kombu_messages(tmp_path: Path) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with Connection("filesystem://", transport_options=options) as connection:
        _publish(connection, {"parse": 3, "validate": 1, "parse.extra": 2})
        assert filesystem_queue_depths(folder, STAGES) == {"parse": 3, "validate": 1, "publish": 0}
        # The transport's own count agrees.
        with connection.channel() as channel:
            assert channel._size("parse") == 3


@pytest.fixture
def redis_db() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield REDIS_URL
    client.flushdb()


def test_redis_depth_includes_priority_lists(redis_db: str) -> None:
    with Connection(redis_db) as connection:
        _publish(connection, {"parse": 2, "publish": 1})
        _publish(connection, {"parse": 3}, priority=5)  # kombu keeps these in a separate list
        assert redis_queue_depths(redis_db, STAGES) == {"parse": 5, "validate": 0, "publish": 1}
        with connection.channel() as channel:
            assert channel._size("parse") == 5


def test_workers_by_queue() -> None:
    replies = {
        "parse@h1": [{"name": "parse"}],
        "validate+publish@h2": [{"name": "validate"}, {"name": "publish"}],
        "other@h3": [{"name": "celery"}],
    }
    assert workers_by_queue(replies) == {
        "parse": ["parse@h1"],
        "validate": ["validate+publish@h2"],
        "publish": ["validate+publish@h2"],
    }
    assert workers_by_queue(None) == {"parse": [], "validate": [], "publish": []}
