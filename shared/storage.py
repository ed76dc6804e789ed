"""Object storage: MinIO/S3 through the ``minio`` SDK, or a local directory.

Raw uploads are content-addressed (``raw/<sha256[:2]>/<sha256>``), so identical bytes
are stored once and a retried upload overwrites nothing of value.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import urllib3.exceptions
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import S3Error

from shared.settings import Settings


class StorageError(Exception):
    """A transient storage fault (server down, timeout): worth retrying."""


class ObjectNotFound(Exception):
    pass


# What the S3 client raises when the server cannot be reached or does not answer in time:
# socket errors (OSError) and urllib3's own (MaxRetryError, ProtocolError, timeouts), which
# are not OSErrors. All are transient: the caller retries or answers 503.
_UNREACHABLE: tuple[type[Exception], ...] = (OSError, urllib3.exceptions.HTTPError)
_S3_FAULTS: tuple[type[Exception], ...] = (S3Error, *_UNREACHABLE)
_MISSING = ("NoSuchKey", "NoSuchObject", "NotFound")  # S3 error codes of an absent object


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    def put_stream(self, key: str, stream: BinaryIO, length: int) -> None: ...
    def get(self, key: str) -> bytes: ...
    def copy_from(self, source: ObjectStore, source_key: str, key: str, content_type: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def ping(self) -> None: ...


def raw_key(sha256: str) -> str:
    return f"raw/{sha256[:2]}/{sha256}"


@contextmanager
def _faults_named(key: str) -> Iterator[None]:
    """The S3 client's errors as ours: `key` absent → ObjectNotFound, anything else a
    transient StorageError."""
    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING:
            raise ObjectNotFound(key) from exc
        raise StorageError(str(exc)) from exc
    except _UNREACHABLE as exc:
        raise StorageError(str(exc)) from exc


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: readers never see half a file

    def put_stream(self, key: str, stream: BinaryIO, length: int) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def copy_from(self, source: ObjectStore, source_key: str, key: str, content_type: str) -> None:
        """Put a copy of another store's object here (a file copy when both are directories)."""
        if not isinstance(source, LocalStore):
            self.put(key, source.get(source_key), content_type)
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        try:
            shutil.copyfile(source._path(source_key), tmp)
        except FileNotFoundError:
            raise ObjectNotFound(source_key) from None
        tmp.replace(path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix) and not key.endswith(".part"):
                yield key

    def ping(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"storage directory missing: {self.root}")


class S3Store:
    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def ensure_bucket(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc

    def put_stream(self, key: str, stream: BinaryIO, length: int) -> None:
        try:
            self.client.put_object(self.bucket, key, stream, length)
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc

    def get(self, key: str) -> bytes:
        with _faults_named(key):
            response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        except _UNREACHABLE as exc:  # the connection broke mid-body
            raise StorageError(str(exc)) from exc
        finally:
            response.close()
            response.release_conn()

    def copy_from(self, source: ObjectStore, source_key: str, key: str, content_type: str) -> None:
        """Put a copy of another store's object here: on the same S3 server the server
        copies it (the bytes never pass through us); otherwise a get and a put."""
        if not (isinstance(source, S3Store) and source.client is self.client):
            self.put(key, source.get(source_key), content_type)
            return
        with _faults_named(source_key):
            self.client.copy_object(
                self.bucket,
                key,
                CopySource(source.bucket, source_key),
                metadata={"Content-Type": content_type},
                metadata_directive=REPLACE,
            )

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise StorageError(str(exc)) from exc
        except _UNREACHABLE as exc:
            raise StorageError(str(exc)) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.remove_object(self.bucket, key)
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if obj.object_name is not None:
                    yield obj.object_name
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc

    def ping(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                raise StorageError(f"bucket {self.bucket} does not exist")
        except _S3_FAULTS as exc:
            raise StorageError(str(exc)) from exc


def _minio_client(settings: Settings) -> Minio:
    import urllib3

    # Short timeouts and few retries: a dead storage server must surface as a retryable
    # fault in seconds, not hang a request or a worker.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=settings.s3_connect_timeout, read=settings.s3_read_timeout),
        retries=urllib3.Retry(
            total=2, read=0, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
        ),
        maxsize=10,
    )
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )


_clients: dict[tuple[object, ...], Minio] = {}


def _shared_minio_client(settings: Settings) -> Minio:
    """One client (and connection pool) per process and server: a new pool per task paid a
    TCP connection per request. Keyed by the process id too, since a pool must not cross a
    fork (Celery's prefork children)."""
    key = (
        os.getpid(),
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key,
        settings.s3_secure,
        settings.s3_region,
        settings.s3_connect_timeout,
        settings.s3_read_timeout,
    )
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = _minio_client(settings)
    return client


def open_store(settings: Settings, bucket: str) -> ObjectStore:
    """The store for one bucket (``raw_bucket`` or ``portal_bucket``)."""
    if settings.storage_backend == "s3":
        return S3Store(_shared_minio_client(settings), bucket)
    return LocalStore(settings.local_storage_dir / bucket)


def ensure_buckets(settings: Settings) -> None:
    for bucket in (settings.raw_bucket, settings.portal_bucket):
        store = open_store(settings, bucket)
        if isinstance(store, S3Store):
            store.ensure_bucket()
