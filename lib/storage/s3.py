"""S3Store: any S3 API (Cloudflare R2 in production, a moto server in tests) through boto3."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from lib.disposition import content_disposition
from lib.errors import StorageUnavailable
from lib.storage.base import (
    CHUNK,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    StorageOutcomeUnknown,
    check_key,
    check_prefix,
    content_type_for,
)

_MB = 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=64 * _MB, multipart_chunksize=16 * _MB)
_UNAVAILABLE = "Storage is unreachable right now; please try again shortly."
_TIMEOUT = "Storage did not answer in time; please try again shortly."
# Bucket/credential problems: an operator's to fix, answered 503 with a sentence naming them.
_CREDENTIALS = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled")


def _code(err: ClientError) -> tuple[str, int]:
    meta = err.response.get("ResponseMetadata", {})
    return str(err.response.get("Error", {}).get("Code", "")), int(meta.get("HTTPStatusCode", 0))


class S3Store:
    kind = "s3"

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "auto",
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        db_connect_timeout: float = 2.0,
        db_read_timeout: float = 3.0,
    ):
        """`connect_timeout`/`read_timeout` are for media transfers (streamed, retried);
        `db_*` for the small objects a request waits on (databases, heads, pings): short,
        so that a hung endpoint answers 503 within seconds."""
        self.bucket = bucket

        def client(connect: float, read: float, attempts: int):
            return boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                region_name=None if region == "auto" and endpoint_url is None else region,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path"},
                    connect_timeout=connect,
                    read_timeout=read,
                    retries={"total_max_attempts": attempts, "mode": "standard"},
                    max_pool_connections=32,
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )

        self.client = client(connect_timeout, read_timeout, 3)  # media: long, streamed
        # One try per call: a conditional PUT retried by botocore after its first try landed
        # answers 412 against our own write (lib/db/sync.py re-reads instead), and a read
        # is retried by the caller, which knows how much time is left.
        self._small = client(db_connect_timeout, db_read_timeout, 1)

    # -- error mapping -----------------------------------------------------------------
    def _call(self, key: str | None, fn, *, sent_is_unknown: bool = False, **kwargs):
        """`fn` with our errors. With `sent_is_unknown` (a write), a failure after the
        request may have reached storage raises StorageOutcomeUnknown."""
        if key is not None:
            check_key(key)
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as err:
            code, status = _code(err)
            if code == "NoSuchBucket" or (key is None and status == 404):
                raise StorageUnavailable(self._no_bucket()) from None
            if code in _CREDENTIALS or status == 403:
                raise StorageUnavailable(self._refused(code or str(status))) from None
            if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                raise ObjectNotFound(key or "") from None
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                raise PreconditionFailed(key) from None
            if status == 304:
                raise
            if sent_is_unknown and status >= 500:
                raise StorageOutcomeUnknown(_UNAVAILABLE) from err
            if status >= 500 or status == 0:
                raise StorageUnavailable(_UNAVAILABLE) from err
            raise StorageUnavailable(f"Storage refused the request ({code or status}).") from err
        except (EndpointConnectionError, ConnectTimeoutError) as err:  # never sent
            message = _TIMEOUT if isinstance(err, ConnectTimeoutError) else _UNAVAILABLE
            raise StorageUnavailable(message) from err
        except BotoCoreError as err:
            message = _TIMEOUT if isinstance(err, ReadTimeoutError) else _UNAVAILABLE
            if sent_is_unknown:
                raise StorageOutcomeUnknown(message) from err
            raise StorageUnavailable(message) from err

    def _no_bucket(self) -> str:
        return (f"The storage bucket {self.bucket!r} does not exist; create it, or fix"
                " S3_BUCKET in the r2-credentials secret.")

    def _refused(self, code: str) -> str:
        return (f"Storage refused the credentials for bucket {self.bucket!r} ({code}); check"
                " S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the key's access to the bucket.")

    # -- protocol ----------------------------------------------------------------------
    def ping(self) -> None:
        self._call(None, self._small.head_bucket)

    def ensure_bucket(self) -> None:
        try:
            self.ping()
        except (ObjectNotFound, StorageUnavailable):
            self._call(None, self.client.create_bucket)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            r = self._call(key, self._small.head_object, Key=key)
        except ObjectNotFound:
            return None
        return ObjectInfo(key, int(r["ContentLength"]), r["ETag"], r.get("ContentType"))

    def get_bytes(self, key: str) -> tuple[bytes, str]:
        r = self._call(key, self._small.get_object, Key=key)
        return self._read_body(r)

    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str] | None:
        if etag is None:
            return self.get_bytes(key)
        try:
            r = self._call(key, self._small.get_object, Key=key, IfNoneMatch=etag)
        except ClientError as err:
            if _code(err)[1] == 304:
                return None
            raise
        return self._read_body(r)

    @staticmethod
    def _read_body(r) -> tuple[bytes, str]:
        try:
            with r["Body"] as body:
                return body.read(), r["ETag"]
        except BotoCoreError as err:  # the body stalled or was cut after the headers
            message = _TIMEOUT if isinstance(err, ReadTimeoutError) else _UNAVAILABLE
            raise StorageUnavailable(message) from err

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        r = self._call(
            key, self._small.put_object, Key=key, Body=data,
            ContentType=content_type or content_type_for(key), sent_is_unknown=True,
        )
        return r["ETag"]

    def put_if(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        extra = {}
        if if_match is not None:
            extra["IfMatch"] = if_match
        if if_none_match is not None:
            extra["IfNoneMatch"] = if_none_match
        try:
            r = self._call(
                key, self._small.put_object, Key=key, Body=data,
                ContentType=content_type or content_type_for(key), sent_is_unknown=True,
                **extra,
            )
        except ObjectNotFound:
            # If-Match on a key that vanished: the version we held is gone.
            raise PreconditionFailed(key) from None
        return r["ETag"]

    def upload_file(self, key: str, path: Path | str, content_type: str | None = None) -> str:
        with open(path, "rb") as fh:
            return self.upload_stream(key, fh, content_type)

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        check_key(key)
        try:
            self.client.upload_fileobj(
                stream, self.bucket, key,
                ExtraArgs={"ContentType": content_type or content_type_for(key)},
                Config=_TRANSFER,
            )
        except (ClientError, BotoCoreError) as err:
            raise StorageUnavailable(_UNAVAILABLE) from err
        info = self.head(key)
        if info is None:
            raise StorageUnavailable(_UNAVAILABLE)
        return info.etag

    def download_file(self, key: str, path: Path | str) -> None:
        check_key(key)
        tmp = Path(f"{path}.part")
        try:
            self.client.download_file(self.bucket, key, str(tmp), Config=_TRANSFER)
        except ClientError as err:
            if _code(err)[1] == 404:
                raise ObjectNotFound(key) from None
            raise StorageUnavailable(_UNAVAILABLE) from err
        except BotoCoreError as err:
            raise StorageUnavailable(_UNAVAILABLE) from err
        tmp.replace(path)

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        kwargs = {}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        r = self._call(key, self.client.get_object, Key=key, **kwargs)
        body = r["Body"]

        def gen() -> Iterator[bytes]:
            with body:
                yield from body.iter_chunks(CHUNK)

        return gen()

    def delete(self, key: str) -> None:
        with contextlib.suppress(ObjectNotFound):
            self._call(key, self.client.delete_object, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        check_prefix(prefix)
        keys = [i.key for i in self.list(prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self._call(None, self.client.delete_objects, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def list(self, prefix: str) -> list[ObjectInfo]:
        check_prefix(prefix)
        out: list[ObjectInfo] = []
        token = None
        while True:
            kwargs = {"Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            r = self._call(None, self.client.list_objects_v2, **kwargs)
            for item in r.get("Contents", []):
                out.append(ObjectInfo(item["Key"], int(item["Size"]), item["ETag"]))
            if not r.get("IsTruncated"):
                return out
            token = r["NextContinuationToken"]

    def presign_get(self, key: str, expires: int, filename: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": check_key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def presign_put(self, key: str, content_type: str, expires: int) -> str:
        return self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": check_key(key), "ContentType": content_type},
            ExpiresIn=expires,
        )
