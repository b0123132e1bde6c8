"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from lib.config import Settings
from lib.db.sync import UserDatabases
from lib.jobs.progress_hub import ProgressHub
from lib.jobs.progress_store import MemoryProgressStore, ProgressStore
from lib.jobs.runner import LocalRunner, Runner, current_local_call_id
from lib.jobs.worker import WorkerContext, handle
from lib.storage import ObjectStore, make_store
from web.body_limits import BodyLimits
from web.editor import install_editor
from web.errors import install_error_handlers
from web.openapi import install_openapi
from web.routers import (
    auth,
    detect,
    downloads,
    export_jobs,
    exports,
    games,
    health,
    overlay,
    projects,
    raw_clips,
    storage_local,
    working_clips,
    ws,
)
from web.routers import settings as settings_router


def create_app(
    settings: Settings | None = None,
    *,
    store: ObjectStore | None = None,
    runner: Runner | None = None,
    progress: ProgressStore | None = None,
) -> FastAPI:
    """Build the API on `settings` (environment by default). `store`, `runner` and
    `progress` override what the settings would make (tests and modal_app pass them)."""
    settings = settings or Settings.from_env()
    if settings.auth_mode == "token" and not settings.auth_secret:
        raise RuntimeError("AUTH_MODE=token needs AUTH_SECRET.")
    store = store or make_store(settings)
    app = FastAPI(title="Reel Ballers API", version="1.0")
    app.state.settings = settings
    app.state.store = store
    app.state.dbs = UserDatabases.from_settings(store, settings)
    app.state.progress = progress or MemoryProgressStore()
    app.state.hub = ProgressHub(app.state.progress, interval=settings.progress_poll_s,
                                max_reads_per_s=settings.progress_max_reads_per_s)
    if runner is None:
        context = WorkerContext(store, app.state.dbs, app.state.progress)
        runner = LocalRunner(
            lambda name, payload: handle(context, name, payload, current_local_call_id()),
            workers=settings.runner_workers)
    app.state.runner = runner
    app.add_middleware(BodyLimits, settings=settings)  # inside CORS: its 413s carry CORS headers
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    install_error_handlers(app)
    routers = (health, settings_router, auth, storage_local, games, raw_clips, projects,
               working_clips, exports, export_jobs, ws, overlay, downloads, detect)
    for module in routers:
        app.include_router(module.router)
    install_openapi(app)
    if settings.editor_dir is not None:  # last: the SPA fallback never shadows a route
        install_editor(app, settings.editor_dir)
    logging.getLogger("reel_ballers").setLevel(logging.INFO)
    return app
