"""Identity (AUTH_MODE=dev and token), user isolation, JSON errors everywhere, CORS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lib.auth import InvalidToken, mint_token, verify_token
from lib.config import Settings
from lib.keys import Kind, database_key, new_name, object_key
from lib.storage import LocalDirStore
from tests.conftest import Api
from web.app import create_app
from web.deps import SESSION_COOKIE

SECRET = "test-auth-secret"
BAD_ID = "X-User-ID must be 1-64 characters of letters, digits, '_' or '-'."


def filters(client, headers=None) -> dict:
    r = client.get("/api/settings", headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()["projectFilters"]


# -- AUTH_MODE=dev -----------------------------------------------------------------------

def test_dev_default_user_is_a(local_api):
    assert local_api.client.get("/api/auth/me").json() == {"user_id": "a"}
    assert local_api.client.get("/api/auth/me", headers={"X-User-ID": "e2e_1_x"}).json() == {
        "user_id": "e2e_1_x"}
    local_api.client.put("/api/settings", json={"projectFilters": {"statusFilter": "all"}})
    assert local_api.store.head(database_key("a")) is not None


@pytest.mark.parametrize("uid", ["bad id", "x" * 65, "../a", "a/b", "é", "a.b"])
def test_dev_invalid_user_id_is_400(local_api, uid):
    for method, path in (("GET", "/api/settings"), ("PUT", "/api/settings"),
                         ("GET", "/api/auth/me")):
        r = local_api.client.request(method, path, json={}, headers={"X-User-ID": uid.encode()})
        assert r.status_code == 400
        assert r.json() == {"detail": BAD_ID}
    assert local_api.store.list("") == []  # nothing was created for anyone


def test_users_are_isolated(api):
    alice, bob = api.as_user("alice"), api.as_user("bob")
    api.client.put("/api/settings", json={"projectFilters": {"statusFilter": "exported"}},
                   headers=alice)
    assert filters(api.client, alice)["statusFilter"] == "exported"
    assert filters(api.client, bob)["statusFilter"] == "uncompleted"
    assert filters(api.client)["statusFilter"] == "uncompleted"  # default user `a`
    assert api.app.state.dbs.read("bob", lambda c: c.execute(
        "SELECT COUNT(*) FROM user_settings").fetchone()[0]) == 0
    assert {i.key.split("/")[0] for i in api.store.list("")} == {"alice"}


def test_delete_user_removes_every_object_of_that_user_only(api):
    keep = object_key("keeper", Kind.GAMES, new_name(".mp4"))
    gone = object_key("leaver", Kind.RAW_CLIPS, new_name(".mp4"))
    api.store.put_bytes(keep, b"k")
    api.store.put_bytes(gone, b"g")
    api.client.put("/api/settings", json={}, headers=api.as_user("leaver"))
    r = api.client.delete("/api/auth/user", headers=api.as_user("leaver"))
    assert r.status_code == 200
    assert r.json() == {"success": True, "user_id": "leaver", "deleted_objects": 2,
                        "message": "Deleted all data for user leaver", "deleted": True}
    assert api.store.list("leaver/") == []
    assert api.store.head(keep) is not None
    assert filters(api.client, api.as_user("leaver"))["statusFilter"] == "uncompleted"
    r = api.client.delete("/api/auth/user")
    assert r.status_code == 403 and r.json()["detail"]


def test_delete_user_leaves_no_empty_folders_in_the_local_store(local_api):
    user = local_api.as_user("leaver")
    for kind in (Kind.GAMES, Kind.RAW_CLIPS, Kind.UPLOADS, Kind.WORKING_VIDEOS):
        local_api.store.put_bytes(object_key("leaver", kind, new_name(".mp4")), b"x")
    local_api.client.put("/api/settings", json={}, headers=user)
    assert (local_api.store.root / "leaver").is_dir()
    r = local_api.client.delete("/api/auth/user", headers=user)
    assert r.status_code == 200 and r.json()["deleted_objects"] == 5
    assert not (local_api.store.root / "leaver").exists()


# -- AUTH_MODE=token ---------------------------------------------------------------------

@pytest.fixture
def token_api(tmp_path):
    harness = Api(LocalDirStore(tmp_path / "objects"), tmp_path, auth_mode="token",
                  auth_secret=SECRET)
    # The session cookie is Secure: talk to the app over https, as a deployment would.
    harness.client = TestClient(harness.app, base_url="https://testserver")
    yield harness
    harness.close()


def test_token_mode_needs_a_secret(tmp_path):
    with pytest.raises(RuntimeError):
        create_app(Settings(data_dir=tmp_path, auth_mode="token"),
                   store=LocalDirStore(tmp_path / "o"))


def test_token_roundtrip_and_rejections():
    token = mint_token(SECRET, "alice")
    assert verify_token(SECRET, token) == "alice"
    user, expires, sig = token.split(".")
    for bad in (f"bob.{expires}.{sig}", f"alice.{int(expires) + 1}.{sig}", "alice", "",
                mint_token("other-secret", "alice"), mint_token(SECRET, "alice", -10),
                f"../x.{expires}.{sig}"):
        with pytest.raises(InvalidToken):
            verify_token(SECRET, bad)


def test_token_mode_bearer(token_api):
    client = token_api.client
    r = client.get("/api/settings")
    assert r.status_code == 401 and r.json() == {"detail": "Sign in required."}
    alice = {"Authorization": f"Bearer {mint_token(SECRET, 'alice')}"}
    assert client.get("/api/auth/me", headers=alice).json() == {"user_id": "alice"}
    # X-User-ID is ignored in token mode: alone it is not enough, with a token it is moot.
    assert client.get("/api/auth/me", headers={"X-User-ID": "bob"}).status_code == 401
    assert client.get("/api/auth/me", headers={**alice, "X-User-ID": "bob"}).json() == {
        "user_id": "alice"}
    client.put("/api/settings", json={"projectFilters": {"creationFilter": "auto"}},
               headers={**alice, "X-User-ID": "bob"})
    assert token_api.store.head(database_key("alice")) is not None
    assert token_api.store.head(database_key("bob")) is None


@pytest.mark.parametrize("token", [
    mint_token(SECRET, "alice", ttl_seconds=-1),        # expired
    mint_token("someone-elses-secret", "alice"),        # wrong key
    mint_token(SECRET, "alice")[:-2] + "00",            # tampered signature
    "not-a-token",
    "alice.99999999999.\u00e9\u00e9",                      # non-ASCII signature
])
def test_token_mode_bad_or_expired_token_is_401(token_api, token):
    r = token_api.client.get("/api/settings",
                             headers={"Authorization": f"Bearer {token}".encode("latin-1")})
    assert r.status_code == 401
    assert r.json() == {"detail": "Your session is invalid or has expired; sign in again."}
    r = token_api.client.post("/api/auth/login", json={"token": token})
    assert r.status_code == 401 and r.json()["detail"]
    assert SESSION_COOKIE not in r.cookies
    if not token.isascii():
        return  # a cookie cannot carry it
    token_api.client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    r = token_api.client.get("/api/settings")  # the same token as a cookie
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_token_mode_login_cookie(token_api):
    client = token_api.client
    token = mint_token(SECRET, "carol")
    r = client.post("/api/auth/login", json={"token": token})
    assert r.status_code == 200 and r.json() == {"user_id": "carol", "auth_mode": "token"}
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={token}" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    # The browser now needs no header of its own.
    assert client.get("/api/auth/me").json() == {"user_id": "carol"}
    assert client.get("/api/auth/me", headers={"X-User-ID": "dave"}).json() == {
        "user_id": "carol"}
    r = client.post("/api/auth/login", json={})
    assert r.status_code == 422


def test_dev_mode_login_names_the_default_user(local_api):
    r = local_api.client.post("/api/auth/login", json={"token": "anything"})
    assert r.json() == {"user_id": "a", "auth_mode": "dev"}


# -- errors are JSON {"detail": ...} everywhere ------------------------------------------

def test_malformed_json_is_400(api):
    r = api.client.put("/api/settings", content=b'{"projectFilters": ',
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"] == "Request body is not valid JSON."


@pytest.mark.parametrize("body", [
    {"projectFilters": "complete"},
    {"projectFilters": {"statusFilter": 3}},
    {"framing": {"includeAudio": "perhaps"}},
    [],
    "settings",
])
def test_wrong_types_are_422_with_a_sentence(local_api, body):
    r = local_api.client.put("/api/settings", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("Invalid request: ")
    assert detail.endswith(".")


def test_unknown_route_and_method_are_json(local_api):
    r = local_api.client.get("/api/does-not-exist")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = local_api.client.post("/api/health")
    assert r.status_code == 405 and r.json() == {"detail": "Method Not Allowed"}


def test_unexpected_error_is_500_without_traceback(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), store=LocalDirStore(tmp_path / "o"))

    def explode() -> None:
        raise RuntimeError("secret internals /srv/app.py line 42")

    app.add_api_route("/api/explode", explode)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/explode")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal server error."}
    assert "secret" not in r.text and "Traceback" not in r.text


# -- CORS ----------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://localhost:3000"])
def test_cors_preflight_for_the_editor_dev_origins(local_api, origin):
    r = local_api.client.options("/api/settings", headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == origin
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert r.headers["access-control-allow-credentials"] == "true"
    r = local_api.client.get("/api/settings", headers={"Origin": origin})
    assert r.headers["access-control-allow-origin"] == origin


def test_cors_refuses_other_origins(local_api):
    r = local_api.client.options("/api/settings", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    r = local_api.client.get("/api/settings", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
