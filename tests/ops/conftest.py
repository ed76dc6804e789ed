"""The integration fixtures (real PostgreSQL, Redis, S3 and the compose services) for
tests/ops/test_live.py; unit tests here do not use them."""

from tests.integration.conftest import api, s3_endpoint, seed_report, servers, stack, tokens

__all__ = ["api", "s3_endpoint", "seed_report", "servers", "stack", "tokens"]
