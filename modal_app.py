"""Modal wiring only: the app, its images and secrets, the web endpoint, the job functions.

Deploy: `modal deploy modal_app.py`. Logic lives in lib/, web/ and functions/.
"""

from __future__ import annotations

import modal

APP_NAME = "reel-ballers"
app = modal.App(APP_NAME)

_SOURCES = ("lib", "web", "functions")

# The web image: FastAPI + boto3 + modal, no torch and no cv2.
web_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(
        "fastapi>=0.115", "pydantic>=2.7", "boto3>=1.35", "uvicorn>=0.30",
        "python-multipart>=0.0.9", "httpx>=0.27",
    )
    .add_local_python_source(*_SOURCES)
)

secrets = [modal.Secret.from_name("r2-credentials"), modal.Secret.from_name("auth")]


def _web_app():
    from lib.config import Settings
    from web.app import create_app

    settings = Settings.from_env()
    return create_app(settings)


@app.function(image=web_image, secrets=secrets, timeout=3600, min_containers=0)
@modal.concurrent(max_inputs=100)
@modal.asgi_app()
def web():
    return _web_app()
