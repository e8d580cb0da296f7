from __future__ import annotations

from robotrace.conftest import bearer


def test_it_lists_the_registry_to_any_signed_in_org_or_providers_read_key(world, as_user, api_key, client):
    for user in (world.carol, world.pat, world.rita, world.dana):
        resp = as_user(user).get("/api/v1/providers", {"q": "Bravo"})
        assert resp.status_code == 200
        assert [p["name"] for p in resp.json()["items"]] == ["Provider Bravo"]
    key = api_key(world.reporter_a, ["providers:read"])
    resp = client.get("/api/v1/providers", {"limit": 1}, **bearer(key))
    assert resp.status_code == 200 and len(resp.json()["items"]) == 1 and resp.json()["next"]
    wrong = api_key(world.reporter_a, ["ingest"])
    assert client.get("/api/v1/providers", **bearer(wrong)).status_code == 403
    assert client.get("/api/v1/providers").status_code == 401
