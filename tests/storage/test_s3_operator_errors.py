"""Bucket and credential mistakes answer 503 with a sentence an operator can act on, and
HEAD on a redirecting video URL is answered by us (a presign for GET refuses HEAD)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from lib.errors import StorageUnavailable
from lib.storage.s3 import S3Store
from tests.conftest import Api
from tests.jobs_helpers import make_game_with_clip
from tests.s3server import ACCESS_KEY, SECRET_KEY

USER = "coach"


def _store(endpoint: str, bucket: str, key: str = ACCESS_KEY, secret: str = SECRET_KEY):
    return S3Store(bucket=bucket, endpoint_url=endpoint, access_key_id=key,
                   secret_access_key=secret, region="us-east-1", connect_timeout=1.0,
                   read_timeout=10.0)


def test_missing_bucket_is_a_503_naming_it(s3_server, tmp_path):
    store = _store(s3_server.endpoint, "never-created-bucket")
    with pytest.raises(StorageUnavailable, match="'never-created-bucket' does not exist"):
        store.ping()
    with pytest.raises(StorageUnavailable, match="does not exist"):
        store.put_if(f"{USER}/database.sqlite", b"x", if_none_match="*")
    api = Api(store, tmp_path)
    try:
        health = api.client.get("/api/health")
        assert health.status_code == 503
        assert "'never-created-bucket' does not exist" in health.json()["detail"]
        write = api.client.put("/api/settings", json={"projectFilters": {}},
                               headers={"X-User-ID": USER})
        assert write.status_code == 503, write.text  # not 409 "collided too many times"
        assert "does not exist" in write.json()["detail"]
    finally:
        api.close()


@pytest.fixture(scope="module")
def authenticating_s3():
    """A moto server that checks credentials (the shared one accepts any)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_rejected_credentials_are_a_503_naming_them(authenticating_s3, tmp_path):
    store = _store(authenticating_s3, "reel-ballers", key="AKIAWRONGKEY", secret="nope")
    with pytest.raises(StorageUnavailable, match="refused the credentials"):
        store.ping()
    with pytest.raises(StorageUnavailable, match="InvalidAccessKeyId"):
        store.get_bytes(f"{USER}/database.sqlite")
    api = Api(store, tmp_path)
    try:
        health = api.client.get("/api/health")
        assert health.status_code == 503 and "S3_ACCESS_KEY_ID" in health.json()["detail"]
        read = api.client.get("/api/settings", headers={"X-User-ID": USER})
        assert read.status_code == 503 and "credentials" in read.json()["detail"]
    finally:
        api.close()


def test_head_on_a_redirecting_video_is_answered_here(s3_store, tmp_path, small_video):
    api = Api(s3_store, tmp_path)
    try:
        ids = make_game_with_clip(api, USER, small_video)
        url = f"/api/games/{ids['game_id']}/video"
        head = api.client.head(url, headers={"X-User-ID": USER}, follow_redirects=False)
        assert head.status_code == 200 and "location" not in head.headers
        assert int(head.headers["content-length"]) == small_video.stat().st_size
        assert head.headers["accept-ranges"] == "bytes"
        get = api.client.get(url, headers={"X-User-ID": USER}, follow_redirects=False)
        assert get.status_code == 302 and "X-Amz-Signature" in get.headers["location"]
    finally:
        api.close()
