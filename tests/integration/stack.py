"""Start the compose deployment's services as local processes against real servers.

The commands and environment come from docker-compose.yml itself; only the addresses
of Redis, PostgreSQL and the S3 server are mapped to the ones this machine runs, so the
compose file and the tests cannot drift apart.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
APP_SERVICES = ("api", "parser", "validator", "publisher", "sweeper")
SCALABLE_SERVICES = ("parser", "validator")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Any, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


@dataclass
class Servers:
    """Addresses of the real servers the stack talks to."""

    database_url: str
    broker_url: str
    s3_endpoint: str
    # A name for this run: its broker keys and buckets carry it, so runs sharing the
    # machine's Redis and S3 server never see each other's messages or files.
    run_name: str = ""

    def environment(self, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The compose environment with the servers' addresses replaced by ours."""
        env = {k: str(v) for k, v in compose_services()["api"]["environment"].items()}
        env |= {
            "NIANBAO_DATABASE_URL": self.database_url,
            "NIANBAO_BROKER_URL": self.broker_url,
            "NIANBAO_S3_ENDPOINT": self.s3_endpoint,
            "NIANBAO_DATA_DIR": str(data_dir),
        }
        if self.run_name:
            bucket = self.run_name.replace("_", "-")
            env |= {
                "NIANBAO_BROKER_KEY_PREFIX": f"{self.run_name}:",
                "NIANBAO_RAW_BUCKET": f"{bucket}-raw",
                "NIANBAO_PORTAL_BUCKET": f"{bucket}-portal",
            }
        return env | (extra or {})


def start_moto(log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=(log_dir / "moto.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_until(
        lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code < 500, 30, what="moto server"
    )
    return process, f"127.0.0.1:{port}"


@contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """A moto S3 server for the block; its endpoint ("127.0.0.1:<port>")."""
    process, endpoint = start_moto(log_dir)
    try:
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_database(admin_url: str = "postgresql://postgres@127.0.0.1:5432/test") -> tuple[str, str]:
    name = f"nianbao_it_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host_part = admin_url.rsplit("/", 1)[0].removeprefix("postgresql://")
    return name, f"postgresql+psycopg://{host_part}/{name}"


def drop_database(name: str, admin_url: str = "postgresql://postgres@127.0.0.1:5432/test") -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    redis.Redis.from_url(url).flushdb()


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    _supervisor: threading.Thread | None = None
    _supervising: threading.Event = field(default_factory=threading.Event)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def command_of(self, service: str) -> list[str]:
        """The service's compose command; "parser#2" is a second replica of "parser"
        (as `docker compose up --scale parser=2` runs it)."""
        words = shlex.split(compose_services()[service.split("#")[0]]["command"])
        assert words[0] == "nianbao", f"{service}: expected a nianbao command"
        if service == "api":  # the host's port 8000 may be taken; listen where the test says
            words[words.index("--port") + 1] = str(self.api_port)
            words[words.index("--host") + 1] = "127.0.0.1"
        return [sys.executable, "-m", "services.cli", *words[1:]]

    def start(self, service: str) -> None:
        log = (self.log_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            self.command_of(service),
            env=os.environ | self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )

    def prepare(self) -> None:
        """What compose's `migrate` and `minio-init` services do before the others start."""
        from minio import Minio

        self.cli("db", "upgrade")
        client = Minio(
            self.env["NIANBAO_S3_ENDPOINT"],
            access_key=self.env["NIANBAO_S3_ACCESS_KEY"],
            secret_key=self.env["NIANBAO_S3_SECRET_KEY"],
            secure=False,
        )
        for bucket in (self.env["NIANBAO_RAW_BUCKET"], self.env["NIANBAO_PORTAL_BUCKET"]):
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)

    def start_all(self, replicas: int = 1) -> None:
        """Every service; `replicas` of each worker service (the publisher stays one writer)."""
        for service in APP_SERVICES:
            self.start(service)
            if service in SCALABLE_SERVICES:
                for index in range(2, replicas + 1):
                    self.start(f"{service}#{index}")
        self._supervising.set()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()
        self.wait_for_api()

    def wait_for_api(self) -> None:
        wait_until(
            lambda: httpx.get(f"{self.api_url}/healthz", timeout=3).status_code == 200, 60, what="API health"
        )

    def stop(self, service: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self, sig: int = signal.SIGTERM) -> None:
        """Stop every service at once (each one's shutdown takes seconds; in turn they add up)."""
        self._supervising.clear()
        if self._supervisor is not None:
            self._supervisor.join()
        running = [p for p in self.processes.values() if p.poll() is None]
        self.processes.clear()
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGCONT)  # a stopped (SIGSTOP) one must hear SIGTERM
                os.killpg(process.pid, sig)
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def _supervise(self) -> None:
        """compose's `restart: unless-stopped`: a service that exits on its own comes back.

        Why the tests need it too: Celery's prefork worker can die on reconnecting to a
        restarted Redis ("file descriptor is None" after a pool child was killed); in the
        deployment the orchestrator restarts it, so the tests do the same.
        """
        while self._supervising.is_set():
            time.sleep(0.5)
            for service, process in list(self.processes.items()):
                if (
                    process.poll() is not None
                    and self.processes.get(service) is process
                    and self._supervising.is_set()
                ):
                    self.restarts.append(service)
                    self.start(service)

    def cli(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=os.environ | self.env,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@contextmanager
def running_stack(servers: Servers, data_dir: Path, extra: dict[str, str] | None = None) -> Iterator[Stack]:
    """Every app service of the compose file, migrated, with buckets, until the block ends."""
    stack = Stack(env=servers.environment(data_dir, extra), log_dir=data_dir)
    stack.prepare()
    stack.start_all()
    try:
        yield stack
    finally:
        stack.stop_all()
