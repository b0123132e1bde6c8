"""The app answers on both stores (the skeleton every API test stands on)."""


def test_health_and_settings_roundtrip(api):
    assert api.client.get("/api/health").json()["storage"] == "ok"
    body = api.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "9:16"}}).json()
    assert body["projectFilters"] == {
        "statusFilter": "uncompleted", "aspectFilter": "9:16", "creationFilter": "all"}
    assert api.client.get("/api/settings").json() == body
