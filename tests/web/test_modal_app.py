"""modal_app imports offline; its web function serves the real app; the web image is lean."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import modal

import modal_app

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "cv2", "opencv", "av", "numpy", "spandrel", "numba")


def test_app_is_named_and_has_the_web_function():
    assert modal_app.app.name == "reel-ballers"
    assert isinstance(modal_app.web, modal.Function)


def test_web_local_serves_the_api(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("STORAGE", "S3_ENDPOINT_URL", "R2_ENDPOINT_URL", "AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)
    app = modal_app.web.local()

    async def session() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://modal") as client:
            health = await client.get("/api/health")
            put = await client.put("/api/settings",
                                   json={"projectFilters": {"statusFilter": "exported"}})
            get = await client.get("/api/settings")
            return [health, put, get]

    health, put, get = asyncio.run(session())
    assert health.status_code == 200 and health.json()["storage"] == "ok"
    assert health.json()["storage_backend"] == "local"
    assert put.status_code == 200
    assert get.json() == put.json()
    assert get.json()["projectFilters"]["statusFilter"] == "exported"
    assert (tmp_path / "objects" / "a" / "database.sqlite").is_file()  # the embedded store


def test_web_image_has_no_torch_or_cv2():
    """The web image is built from WEB_PACKAGES alone (plus lib/ and web/ sources)."""
    text = " ".join(modal_app.WEB_PACKAGES).lower()
    assert "fastapi" in text and "boto3" in text
    for name in ("torch", "cv2", "opencv", "spandrel", "av>", "numpy", "numba"):
        assert name not in text, f"{name} in the web image"
    assert "torch>=2.3" not in modal_app.MEDIA_PACKAGES


def test_importing_the_web_app_pulls_in_no_media_stack():
    code = (
        "import json, sys\n"
        "import web.app, web.deps, web.media, modal_app\n"
        "web.app.create_app\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
