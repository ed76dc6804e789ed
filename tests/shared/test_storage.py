"""Storage faults surface as StorageError (transient: retried, then the sweeper), whatever
layer of the S3 client notices them."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import Settings
from shared.storage import (
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StorageError,
    open_store,
)
from tests.integration.stack import free_port, moto_server


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


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


def s3_store(endpoint: str, bucket: str) -> S3Store:
    store = open_store(Settings(storage_backend="s3", s3_endpoint=endpoint), bucket)
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    return store


def test_the_s3_server_copies_an_upload_into_the_portal_itself(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, portal = s3_store(s3_endpoint, "copy-raw"), s3_store(s3_endpoint, "copy-portal")
    raw.put_stream("raw/ab/abc", io.BytesIO(b"%PDF-1.7 the upload"), 19)
    # The bytes never pass through us: reading an object would fail.
    monkeypatch.setattr(raw.client, "get_object", lambda *a, **k: pytest.fail("the copy read the object"))
    portal.copy_from(raw, "raw/ab/abc", "reports/x/v1/original.pdf", "application/pdf")
    monkeypatch.undo()
    assert portal.get("reports/x/v1/original.pdf") == b"%PDF-1.7 the upload"
    assert portal.client.stat_object("copy-portal", "reports/x/v1/original.pdf").content_type == "application/pdf"
    with pytest.raises(ObjectNotFound):
        portal.copy_from(raw, "raw/no/such", "reports/x/v1/original.bin", "application/octet-stream")


def test_a_copy_between_directories_or_kinds_of_store(tmp_path: Path, s3_endpoint: str) -> None:
    raw, portal = LocalStore(tmp_path / "raw"), LocalStore(tmp_path / "portal")
    raw.put("raw/ab/abc", b"the upload")
    portal.copy_from(raw, "raw/ab/abc", "reports/x/v1/original.txt", "text/plain")
    assert portal.get("reports/x/v1/original.txt") == b"the upload"
    with pytest.raises(ObjectNotFound):
        portal.copy_from(raw, "raw/no/such", "reports/x/v1/original.bin", "application/octet-stream")
    # From a directory to an S3 server: read here, written there.
    s3 = s3_store(s3_endpoint, "copy-mixed")
    s3.copy_from(raw, "raw/ab/abc", "reports/x/v1/original.txt", "text/plain")
    assert s3.get("reports/x/v1/original.txt") == b"the upload"
