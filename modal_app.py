"""Modal wiring only: the app, its images and secrets, the web endpoint, one function per
job body, and `modal run` entrypoints for ad hoc jobs. Logic lives in lib/, web/, functions/.

Deploy: README, "Deploying on Modal" (secrets `r2-credentials` and `auth` with their required
keys, the bucket, optionally the built editor, then `modal deploy modal_app.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import modal

APP_NAME = "reel-ballers"
app = modal.App(APP_NAME)

ROOT = Path(__file__).resolve().parent  # local paths are relative to this file, not the cwd
REQUIREMENTS = ROOT / "requirements"
EDITOR_REMOTE_DIR = "/root/editor"
SR_WEIGHTS_URL = (
    "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-general-x4v3.pth"
)
SR_WEIGHTS_SHA256 = "8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292"
SR_WEIGHTS_PATH = "/models/realesr-general-x4v3.pth"
# Modal's GPU hosts run a CUDA 12.x driver: the cu128 wheel of the pinned torch runs on it.
TORCH_INDEX = "https://download.pytorch.org/whl/cu128"

# The one switch for framing's hardware: the SR path is real, so framing runs on the GPU image
# (weights loaded once per container in FramingGpu.load); False puts it back on the CPU media
# image with Lanczos.
FRAMING_ON_GPU = True
# The GPU whose cost per output minute is lowest for the compact SR model and the detector:
# T4. realesr-general-x4v3 at 202x360 is ~0.18 TFLOP per frame in fp16 (32 convs of 64
# channels) and ~0.6 GB of activation traffic; a T4 (65 TFLOPS fp16 tensor, 320 GB/s) does that
# in ~2-3 ms, i.e. hundreds of frames/s, far above the ~80 frames/s that decoding and x264 on
# the container's CPUs sustain. A faster GPU (L4, A10G) would only wait longer on the CPU side
# at a higher price per second, so T4 is the cheapest per output minute.
VISION_GPU = "T4"


def requirements(name: str) -> list[str]:
    """The pinned packages of requirements/<name>.txt (pyproject reads the same files). The
    files exist where `modal deploy` runs; a container re-importing this module needs none."""
    path = REQUIREMENTS / f"{name}.txt"
    if not path.is_file():
        if modal.is_local():
            raise RuntimeError(f"{path} is missing: the image pins live there.")
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    # Images get Modal's own client; installing another would fight it.
    return [line for line in lines if line and not line.startswith("modal==")]


WEB_PACKAGES = requirements("web")
MEDIA_PACKAGES = requirements("media")
GPU_PACKAGES = requirements("gpu")
_FROM_TORCH_INDEX = ("torch==", "torchvision==")


def editor_build() -> Path | None:
    """The built editor to serve same-origin: `EDITOR_BUILD_DIR` where `modal deploy` runs
    (README: build, then deploy). None when unset; an unusable directory stops the deploy."""
    value = os.environ.get("EDITOR_BUILD_DIR")
    if not value or not modal.is_local():
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if not (path / "index.html").is_file():
        raise RuntimeError(f"EDITOR_BUILD_DIR {path} has no index.html: build the editor first.")
    return path


# The web image: no torch, no cv2, no job bodies; the built editor when there is one.
web_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES)
    .add_local_python_source("lib", "web")
)
if (EDITOR_BUILD := editor_build()) is not None:
    web_image = web_image.env({"EDITOR_DIR": EDITOR_REMOTE_DIR}).add_local_dir(
        EDITOR_BUILD, EDITOR_REMOTE_DIR)
# numba compiles the resampling passes on a container's first frame (~1 s) and caches them
# beside the source, which is mounted at start and may be read-only: cache in /tmp instead.
NUMBA_ENV = {"NUMBA_CACHE_DIR": "/tmp/numba-cache"}
# CPU job bodies: ffmpeg comes from imageio-ffmpeg's binary and PyAV's libraries (no apt).
media_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES, *MEDIA_PACKAGES)
    .env(NUMBA_ENV)
    .add_local_python_source("lib", "functions")
    .add_local_dir(ROOT / "functions" / "assets", "/root/functions/assets")
)
# GPU job bodies: torch (CUDA 12.8 build) + spandrel, the SR weights baked in at build.
gpu_image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*WEB_PACKAGES, *[p for p in MEDIA_PACKAGES if not p.startswith("onnxruntime==")])
    .pip_install(*[p for p in GPU_PACKAGES if p.startswith(_FROM_TORCH_INDEX)],
                 index_url=TORCH_INDEX)
    .pip_install(*[p for p in GPU_PACKAGES if not p.startswith(_FROM_TORCH_INDEX)])
    # the weights, checked in the same build step: a changed release asset fails the build
    .run_commands(
        "mkdir -p /models",
        "python -c \"import hashlib, urllib.request as u; "
        f"u.urlretrieve('{SR_WEIGHTS_URL}', '{SR_WEIGHTS_PATH}'); "
        f"d = hashlib.sha256(open('{SR_WEIGHTS_PATH}', 'rb').read()).hexdigest(); "
        f"assert d == '{SR_WEIGHTS_SHA256}', 'realesr-general-x4v3.pth changed: ' + d\"",
    )
    .env({"SR_WEIGHTS": SR_WEIGHTS_PATH, "SR_WEIGHTS_SHA256": SR_WEIGHTS_SHA256, **NUMBA_ENV})
    .add_local_python_source("lib", "functions")
    .add_local_dir(ROOT / "functions" / "assets", "/root/functions/assets")
)

# The server refuses to start a function whose secret lacks one of these keys.
STORAGE_KEYS = ["S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
AUTH_KEYS = ["AUTH_MODE", "AUTH_SECRET"]
secrets = [modal.Secret.from_name("r2-credentials", required_keys=STORAGE_KEYS),
           modal.Secret.from_name("auth", required_keys=AUTH_KEYS)]


def deployed() -> bool:
    """True inside a Modal container (`modal deploy`/`modal run`), False for `.local()`."""
    return not modal.is_local()


def _settings():
    """The environment's settings; a deployed container refuses laptop settings (local
    storage, AUTH_MODE=dev, development secrets) instead of serving them on a public URL."""
    from lib.config import Settings, check_deployed

    settings = Settings.from_env()
    return check_deployed(settings) if deployed() else settings


def _progress():
    from lib.jobs.progress_store import MemoryProgressStore, ModalDictProgressStore

    return ModalDictProgressStore() if deployed() else MemoryProgressStore()


_CONTEXT = {}


def _context():
    """One worker context per container (and per storage configuration): store, database
    cache, progress store."""
    settings = _settings()
    key = (settings.storage, str(settings.data_dir), settings.s3_endpoint_url, settings.s3_bucket)
    if key not in _CONTEXT:
        from lib.db.sync import UserDatabases
        from lib.jobs.worker import WorkerContext
        from lib.storage import make_store

        store = make_store(settings)
        dbs = UserDatabases.from_settings(store, settings)
        _CONTEXT[key] = WorkerContext(store, dbs, _progress())
    return _CONTEXT[key]


def _run(job_name: str, payload: dict) -> dict:
    """Every job function's body. The call id lets a preempted input, restarted by Modal as
    the same call, re-claim its own job; `handle` maps a TimeoutError inside the job."""
    from lib.jobs.worker import handle

    return handle(_context(), job_name, payload, modal.current_function_call_id())


# Containers: job functions scale from zero (a job pays its cold start once, minutes of
# work follow); max_containers caps the bill of a burst (README, "Sizing").
if FRAMING_ON_GPU:
    @app.cls(image=gpu_image, secrets=secrets, gpu=VISION_GPU, cpu=4.0, memory=8192,
             timeout=3600, max_containers=10)
    class FramingGpu:
        @modal.enter()
        def load(self) -> None:
            """Once per container, before any input: the SR weights and the person detector
            load here; both are kept per process for the job calls of this container."""
            _load_vision()

        @modal.method()
        def run(self, job_name: str, payload: dict) -> dict:
            return _run(job_name, payload)

    framing = FramingGpu().run
else:
    @app.function(image=media_image, secrets=secrets, cpu=4.0, memory=4096, timeout=3600,
                  max_containers=10)
    def framing(job_name: str, payload: dict) -> dict:
        return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=4.0, memory=4096, timeout=3600,
              max_containers=10)
def overlay(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=2.0, memory=2048, timeout=1800,
              max_containers=20)
def extract(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=4.0, memory=4096, timeout=3600,
              max_containers=5)
def compile(job_name: str, payload: dict) -> dict:  # noqa: A001 - the job's name
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=2.0, memory=2048, timeout=900,
              max_containers=10)
def before_after(job_name: str, payload: dict) -> dict:
    return _run(job_name, payload)


@app.function(image=media_image, secrets=secrets, cpu=1.0, memory=1024, timeout=180)
def verify_upload(job_name: str, payload: dict) -> dict:
    """The upload probe (lib.media.verify): reads headers and first frames only."""
    return _run(job_name, payload)



@app.cls(image=gpu_image, secrets=secrets, gpu=VISION_GPU, cpu=2.0, memory=4096, timeout=900,
         max_containers=10)
class VisionGpu:
    """Player detection and following (`detect`, `follow` jobs): the detector loads once."""

    @modal.enter()
    def load(self) -> None:
        _load_vision(upscaler=False)

    @modal.method()
    def run(self, job_name: str, payload: dict) -> dict:
        return _run(job_name, payload)


def _load_vision(upscaler: bool = True) -> None:
    from lib.vision.detect import shared_detector

    shared_detector()
    if upscaler:
        from lib.vision.choose import choose_upscaler

        choose_upscaler("auto")


vision = VisionGpu().run
JOB_FUNCTIONS = {"framing": framing, "overlay": overlay, "extract": extract, "compile": compile,
                 "before_after": before_after, "detect": vision, "follow": vision,
                 "verify_upload": verify_upload}


def _services():
    from lib.jobs.control import JobServices
    from lib.jobs.runner import ModalRunner

    ctx = _context()
    return JobServices(ctx.dbs, ModalRunner(JOB_FUNCTIONS), ctx.progress)


@app.function(image=web_image, secrets=secrets, timeout=3600, memory=1024, min_containers=1,
              max_containers=10)
@modal.concurrent(max_inputs=100)
@modal.asgi_app()
def web():
    from lib.jobs.runner import ModalRunner
    from web.app import create_app

    if not deployed():  # `web.local()`: the embedded defaults (local store, local runner)
        return create_app(_settings())
    ctx = _context()
    return create_app(_settings(), store=ctx.store, runner=ModalRunner(JOB_FUNCTIONS),
                      progress=ctx.progress)


@app.function(image=web_image, secrets=secrets, timeout=3600)
def ops(command: str, args: dict) -> dict:
    """Ad hoc operations run next to the data (see the entrypoints below)."""
    import os

    from lib.jobs import ops as operations

    services = _services()
    if command == "mint_token":
        return {"token": operations.session_token(os.environ.get("AUTH_SECRET", ""),
                                                  args["user_id"], args.get("days", 30))}
    fn = {"render_project": operations.render_project,
          "overlay_project": operations.overlay_project,
          "extract_clip": operations.extract_clip,
          "inspect_user_db": operations.inspect_user_db,
          "detect": operations.detect,
          "auto_frame": operations.auto_frame}[command]
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


@app.local_entrypoint()
def detect(user: str, project: int, t: str = "0", confidence: float = 0.5):
    """Players in a project's working video at the times `t` (comma-separated seconds)."""
    times = [float(v) for v in t.split(",")]
    print(ops.remote("detect", {"user_id": user, "project_id": project, "timestamps": times,
                                "confidence": confidence}))


@app.local_entrypoint()
def auto_frame(user: str, project: int, clip: int, frame: int, box: str):
    """Follow the player in `box` ("x,y,width,height", source pixels) from editor tick
    `frame` of a working clip: its crop keyframes become one new framing version."""
    x, y, w, h = (float(v) for v in box.split(","))
    print(ops.remote("auto_frame", {"user_id": user, "project_id": project, "clip_id": clip,
                                    "frame": frame,
                                    "box": {"x": x, "y": y, "width": w, "height": h}}))


bench_image = gpu_image.add_local_python_source("tests").add_local_dir(
    ROOT / "bench", "/root/bench")


@app.function(image=bench_image, gpu=VISION_GPU, cpu=4.0, memory=8192, timeout=1800)
def upscale_bench_remote() -> str:
    """bench/upscale.py on the GPU: its output, ending with the RESULT line."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "/root/bench/upscale.py"], capture_output=True,
                         text=True, cwd="/root")
    return run.stdout + run.stderr


@app.local_entrypoint()
def upscale_bench():
    print(upscale_bench_remote.remote())

