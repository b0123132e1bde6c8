"""A real S3 server on loopback for tests: moto's server app behind werkzeug.

Requests are serialized by one lock so that moto's conditional PUT (check, then write)
is atomic, as it is on S3 and R2. The server can be stopped and started again on the
same port (an outage); moto's state lives in this process, so objects survive it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Serialized:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


class _Handler(WSGIRequestHandler):
    """Quiet, and registers its connection so that stop() can cut it (a real outage)."""

    def setup(self):
        super().setup()
        with self.server.conn_lock:
            self.server.conns.add(self.connection)

    def finish(self):
        with self.server.conn_lock:
            self.server.conns.discard(self.connection)
        super().finish()

    def log_request(self, *args, **kwargs):
        pass


class S3Server:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.app = _Serialized(DomainDispatcherApplication(create_backend_app))
        self._server = None
        self._thread = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> S3Server:
        if self._server is None:
            self._server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                       request_handler=_Handler)
            self._server.conns = set()
            self._server.conn_lock = threading.Lock()
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._server.conn_lock:
                conns = list(self._server.conns)
            for conn in conns:  # kept-alive connections would otherwise go on serving
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._thread.join(timeout=5)
            self._server = None
            self._thread = None
