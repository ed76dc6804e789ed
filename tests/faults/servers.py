"""The servers a fault scenario breaks: each scenario gets its own Redis, its own
PostgreSQL database and its own S3 server on spare ports, so that killing, freezing or
cutting them disturbs nothing else on the machine (the shared PostgreSQL and Redis are
never restarted: a "database fault" terminates the connections to our database only)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import redis

from tests.integration.stack import REPO, create_database, drop_database, free_port, wait_until

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


class RedisServer:
    """A redis-server of our own on a spare port, without persistence (like the machine's
    Redis): a restart loses every queued message."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: redis.Redis(port=self.port).ping(), 10, what="redis-server")

    def stop(self) -> None:
        """SIGKILL: the broker dies with its queues, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def own_redis(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def own_database() -> Iterator[tuple[str, str]]:
    """(name, SQLAlchemy URL) of a fresh database on the machine's PostgreSQL."""
    name, url = create_database(ADMIN_URL)
    try:
        yield name, url
    finally:
        drop_database(name, ADMIN_URL)


def terminate_connections(database: str) -> int:
    """pg_terminate_backend on every connection to `database` (ours only, never others')."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def keep_terminating(database: str, seconds: float, every: float = 0.3) -> int:
    """Terminate the database's connections again and again for `seconds`; returns how many."""
    terminated = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        terminated += terminate_connections(database)
        time.sleep(every)
    return terminated


class S3Server:
    """An S3 server process on a fixed port that a scenario may stop, restart and freeze."""

    access_key = "fault-key"
    secret_key = "fault-secret"
    persistent = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        log = (self.directory / "s3.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: httpx.get(f"http://{self.endpoint}/", timeout=1).status_code < 500, 30, what="S3 server"
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def environment(self) -> dict[str, str]:
        return {
            "NIANBAO_S3_ENDPOINT": self.endpoint,
            "NIANBAO_S3_ACCESS_KEY": self.access_key,
            "NIANBAO_S3_SECRET_KEY": self.secret_key,
        }


class MotoServer(S3Server):
    """moto's S3 server: everything in memory, so a restart loses every object."""

    def command(self) -> list[str]:
        moto = Path(sys.executable).with_name("moto_server")
        return [str(moto), "-H", "127.0.0.1", "-p", str(self.port)]


S3RVER_VERSION = "3.7.1"


def s3rver_path() -> Path | None:
    """s3rver (npm, MIT): an S3 server that keeps buckets and objects in a directory, so a
    restart loses nothing — as MinIO or any real S3 would. scripts/setup.sh installs it
    into .tools/ (or set NIANBAO_S3RVER to its executable)."""
    configured = os.environ.get("NIANBAO_S3RVER")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO / ".tools" / "node_modules" / ".bin" / "s3rver")
    found = shutil.which("s3rver")
    if found:
        candidates.append(Path(found))
    return next((c for c in candidates if c.exists()), None)


class S3rverServer(S3Server):
    # s3rver accepts only its own key pair (signatures are checked).
    access_key = "S3RVER"
    secret_key = "S3RVER"
    persistent = True

    def command(self) -> list[str]:
        executable = s3rver_path()
        assert executable is not None, "s3rver is not installed (scripts/setup.sh installs it)"
        data = self.directory / "s3rver-data"
        data.mkdir(exist_ok=True)
        return [
            str(executable),
            "--directory",
            str(data),
            "--address",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--silent",
            "--no-vhost-buckets",
        ]


@contextmanager
def own_s3(server: S3Server) -> Iterator[S3Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
