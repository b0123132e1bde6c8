"""Shared fixtures: a moto S3 server on loopback, stores of both kinds, paths to shared data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lib.storage import LocalDirStore
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED_DB = SHARED / "data" / "seed-db" / "editor-session.sqlite"
ANNOTATIONS_DIR = SHARED / "data" / "annotations"


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


def make_s3_store(server: S3Server, bucket: str | None = None):
    from lib.storage.s3 import S3Store

    store = S3Store(
        bucket=bucket or f"test-{uuid.uuid4().hex[:12]}",
        endpoint_url=server.endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        region="us-east-1",
        connect_timeout=1.0,
        read_timeout=10.0,
    )
    store.ensure_bucket()
    return store


@pytest.fixture
def s3_store(s3_server):
    return make_s3_store(s3_server)


@pytest.fixture
def local_store(tmp_path):
    return LocalDirStore(tmp_path / "objects")


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Every storage-contract test runs against both implementations."""
    if request.param == "local":
        return LocalDirStore(tmp_path / "objects")
    return make_s3_store(request.getfixturevalue("s3_server"))
