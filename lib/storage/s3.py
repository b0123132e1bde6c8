"""S3Store: any S3 API (Cloudflare R2 in production, a moto server in tests) through boto3."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lib.disposition import content_disposition
from lib.errors import StorageUnavailable
from lib.storage.base import (
    CHUNK,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    check_key,
    check_prefix,
    content_type_for,
)

_MB = 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=64 * _MB, multipart_chunksize=16 * _MB)
_UNAVAILABLE = "Storage is unreachable right now; please try again shortly."


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
    ):
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=None if region == "auto" and endpoint_url is None else region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=32,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    # -- error mapping -----------------------------------------------------------------
    def _call(self, key: str | None, fn, **kwargs):
        if key is not None:
            check_key(key)
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as err:
            code, status = _code(err)
            if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                raise ObjectNotFound(key or "") from None
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                raise PreconditionFailed(key) from None
            if status == 304:
                raise
            if status >= 500 or status == 0:
                raise StorageUnavailable(_UNAVAILABLE) from err
            raise StorageUnavailable(f"Storage refused the request ({code or status}).") from err
        except BotoCoreError as err:
            raise StorageUnavailable(_UNAVAILABLE) from err

    # -- protocol ----------------------------------------------------------------------
    def ping(self) -> None:
        self._call(None, self.client.head_bucket)

    def ensure_bucket(self) -> None:
        try:
            self.ping()
        except (ObjectNotFound, StorageUnavailable):
            self._call(None, self.client.create_bucket)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            r = self._call(key, self.client.head_object, Key=key)
        except ObjectNotFound:
            return None
        return ObjectInfo(key, int(r["ContentLength"]), r["ETag"], r.get("ContentType"))

    def get_bytes(self, key: str) -> tuple[bytes, str]:
        r = self._call(key, self.client.get_object, Key=key)
        with r["Body"] as body:
            return body.read(), r["ETag"]

    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str] | None:
        if etag is None:
            return self.get_bytes(key)
        try:
            r = self._call(key, self.client.get_object, Key=key, IfNoneMatch=etag)
        except ClientError as err:
            if _code(err)[1] == 304:
                return None
            raise
        with r["Body"] as body:
            return body.read(), r["ETag"]

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        r = self._call(
            key, self.client.put_object, Key=key, Body=data,
            ContentType=content_type or content_type_for(key),
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
                key, self.client.put_object, Key=key, Body=data,
                ContentType=content_type or content_type_for(key), **extra,
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
