"""No-op tasks on the product's own Celery configuration: the ceiling the real pipeline is
compared with in bench/pipeline.py. Each task only hands on to the next stage's queue."""

from __future__ import annotations

import redis

from shared.celery_app import make_celery
from shared.settings import get_settings

settings = get_settings()
app = make_celery(settings)
app.conf.include = []
_done = redis.Redis.from_url(settings.broker_url)


@app.task(name="bench.noop.parse", acks_late=True)
def noop_parse(n: int) -> None:
    app.send_task("bench.noop.validate", args=[n], queue="validate")


@app.task(name="bench.noop.validate", acks_late=True)
def noop_validate(n: int) -> None:
    app.send_task("bench.noop.publish", args=[n], queue="publish")


@app.task(name="bench.noop.publish", acks_late=True)
def noop_publish(n: int) -> None:
    _done.incr("bench:noop:done")
