"""Dependencies: identity (current_user), the user's database, the object store, settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from starlette.requests import HTTPConnection

from lib.auth import InvalidToken, verify_token
from lib.config import Settings
from lib.db.sync import UserDatabases
from lib.errors import DomainError
from lib.jobs.control import JobServices
from lib.jobs.progress_store import ProgressStore
from lib.jobs.runner import Runner
from lib.keys import USER_ID_RE
from lib.storage import ObjectStore

T = TypeVar("T")

SESSION_COOKIE = "rb_session"


class Unauthorized(DomainError):
    status = 401


def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def get_store(conn: HTTPConnection) -> ObjectStore:
    return conn.app.state.store


def get_runner(conn: HTTPConnection) -> Runner:
    return conn.app.state.runner


def get_progress(conn: HTTPConnection) -> ProgressStore:
    return conn.app.state.progress


def services(conn: HTTPConnection) -> JobServices:
    """What starting and waiting for a job needs: the databases, the runner, progress."""
    state = conn.app.state
    return JobServices(state.dbs, state.runner, state.progress)


def current_user(conn: HTTPConnection) -> str:
    """The user namespace of this request (or WebSocket).

    dev: the `X-User-ID` header, default user when absent (the editor never sends it).
    token: a signed token from `Authorization: Bearer` or the session cookie; headers that
    name a user are ignored.
    """
    settings: Settings = conn.app.state.settings
    if settings.auth_mode == "token":
        auth = conn.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        token = token or conn.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthorized("Sign in required.")
        try:
            return verify_token(settings.auth_secret or "", token)
        except InvalidToken:
            raise Unauthorized("Your session is invalid or has expired; sign in again.") from None
    user_id = conn.headers.get("x-user-id") or settings.default_user
    if not USER_ID_RE.match(user_id):
        raise DomainError("X-User-ID must be 1-64 characters of letters, digits, '_' or '-'.")
    return user_id


class UserDb:
    """The current user's database: `read(fn)` and `write(fn)` units of work."""

    def __init__(self, dbs: UserDatabases, user_id: str):
        self.dbs = dbs
        self.user_id = user_id

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.dbs.read(self.user_id, fn)

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.dbs.write(self.user_id, fn)


def get_db(conn: HTTPConnection, user_id: Annotated[str, Depends(current_user)]) -> UserDb:
    return UserDb(conn.app.state.dbs, user_id)


CurrentUser = Annotated[str, Depends(current_user)]
Db = Annotated[UserDb, Depends(get_db)]
Store = Annotated[ObjectStore, Depends(get_store)]
AppSettings = Annotated[Settings, Depends(get_settings)]
JobRunner = Annotated[Runner, Depends(get_runner)]
Progress = Annotated[ProgressStore, Depends(get_progress)]
