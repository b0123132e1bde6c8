"""Modal wiring only: the app, its images and secrets, the web endpoint, one function per
job body, and `modal run` entrypoints for ad hoc jobs. Logic lives in lib/, web/, functions/.

Deploy: `modal deploy modal_app.py` (secrets `r2-credentials` and `auth` must exist).
"""

from __future__ import annotations

import modal

APP_NAME = "reel-ballers"
app = modal.App(APP_NAME)

WEB_PACKAGES = [
    "fastapi>=0.115", "pydantic>=2.7", "boto3>=1.35", "uvicorn>=0.30",
    "python-multipart>=0.0.9", "httpx>=0.27",
]
MEDIA_PACKAGES = [
    "numpy>=1.26", "av>=12", "imageio-ffmpeg>=0.5", "opencv-python-headless>=4.9", "pillow>=10",
]
SR_WEIGHTS_URL = (
    "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-general-x4v3.pth"
)
SR_WEIGHTS_PATH = "/models/realesr-general-x4v3.pth"

# The web image: no torch, no cv2, no job bodies.
web_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES)
    .add_local_python_source("lib", "web")
)
# CPU job bodies: ffmpeg comes from imageio-ffmpeg's binary and PyAV's libraries (no apt).
media_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES, *MEDIA_PACKAGES)
    .add_local_python_source("lib", "functions")
    .add_local_dir("functions/assets", "/root/functions/assets")
)
# GPU job bodies: torch + spandrel, with the SR weights baked in at build (never per call).
gpu_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES, *MEDIA_PACKAGES, "torch>=2.3", "spandrel>=0.4")
    .run_commands(
        "mkdir -p /models",
        "python -c \"import urllib.request as u; "
        f"u.urlretrieve('{SR_WEIGHTS_URL}', '{SR_WEIGHTS_PATH}')\"",
    )
    .env({"SR_WEIGHTS": SR_WEIGHTS_PATH})
    .add_local_python_source("lib", "functions")
    .add_local_dir("functions/assets", "/root/functions/assets")
)

secrets = [modal.Secret.from_name("r2-credentials"), modal.Secret.from_name("auth")]


def _progress():
    from lib.jobs.progress_store import MemoryProgressStore, ModalDictProgressStore

    return MemoryProgressStore() if modal.is_local() else ModalDictProgressStore()


_CONTEXT = {}


def _context():
    """One worker context per container (and per storage configuration): store, database
    cache, progress store."""
    from lib.config import Settings

    settings = Settings.from_env()
    key = (settings.storage, str(settings.data_dir), settings.s3_endpoint_url, settings.s3_bucket)
    if key not in _CONTEXT:
        from lib.db.sync import UserDatabases
        from lib.jobs.worker import WorkerContext
        from lib.storage import make_store

        store = make_store(settings)
        _CONTEXT[key] = WorkerContext(store, UserDatabases(store), _progress())
    return _CONTEXT[key]


def _run(job_name: str, payload: dict) -> dict:
    from lib.jobs.worker import handle

    return handle(_context(), job_name, payload)


@app.function(image=gpu_image, secrets=secrets, gpu="L4", cpu=4.0, memory=8192, timeout=3600)
def framing(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=4.0, memory=4096, timeout=3600)
def overlay(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=2.0, memory=2048, timeout=1800)
def extract(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=4.0, memory=4096, timeout=3600)
def compile(job_name: str, payload: dict) -> dict:  # noqa: A001 - the job's name
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=2.0, memory=2048, timeout=900)
def before_after(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=1.0, memory=1024, timeout=180)
def verify_upload(job_name: str, payload: dict) -> dict:
    """The upload probe (lib.media.verify): reads headers and first frames only."""
    return _run(job_name, payload)


JOB_FUNCTIONS = {"framing": framing, "overlay": overlay, "extract": extract, "compile": compile,
                 "before_after": before_after, "verify_upload": verify_upload}


def _services():
    from lib.jobs.control import JobServices
    from lib.jobs.runner import ModalRunner

    ctx = _context()
    return JobServices(ctx.dbs, ModalRunner(JOB_FUNCTIONS), ctx.progress)


@app.function(image=web_image, secrets=secrets, timeout=3600)
@modal.concurrent(max_inputs=100)
@modal.asgi_app()
def web():
    from lib.config import Settings
    from lib.jobs.runner import ModalRunner
    from web.app import create_app

    if modal.is_local():  # `web.local()`: the embedded defaults (local store, local runner)
        return create_app(Settings.from_env())
    ctx = _context()
    return create_app(Settings.from_env(), store=ctx.store,
                      runner=ModalRunner(JOB_FUNCTIONS), progress=ctx.progress)


@app.function(image=web_image, secrets=secrets, timeout=3600)
def ops(command: str, args: dict) -> dict:
    """Ad hoc operations run next to the data (see the entrypoints below)."""
    import os

    from lib.jobs.records import ops as operations

    services = _services()
    if command == "mint_token":
        return {"token": operations.session_token(os.environ.get("AUTH_SECRET", ""),
                                                  args["user_id"], args.get("days", 30))}
    fn = {"render_project": operations.render_project,
          "overlay_project": operations.overlay_project,
          "extract_clip": operations.extract_clip,
          "inspect_user_db": operations.inspect_user_db}[command]
    return fn(services, **args)


@app.local_entrypoint()
def render_project(user: str, project: int):
    print(ops.remote("render_project", {"user_id": user, "project_id": project}))


@app.local_entrypoint()
def overlay_project(user: str, project: int, effect: str = ""):
    print(ops.remote("overlay_project", {"user_id": user, "project_id": project,
                                         "effect_type": effect or None}))


@app.local_entrypoint()
def extract_clip(user: str, clip: int):
    print(ops.remote("extract_clip", {"user_id": user, "raw_clip_id": clip}))


@app.local_entrypoint()
def inspect_user_db(user: str):
    print(ops.remote("inspect_user_db", {"user_id": user}))


@app.local_entrypoint()
def mint_token(user: str, days: int = 30):
    print(ops.remote("mint_token", {"user_id": user, "days": days})["token"])
