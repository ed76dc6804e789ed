"""Storage faults surface as StorageError (transient: retried, then the sweeper), whatever
layer of the S3 client notices them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import Settings
from shared.storage import ObjectNotFound, ObjectStore, StorageError, open_store
from tests.integration.stack import free_port


def store_at(endpoint: str, **settings: float) -> ObjectStore:
    return open_store(
        Settings(storage_backend="s3", s3_endpoint=endpoint, **settings),  # type: ignore[arg-type]
        "nianbao-raw",
    )


def test_a_refused_connection_is_a_storage_error() -> None:
    store = store_at(f"127.0.0.1:{free_port()}")
    for call in (
        lambda: store.put("raw/x", b"x"),
        lambda: store.get("raw/x"),
        lambda: store.exists("raw/x"),
        lambda: list(store.list("raw/")),
        lambda: store.ping(),
    ):
        with pytest.raises(StorageError):
            call()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a stalled storage server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_stalled_server_is_a_storage_error_within_the_read_timeout(silent_server: str) -> None:
    store = store_at(silent_server, s3_read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StorageError):
        store.get("raw/x")
    assert time.monotonic() - started < 5


def test_a_missing_object_is_not_a_fault(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path), "nianbao-raw")
    with pytest.raises(ObjectNotFound):
        store.get("raw/none")
