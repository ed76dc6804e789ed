"""Queue depth on a Redis shared with other deployments (NIANBAO_BROKER_KEY_PREFIX)."""

from __future__ import annotations

import uuid

import redis

from services.ops.broker import queue_depths
from shared.celery_app import make_celery
from shared.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/14"


def test_depth_counts_only_this_deployments_messages() -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    mine = Settings(broker_url=REDIS_URL, broker_key_prefix=prefix)
    other = Settings(broker_url=REDIS_URL, broker_key_prefix=prefix + "other:")
    try:
        make_celery(mine).send_task("nianbao.parse", args=[1], queue="parse")
        make_celery(other).send_task("nianbao.parse", args=[2], queue="parse")
        make_celery(other).send_task("nianbao.parse", args=[3], queue="parse")
        assert queue_depths(mine) == {"parse": 1, "validate": 0, "publish": 0}
        assert queue_depths(other)["parse"] == 2
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
