"""Identity endpoints: who am I, token login (AUTH_MODE=token), delete my whole namespace."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from lib.auth import InvalidToken, verify_token
from lib.errors import Forbidden
from web.deps import SESSION_COOKIE, AppSettings, CurrentUser, Unauthorized

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    token: str


@router.get("/me")
def me(user_id: CurrentUser) -> dict:
    return {"user_id": user_id}


@router.post("/login")
def login(body: Login, settings: AppSettings) -> JSONResponse:
    """Exchange a signed token (minted with `modal run modal_app.py::mint_token`) for a
    session cookie, so the browser client needs no header of its own."""
    if settings.auth_mode != "token":
        return JSONResponse({"user_id": settings.default_user, "auth_mode": settings.auth_mode})
    try:
        user_id = verify_token(settings.auth_secret or "", body.token)
    except InvalidToken:
        raise Unauthorized("That sign-in token is invalid or has expired.") from None
    response = JSONResponse({"user_id": user_id, "auth_mode": "token"})
    response.set_cookie(SESSION_COOKIE, body.token, httponly=True, samesite="lax",
                        secure=True, max_age=30 * 24 * 3600)
    return response


@router.delete("/user")
def delete_user(user_id: CurrentUser, settings: AppSettings, request: Request) -> dict:
    """Delete every object and the database of the current user (the editor's e2e cleanup).
    The shared default user cannot be deleted this way."""
    if user_id == settings.default_user:
        raise Forbidden("The default user cannot be deleted.")
    deleted = request.app.state.dbs.delete_user(user_id)
    # `message` and `deleted` are what the old backend answered; clients log `message`
    return {"success": True, "user_id": user_id, "deleted_objects": deleted,
            "message": f"Deleted all data for user {user_id}", "deleted": True}
