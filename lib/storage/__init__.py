"""Object storage: the ObjectStore protocol, a local directory store and an S3/R2 store."""

from lib.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    PreconditionFailed,
    content_type_for,
)
from lib.storage.local import LocalDirStore

__all__ = [
    "LocalDirStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PreconditionFailed",
    "content_type_for",
    "make_store",
]


def make_store(settings) -> ObjectStore:
    """The store the settings ask for (local directory by default)."""
    if settings.storage == "s3":
        from lib.storage.s3 import S3Store

        return S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            region=settings.s3_region,
        )
    return LocalDirStore(settings.local_objects_dir, url_secret=settings.url_secret)
