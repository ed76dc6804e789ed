"""The integration fixtures (real PostgreSQL, Redis, S3 and the compose services) for
tests/ops/test_live.py; unit tests here do not use them.

`servers` is our own: a Redis database of its own, because these tests count the
queues and the workers that answer a broadcast, and other modules' stacks on the
shared Redis database would answer too (kombu scopes broadcasts per database).
"""

from collections.abc import Iterator

import pytest

from tests.integration.conftest import api, s3_endpoint, seed_report, stack, tokens
from tests.integration.stack import Servers, create_database, drop_database, flush_redis

OPS_REDIS_URL = "redis://127.0.0.1:6379/12"

__all__ = ["api", "s3_endpoint", "seed_report", "servers", "stack", "tokens"]


@pytest.fixture(scope="module")
def servers(s3_endpoint: str) -> Iterator[Servers]:
    name, url = create_database()
    flush_redis(OPS_REDIS_URL)
    yield Servers(database_url=url, broker_url=OPS_REDIS_URL, s3_endpoint=s3_endpoint)
    drop_database(name)
