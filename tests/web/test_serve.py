"""`python -m web` / `make serve`: where the server listens (HOST, PORT)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from web.__main__ import listen_addresses

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def health(url: str) -> int | None:
    try:
        return httpx.get(url + "/api/health", timeout=2).status_code
    except httpx.HTTPError:
        return None


@pytest.fixture
def serve(tmp_path):
    procs = []

    def start(**env) -> int:
        port = free_port()
        environ = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
        environ.update(PORT=str(port), DATA_DIR=str(tmp_path / "data"), **env)
        proc = subprocess.Popen([sys.executable, "-m", "web"], cwd=ROOT, env=environ,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 30
        while health(f"http://127.0.0.1:{port}") is None and time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited"
            time.sleep(0.2)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_localhost_means_both_loopbacks():
    assert listen_addresses(None)[0] == "127.0.0.1"
    assert listen_addresses("localhost") == listen_addresses(None)
    assert listen_addresses("0.0.0.0") == ("0.0.0.0",)


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_unset_host_answers_on_ipv4_and_ipv6_loopback(serve):
    port = serve()
    assert health(f"http://127.0.0.1:{port}") == 200
    assert health(f"http://[::1]:{port}") == 200


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_an_explicit_host_is_bound_alone(serve):
    port = serve(HOST="127.0.0.1")
    assert health(f"http://127.0.0.1:{port}") == 200
    assert health(f"http://[::1]:{port}") is None


def test_make_serve_passes_host_and_port():
    out = subprocess.run(["make", "-n", "serve", "HOST=0.0.0.0", "PORT=8123"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "-m web --host 0.0.0.0 --port 8123" in out
    out = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "HOST"},
                         check=True).stdout
    assert "-m web  --port 8000" in out or "-m web --port 8000" in out
