"""The ObjectStore contract: every test runs against LocalDirStore AND S3Store on a moto server.

Presigned URLs are exercised for real: with httpx against moto for S3, and through the app's
signed /api/storage/local route for the local store.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lib.errors import BadRequest, StorageUnavailable
from lib.storage import LocalDirStore, ObjectNotFound, ObjectStore, PreconditionFailed
from lib.storage.base import CHUNK
from tests.conftest import Api

KEY = "u1/games/0123456789abcdef0123456789abcdef.mp4"
DB = "u1/database.sqlite"


def payload(n: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


class Unseekable(io.RawIOBase):
    """A forward-only stream (like a request body): read() only, no seek, no len."""

    def __init__(self, data: bytes, piece: int = 64 * 1024):
        self._buf = io.BytesIO(data)
        self._piece = piece

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._buf.read(min(len(b), self._piece))
        b[: len(chunk)] = chunk
        return len(chunk)


@pytest.fixture
def fetch(store, tmp_path):
    """An HTTP client that can follow the store's presigned URLs: moto for S3, the app's
    local-storage route for the local store."""
    if store.kind == "s3":
        with httpx.Client(timeout=10) as client:
            yield client
        return
    harness = Api(store, tmp_path)
    try:
        yield harness.client
    finally:
        harness.close()


def test_implements_protocol(store):
    assert isinstance(store, ObjectStore)
    assert store.kind in ("local", "s3")
    store.ping()


def test_put_get_bytes_and_head(store):
    data = payload(10_000)
    etag = store.put_bytes(KEY, data)
    got, got_etag = store.get_bytes(KEY)
    assert got == data and got_etag == etag
    info = store.head(KEY)
    assert (info.key, info.size, info.etag) == (KEY, len(data), etag)
    assert info.content_type == "video/mp4"
    etag2 = store.put_bytes(KEY, payload(10_000, seed=1))
    assert etag2 != etag
    assert store.head(KEY).etag == etag2


def test_empty_object(store):
    etag = store.put_bytes(KEY, b"")
    assert store.get_bytes(KEY) == (b"", etag)
    assert store.head(KEY).size == 0
    assert b"".join(store.iter_range(KEY)) == b""


def test_missing_keys_raise_object_not_found(store, tmp_path):
    missing = "u1/games/ffffffffffffffffffffffffffffffff.mp4"
    assert store.head(missing) is None
    with pytest.raises(ObjectNotFound) as err:
        store.get_bytes(missing)
    assert err.value.status == 404 and err.value.key == missing
    with pytest.raises(ObjectNotFound):
        store.get_if_changed(missing, None)
    with pytest.raises(ObjectNotFound):
        store.get_if_changed(missing, '"abc"')
    with pytest.raises(ObjectNotFound):
        store.download_file(missing, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(ObjectNotFound):
        b"".join(store.iter_range(missing))
    store.delete(missing)  # deleting what is not there is fine


def test_streamed_upload_and_download(store, tmp_path):
    data = payload(3 * CHUNK + 12345)
    etag = store.upload_stream(KEY, Unseekable(data), "video/mp4")
    assert store.head(KEY).etag == etag
    out = tmp_path / "down.mp4"
    store.download_file(KEY, out)
    assert out.read_bytes() == data
    assert not list(tmp_path.glob("*.part"))

    src = tmp_path / "src.mp4"
    src.write_bytes(data[::-1])
    etag2 = store.upload_file(KEY, src)
    assert etag2 != etag and store.head(KEY).size == len(data)
    store.download_file(KEY, out)  # overwrites in place
    assert out.read_bytes() == data[::-1]


def test_put_if_none_match_creates_once(store):
    etag = store.put_if(DB, b"first", if_none_match="*")
    assert store.get_bytes(DB) == (b"first", etag)
    with pytest.raises(PreconditionFailed):
        store.put_if(DB, b"second", if_none_match="*")
    assert store.get_bytes(DB)[0] == b"first"


def test_put_if_match_is_compare_and_swap(store):
    e1 = store.put_if(DB, b"v1", if_none_match="*")
    e2 = store.put_if(DB, b"v2", if_match=e1)
    assert e2 != e1 and store.get_bytes(DB) == (b"v2", e2)
    with pytest.raises(PreconditionFailed):
        store.put_if(DB, b"stale", if_match=e1)  # e1 is no longer current
    with pytest.raises(PreconditionFailed):
        store.put_if(DB, b"bogus", if_match='"not-an-etag"')
    assert store.get_bytes(DB) == (b"v2", e2)
    store.delete(DB)
    with pytest.raises(PreconditionFailed):
        store.put_if(DB, b"gone", if_match=e2)  # the version we held was deleted
    assert store.head(DB) is None


def test_every_write_gets_a_new_etag(store):
    """Rapid same-size writes: a stale etag never matches a later version (no ABA).
    S3 etags are content hashes (equal content = equal etag, harmless); the local store's
    etags are versions, so even equal content gets a new one."""
    etags = [store.put_if(DB, b"x" * 100, if_none_match="*")]
    for i in range(1, 40):
        etags.append(store.put_if(DB, bytes([i % 2]) * 100, if_match=etags[-1]))
    if store.kind == "local":
        assert len(set(etags)) == len(etags)
    for stale in etags[:-1]:
        if stale != etags[-1]:
            with pytest.raises(PreconditionFailed):
                store.put_if(DB, b"z" * 100, if_match=stale)


def test_conditional_get(store):
    e1 = store.put_bytes(DB, b"one")
    assert store.get_if_changed(DB, e1) is None  # 304: the cache is current
    assert store.get_if_changed(DB, None) == (b"one", e1)
    e2 = store.put_bytes(DB, b"two!")
    assert store.get_if_changed(DB, e1) == (b"two!", e2)
    assert store.get_if_changed(DB, e2) is None


@pytest.mark.parametrize(
    "start,end",
    [(0, None), (0, 0), (0, 9), (5, None), (CHUNK - 3, CHUNK + 3), (CHUNK, 2 * CHUNK + 10),
     (2 * CHUNK + 99, 2 * CHUNK + 99), (2 * CHUNK + 99, None)],
)
def test_iter_range(store, start, end):
    data = payload(2 * CHUNK + 100)
    store.put_bytes(KEY, data)
    got = b"".join(store.iter_range(KEY, start, end))
    assert got == data[start : None if end is None else end + 1]


def test_iter_range_end_past_the_object_is_clamped(store):
    data = payload(1000)
    store.put_bytes(KEY, data)
    assert b"".join(store.iter_range(KEY, 990, 5000)) == data[990:]


def test_delete_list_and_delete_prefix(store):
    keys = [f"u1/games/{i:032x}.mp4" for i in range(3)] + [
        "u1/raw_clips/" + "a" * 32 + ".mp4", "u1/database.sqlite",
        "u10/games/" + "b" * 32 + ".mp4", "u2/database.sqlite",
    ]
    for i, key in enumerate(keys):
        store.put_bytes(key, payload(100 + i, seed=i))
    listed = store.list("u1/games/")
    assert [i.key for i in listed] == keys[:3]
    assert [i.size for i in listed] == [100, 101, 102]
    assert all(i.etag == store.head(i.key).etag for i in listed)
    assert [i.key for i in store.list("u1/")] == sorted(keys[:5])
    assert store.list("nobody/") == []

    store.delete(keys[0])
    assert store.head(keys[0]) is None
    assert [i.key for i in store.list("u1/games/")] == keys[1:3]

    assert store.delete_prefix("u1/") == 4
    assert store.list("u1/") == []
    # `u1/` is not a prefix of `u10/`: the neighbour's objects are untouched.
    assert [i.key for i in store.list("u")] == [keys[5], keys[6]]
    assert store.delete_prefix("u1/") == 0


@pytest.mark.parametrize(
    "key",
    ["", "/abs/key", "../escape", "u1/../../etc/passwd", "u1//x", "u1/./x", "u1/.hidden",
     "u1\\games\\x", "u1/games/", "u1/games/a\x00b"],
)
def test_bad_keys_are_rejected(store, key):
    with pytest.raises(BadRequest):
        store.put_bytes(key, b"x")
    with pytest.raises(BadRequest):
        store.get_bytes(key)
    with pytest.raises(BadRequest):
        store.head(key)
    with pytest.raises(BadRequest):
        store.put_if(key, b"x", if_none_match="*")
    with pytest.raises(BadRequest):
        store.presign_get(key, 60)


@pytest.mark.parametrize("prefix", ["../", "/", "u1/../", "u1/.."])
def test_bad_prefixes_are_rejected(store, prefix):
    with pytest.raises(BadRequest):
        store.list(prefix)
    with pytest.raises(BadRequest):
        store.delete_prefix(prefix)


def test_presigned_get(store, fetch):
    data = payload(50_000)
    store.put_bytes(KEY, data)
    r = fetch.get(store.presign_get(KEY, 600))
    assert r.status_code == 200 and r.content == data
    r = fetch.get(store.presign_get(KEY, 600), headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    r = fetch.get(store.presign_get(KEY, 600, filename='My "clip".mp4'))
    assert r.status_code == 200 and r.content == data
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.count('"') == 2  # the filename is quoted once, inner quotes replaced


def test_presigned_put_as_the_editor_does_it(store, fetch):
    """The editor's direct upload: XHR PUT <url> with Content-Type: video/mp4."""
    data = payload(200_000)
    url = store.presign_put(KEY, "video/mp4", 600)
    r = fetch.put(url, content=data, headers={"Content-Type": "video/mp4"})
    assert r.status_code == 200, r.text
    info = store.head(KEY)
    assert info.size == len(data)
    assert store.get_bytes(KEY)[0] == data


def test_local_urls_are_signed_per_method_key_and_expiry(tmp_path):
    store = LocalDirStore(tmp_path / "objects")
    harness = Api(store, tmp_path)
    try:
        client = harness.client
        store.put_bytes(KEY, b"secret")
        url = store.presign_get(KEY, 600)
        assert client.get(url).content == b"secret"
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        other = parts.path.replace(KEY, "u2/games/" + "0" * 32 + ".mp4")
        for bad in (
            f"{parts.path}?exp={query['exp']}&sig={'0' * 64}",             # forged signature
            f"{parts.path}?exp={query['exp']}&sig=%C3%A9",                 # non-ASCII signature
            f"{other}?exp={query['exp']}&sig={query['sig']}",              # another key
            f"{parts.path}?exp={int(query['exp']) + 1}&sig={query['sig']}",  # longer expiry
        ):
            r = client.get(bad)
            assert r.status_code == 403 and r.json()["detail"]
        r = client.put(url, content=b"overwrite")  # a GET signature does not allow PUT
        assert r.status_code == 403
        assert client.get(store.presign_get(KEY, -1)).status_code == 403  # expired
        assert client.get(parts.path).status_code == 422  # unsigned
        assert store.get_bytes(KEY)[0] == b"secret"
    finally:
        harness.close()


@pytest.mark.parametrize(
    "header,status,span",
    [("bytes=0-", 206, (0, 10239)), ("bytes=-100", 206, (10140, 10239)),
     ("bytes=100-199", 206, (100, 199)), ("bytes=10000-99999", 206, (10000, 10239)),
     ("bytes=10240-", 416, None), ("bytes=-0", 416, None), ("bytes=500-100", 200, None),
     ("bytes=0-0,5-6", 200, None), ("items=0-1", 200, None)],
)
def test_local_urls_serve_ranges(tmp_path, header, status, span):
    store = LocalDirStore(tmp_path / "objects")
    harness = Api(store, tmp_path)
    try:
        data = payload(10240)
        store.put_bytes(KEY, data)
        url = store.presign_get(KEY, 600)
        r = harness.client.get(url, headers={"Range": header})
        assert r.status_code == status
        assert r.headers["accept-ranges"] == "bytes"
        if status == 206:
            assert r.content == data[span[0]: span[1] + 1]
            assert r.headers["content-range"] == f"bytes {span[0]}-{span[1]}/10240"
        elif status == 416:
            assert r.headers["content-range"] == "bytes */10240"
        else:
            assert r.content == data
        head = harness.client.head(url)
        assert head.status_code == 200 and head.headers["content-length"] == "10240"
        assert head.content == b""
        stale = harness.client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert stale.status_code == 200 and stale.content == data
        fresh = harness.client.get(url, headers={"Range": "bytes=0-9",
                                                 "If-Range": head.headers["etag"]})
        assert fresh.status_code == 206 and fresh.content == data[:10]
    finally:
        harness.close()


def test_s3_store_down_raises_storage_unavailable():
    from lib.storage.s3 import S3Store
    from tests.s3server import free_port

    store = S3Store("nowhere", endpoint_url=f"http://127.0.0.1:{free_port()}",
                    access_key_id="x", secret_access_key="y", region="us-east-1",
                    connect_timeout=0.5, read_timeout=0.5)
    started = time.monotonic()
    for call in (store.ping, lambda: store.get_bytes(DB), lambda: store.head(DB),
                 lambda: store.put_if(DB, b"x", if_none_match="*")):
        with pytest.raises(StorageUnavailable) as err:
            call()
        assert err.value.status == 503 and "unreachable" in err.value.message
    assert time.monotonic() - started < 10


def test_local_store_writes_are_atomic_files(store):
    """No temp files are left behind and listing never shows one."""
    for i in range(5):
        store.put_bytes(KEY, payload(1000, seed=i))
    assert [i.key for i in store.list("u1/")] == [KEY]
    if isinstance(store, LocalDirStore):
        leftovers = [n for _, _, files in os.walk(store.root / "u1") for n in files
                     if n.startswith(".tmp")]
        assert leftovers == []
