"""The app answers on both stores (the skeleton every API test stands on)."""


def test_health_and_settings_roundtrip(api):
    assert api.client.get("/api/health").json()["storage"] == "ok"
    body = api.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "9:16"}}).json()
    assert body["projectFilters"] == {
        "statusFilter": "uncompleted", "aspectFilter": "9:16", "creationFilter": "all"}
    assert api.client.get("/api/settings").json() == body


def test_every_operation_has_its_own_id_and_downloads_answer_head(local_api):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on a repeated operation id
        schema = local_api.app.openapi()
    ops = [(path, method, op["operationId"]) for path, item in schema["paths"].items()
           for method, op in item.items()]
    assert len({op_id for *_, op_id in ops}) == len(ops)
    heads = {path for path, method, _ in ops if method == "head"}
    assert {"/api/storage/local/{key}", "/api/downloads/{download_id}/file",
            "/api/clips/projects/{project_id}/clips/{clip_id}/file"} <= heads
