"""`python -m web`: serve the API locally (embedded defaults: local store, local runner)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from lib.config import Settings
from web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Reel Ballers API.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    app = create_app(Settings.from_env())
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
