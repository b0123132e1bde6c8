"""Signed session tokens for AUTH_MODE=token: `{user_id}.{expires}.{hmac}` (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import time

from lib.errors import BadRequest
from lib.keys import validate_user_id


class InvalidToken(Exception):
    pass


def _sig(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def mint_token(secret: str, user_id: str, ttl_seconds: int = 30 * 24 * 3600) -> str:
    validate_user_id(user_id)
    payload = f"{user_id}.{int(time.time()) + ttl_seconds}"
    return f"{payload}.{_sig(secret, payload)}"


def verify_token(secret: str, token: str) -> str:
    """The user id in a valid, unexpired token; raises InvalidToken otherwise."""
    try:
        user_id, expires, sig = token.rsplit(".", 2)
        expires_at = int(expires)
        validate_user_id(user_id)
    except (ValueError, BadRequest):
        raise InvalidToken("malformed") from None
    # bytes: compare_digest refuses non-ASCII str (a crafted header would be a 500)
    if not hmac.compare_digest(_sig(secret, f"{user_id}.{expires}").encode(), sig.encode()):
        raise InvalidToken("bad signature")
    if expires_at < time.time():
        raise InvalidToken("expired")
    return user_id
