"""Object storage: the ObjectStore protocol, a local directory store and an S3/R2 store.

Owns every byte we keep, behind one protocol (get/put/put_if/head/list/delete, presigned URLs).
May import only the kernel.
"""

import logging

from lib.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    PreconditionFailed,
    content_type_for,
)
from lib.storage.local import LocalDirStore

log = logging.getLogger(__name__)

__all__ = [
    "delete_objects",
    "LocalDirStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PreconditionFailed",
    "content_type_for",
    "make_store",
]


def delete_objects(store: ObjectStore, user_id: str, objects) -> None:
    """After a commit: delete the objects `(kind, name)` whose rows are gone. A failure leaves
    an orphan object (swept later), never a dangling row, so it is logged, not raised."""
    from lib.keys import object_key

    for kind, name in objects:
        try:
            store.delete(object_key(user_id, kind, name))
        except Exception:
            log.warning("could not delete %s/%s of user %s", kind, name, user_id, exc_info=True)


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
            db_connect_timeout=settings.db_connect_timeout_s,
            db_read_timeout=settings.db_read_timeout_s,
        )
    return LocalDirStore(settings.local_objects_dir, url_secret=settings.url_secret)
