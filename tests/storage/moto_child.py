"""The moto server in an OS process of its own, so a test can SIGSTOP it (a hung endpoint:
the kernel still accepts connections, nothing answers)."""

from __future__ import annotations

import threading


def serve(out) -> None:
    from tests.s3server import S3Server

    server = S3Server().start()
    out.send(server.port)
    threading.Event().wait()
