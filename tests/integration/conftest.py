"""Real servers for the pipeline tests: the machine's PostgreSQL and Redis, and an S3
server (moto's) started here. Each test module gets a fresh database and Redis DB."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session

from services.ingest.auth import Role, create_token
from shared.db import make_engine
from tests.integration.stack import Servers, Stack, create_database, drop_database, moto_server, running_stack
from tests.reference import corpus_bytes

REDIS_URL = "redis://127.0.0.1:6379/7"
# Short clocks so recovery paths run within a test's patience.
FAST_RECOVERY = {
    "NIANBAO_STAGE_TIME_LIMIT": "20",
    "NIANBAO_REQUEUE_WAITING_AFTER": "8",
    "NIANBAO_SWEEP_INTERVAL": "1",
    "NIANBAO_BROKER_VISIBILITY_TIMEOUT": "30",
    "NIANBAO_RETRY_BACKOFF_MAX": "4",
}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def servers(s3_endpoint: str) -> Iterator[Servers]:
    name, url = create_database()
    yield Servers(database_url=url, broker_url=REDIS_URL, s3_endpoint=s3_endpoint, run_name=name)
    drop_database(name)


@pytest.fixture(scope="module")
def stack(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(servers, tmp_path_factory.mktemp("stack"), FAST_RECOVERY) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(stack: Stack) -> dict[str, str]:
    """The ops token through `nianbao token create`, as an operator makes one; the others
    straight into the stack's database (each CLI call would start the whole app again)."""
    made = {"ops": stack.cli("token", "create", "--role", "ops").strip()}
    engine = make_engine(stack.env["NIANBAO_DATABASE_URL"])
    with Session(engine) as session:
        made |= {
            "reviewer": create_token(session, Role.reviewer),
            "other_reviewer": create_token(session, Role.reviewer),
            "uploader": create_token(session, Role.uploader, ["西工区城市改造办公室"]),
            "other_uploader": create_token(session, Role.uploader, ["某县民政局"]),
        }
        session.commit()
    engine.dispose()
    return made


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client




@pytest.fixture(scope="session")
def seed_report() -> bytes:
    return corpus_bytes("seed/000_73a337edb7ff8878.txt")
