"""A tiny threaded HTTP forwarding proxy on loopback that injects storage faults.

Put it between an S3 client and the moto server: every request is forwarded on a fresh
upstream connection and its response relayed, except that

- `arm(fault)` applies `fault` to the next matching request (a PUT of a database object by
  default): "reset" forwards it, reads storage's answer and resets the client's connection
  instead of relaying it (the write landed, its response is lost); "delay" forwards it and
  holds the answer past the client's read timeout; "drop" resets before forwarding (the
  write never reached storage);
- `hang()` makes it accept connections and read requests but never answer (a stopped
  endpoint), until `release()`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from urllib.parse import urlsplit


def _is_db_put(method: str, path: str) -> bool:
    return method == "PUT" and path.split("?", 1)[0].endswith("/database.sqlite")


class FaultProxy:
    def __init__(self, upstream: str, delay_s: float = 3.0):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay_s = delay_s
        self.forwarded: list[tuple[str, str]] = []  # (method, path) that reached storage
        self.faulted: list[tuple[str, str, str]] = []  # (fault, method, path)
        self._faults: list[tuple[str, object]] = []
        self._lock = threading.Lock()
        self._hang = threading.Event()
        self._released = threading.Event()
        self._closed = False
        self._conns: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control -------------------------------------------------------------------------
    def arm(self, fault: str, match=_is_db_put) -> None:
        assert fault in ("reset", "delay", "drop")
        with self._lock:
            self._faults.append((fault, match))

    def hang(self) -> None:
        self._released.clear()
        self._hang.set()

    def release(self) -> None:
        """Stop hanging: the held connections are closed unanswered."""
        self._hang.clear()
        self._released.set()

    def close(self) -> None:
        self._closed = True
        self.release()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    # -- serving -------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _take_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for i, (fault, match) in enumerate(self._faults):
                if match(method, path):
                    del self._faults[i]
                    self.faulted.append((fault, method, path))
                    return fault
        return None

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while not self._closed:
                head = _read_head(reader)
                if head is None:
                    return
                if self._hang.is_set():
                    self._released.wait()  # accepted, read, never answered
                    return
                method, path = head[0].split(" ")[:2]
                headers = _headers(head[1:])
                if headers.get("expect", "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = reader.read(int(headers.get("content-length", "0")))
                fault = self._take_fault(method, path)
                if fault == "drop":
                    _reset(conn)
                    return
                response = self._forward(head, body)
                with self._lock:
                    self.forwarded.append((method, path))
                if fault == "reset":
                    _reset(conn)
                    return
                if fault == "delay":
                    time.sleep(self.delay_s)
                    with contextlib.suppress(OSError):
                        conn.sendall(response)
                    return
                conn.sendall(response)
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                reader.close()  # the socket closes (or resets) once its file is closed too
                conn.close()

    def _forward(self, head: list[str], body: bytes) -> bytes:
        lines = [head[0]] + [h for h in head[1:]
                             if h.split(":", 1)[0].strip().lower() not in ("connection", "expect")]
        lines.append("Connection: close")
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            chunks = []
            while chunk := up.recv(65536):
                chunks.append(chunk)
        raw = b"".join(chunks)
        # The upstream connection closes after each answer: tell the client so, too.
        status_and_headers, sep, rest = raw.partition(b"\r\n\r\n")
        kept = [h for h in status_and_headers.split(b"\r\n")
                if not h.lower().startswith(b"connection:")]
        return b"\r\n".join(kept + [b"Connection: close"]) + sep + rest


def _read_head(reader) -> list[str] | None:
    lines = []
    while True:
        line = reader.readline(65537)
        if not line:
            return None
        line = line.rstrip(b"\r\n").decode("latin-1")
        if not line:
            if lines:
                return lines
            continue
        lines.append(line)


def _headers(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a dropped middlebox connection does."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
