"""Shared fixtures: a moto S3 server on loopback, stores of both kinds, paths to test data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lib.storage import LocalDirStore
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server

DATA = Path(__file__).resolve().parent / "data"  # the project's own fixtures (data/README.md)
SEED_DB = DATA / "seed-db" / "editor-session.sqlite"
ANNOTATIONS_DIR = DATA / "annotations"
VISION_DIR = DATA / "vision"


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


class Api:
    """The ASGI app on a given store, with a TestClient (HTTP + WebSocket)."""

    def __init__(self, store, data_dir: Path, **settings):
        from fastapi.testclient import TestClient

        from lib.config import Settings
        from web.app import create_app

        self.store = store
        self.settings = Settings(data_dir=data_dir, **settings)
        self.app = create_app(self.settings, store=store)
        self.runner = self.app.state.runner
        self.client = TestClient(self.app)

    def as_user(self, user_id: str) -> dict:
        return {"X-User-ID": user_id}

    def close(self) -> None:
        self.client.close()
        if hasattr(self.runner, "wait_idle"):
            self.runner.wait_idle(timeout=120)


@pytest.fixture(params=["local", "s3"])
def api(request, tmp_path):
    """The API over both stores: every contract test runs twice."""
    if request.param == "local":
        store = LocalDirStore(tmp_path / "objects")
    else:
        store = make_s3_store(request.getfixturevalue("s3_server"))
    harness = Api(store, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def local_api(tmp_path):
    harness = Api(LocalDirStore(tmp_path / "objects"), tmp_path)
    yield harness
    harness.close()


@pytest.fixture(scope="session")
def small_video(tmp_path_factory) -> Path:
    """A 2 s 320x180 30 fps H.264/AAC MP4."""
    from tests.videos import make_video

    return make_video(tmp_path_factory.mktemp("videos") / "small.mp4")
