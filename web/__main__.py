"""`python -m web`: serve the API locally (embedded defaults: local store, local runner).

`HOST` unset or `localhost` listens on both loopback addresses, 127.0.0.1 and ::1: a client
whose `localhost` resolves to IPv6 first (browsers and Node on many systems) would otherwise
be refused. Any other `HOST` (an address or a name) is bound as given, exactly one host.
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn

from lib.config import Settings
from web.app import create_app

LOOPBACKS = ("127.0.0.1", "::1")


def listen_addresses(host: str | None) -> tuple[str, ...]:
    """The addresses to bind for HOST."""
    if not host or host == "localhost":
        return LOOPBACKS if socket.has_ipv6 else LOOPBACKS[:1]
    return (host,)


def bind(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Reel Ballers API.")
    parser.add_argument("--host", default=os.environ.get("HOST") or None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or "8000"))
    args = parser.parse_args()
    if args.host not in (None, "localhost"):
        uvicorn.run(create_app(Settings.from_env()), host=args.host, port=args.port,
                    log_level="info")
        return
    sockets = []
    for address in listen_addresses(args.host):
        try:
            sockets.append(bind(address, args.port))
        except OSError:
            if address == LOOPBACKS[0]:
                raise
            # ::1 can be absent (IPv6 disabled); 127.0.0.1 alone is still a working server
    config = uvicorn.Config(create_app(Settings.from_env()), port=args.port, log_level="info")
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
