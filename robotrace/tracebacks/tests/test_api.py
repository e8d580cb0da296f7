from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from robotrace.conftest import bearer
from robotrace.tracebacks.models import Traceback
from robotrace.tracebacks.tests.factories import make_net, open_tb

RESPOND = ["traceback:respond"]


def post_json(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_it_lists_only_the_callers_open_hops(client, world, api_key) -> None:
    make_net(world)
    tb = open_tb(world)
    key_a, key_b = api_key(world.provider_a, RESPOND), api_key(world.provider_b, RESPOND)
    r = client.get("/api/v1/hops", **bearer(key_a))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == [tb.hops.get().id]
    assert items[0]["call"]["called_number"] == "+19195550223"
    assert client.get("/api/v1/hops", **bearer(key_b)).json()["items"] == []


def test_it_pages_hops_with_a_cursor(client, world, api_key) -> None:
    make_net(world)
    for _ in range(3):
        open_tb(world)
    key = api_key(world.provider_a, RESPOND)
    first = client.get("/api/v1/hops?limit=2", **bearer(key)).json()
    assert len(first["items"]) == 2 and first["next"]
    rest = client.get(f"/api/v1/hops?limit=2&cursor={first['next']}", **bearer(key)).json()
    assert len(rest["items"]) == 1 and rest["next"] is None


def test_it_answers_through_the_api_idempotently(client, world, api_key) -> None:
    net = make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    key = api_key(world.provider_a, RESPOND)
    body = {"response": "upstream", "upstream_provider_id": net.transit.id, "attestation_seen": "A"}
    r1 = post_json(client, f"/api/v1/hops/{hop.id}/response", body, HTTP_IDEMPOTENCY_KEY="k-1", **bearer(key))
    assert r1.status_code == 200, r1.content
    r2 = post_json(client, f"/api/v1/hops/{hop.id}/response", body, HTTP_IDEMPOTENCY_KEY="k-1", **bearer(key))
    assert r2.status_code == 200 and r2.json()["answer"]["response"] == "upstream"
    assert tb.hops.count() == 2  # the retry opened nothing more
    r3 = post_json(client, f"/api/v1/hops/{hop.id}/response", body, HTTP_IDEMPOTENCY_KEY="k-2", **bearer(key))
    assert r3.status_code == 409 and r3["Content-Type"] == "application/problem+json"


def test_it_refuses_bad_answers_with_the_field_named(client, world, api_key) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    key = api_key(world.provider_a, RESPOND)
    r = post_json(client, f"/api/v1/hops/{hop.id}/response", {"response": "originated", "customer": {"name": "X", "ssn": "1"}}, **bearer(key))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer.ssn"
    r = post_json(client, f"/api/v1/hops/{hop.id}/response", {"response": "maybe"}, **bearer(key))
    assert r.status_code == 422
    hop.refresh_from_db()
    assert hop.status == "requested"


def test_it_keeps_other_providers_hops_and_the_chain_private(client, world, api_key) -> None:
    net = make_net(world)
    tb = open_tb(world)
    h1 = tb.hops.get()
    key_a, key_b = api_key(world.provider_a, RESPOND), api_key(world.provider_b, RESPOND)
    # B is not in the chain yet: A's hop is 404 for B, and so is answering or attaching to it.
    assert client.get(f"/api/v1/hops/{h1.id}", **bearer(key_b)).status_code == 404
    assert post_json(client, f"/api/v1/hops/{h1.id}/response", {"response": "originated"}, **bearer(key_b)).status_code == 404
    f = SimpleUploadedFile("cdr.csv", b"a,b\n", content_type="text/csv")
    assert client.post(f"/api/v1/hops/{h1.id}/evidence", {"file": f}, **bearer(key_b)).status_code == 404
    post_json(client, f"/api/v1/hops/{h1.id}/response", {"response": "upstream", "upstream_provider_id": net.transit.id}, **bearer(key_a))
    h2 = tb.hops.get(sequence=2)
    # Now B sees its own hop and who named it, never A's hop nor the traceback.
    body = client.get(f"/api/v1/hops/{h2.id}", **bearer(key_b)).json()
    assert body["named_by"] == "Alpha Terminating" and "hops" not in body
    assert client.get(f"/api/v1/hops/{h1.id}", **bearer(key_b)).status_code == 404
    assert client.get(f"/api/v1/tracebacks/{tb.id}", **bearer(key_b)).status_code == 403
    assert client.get("/api/v1/tracebacks", **bearer(key_b)).status_code == 403


def test_it_requires_the_respond_scope_and_a_provider_key(client, world, api_key) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    assert client.get("/api/v1/hops", **bearer(api_key(world.provider_a, ["traceback:read"]))).status_code == 403
    assert client.get("/api/v1/hops", **bearer(api_key(world.reporter_a, ["traceback:respond"]))).status_code == 403
    assert client.get(f"/api/v1/hops/{hop.id}").status_code == 401


def test_it_takes_evidence_uploads(client, world, api_key) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    key = api_key(world.provider_a, RESPOND)
    f = SimpleUploadedFile("cdr.csv", b"time,from,to\n2026-11-20T10:00:00Z,+12025550111,+19195550123\n", content_type="text/csv")
    r = client.post(f"/api/v1/hops/{hop.id}/evidence", {"file": f, "kind": "cdr"}, **bearer(key))
    assert r.status_code == 200, r.content
    assert len(r.json()["sha256"]) == 64
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    r = client.post(f"/api/v1/hops/{hop.id}/evidence", {"file": bad}, **bearer(key))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert hop.evidence.count() == 1


def test_it_lets_staff_open_and_list_tracebacks(client, world, as_user) -> None:
    make_net(world)
    c = as_user(world.alice)
    r = post_json(c, "/api/v1/tracebacks", {"call_started_at": "2026-11-20T10:00:00-05:00", "calling_number": "2025550111", "called_number": "919-555-0223"})
    assert r.status_code == 200, r.content
    tb_id = r.json()["items"][0]["id"]
    assert c.get("/api/v1/tracebacks").json()["items"][0]["id"] == tb_id
    assert c.get(f"/api/v1/tracebacks/{tb_id}").json()["hops"][0]["provider"] == "Alpha Terminating"
    r = post_json(c, "/api/v1/tracebacks", {"call_started_at": "2026-11-20T10:00:00", "called_number": "9195550223"})
    assert r.status_code == 422


def test_it_refuses_agencies_without_entitlement_and_shows_their_requests(client, world, as_user) -> None:
    make_net(world)
    mine = open_tb(world, requested_by_agency=world.agency_a)
    other = open_tb(world)
    c = as_user(world.dana)
    ids = [i["id"] for i in c.get("/api/v1/tracebacks").json()["items"]]
    assert ids == [mine.id]
    assert c.get(f"/api/v1/tracebacks/{other.id}").status_code == 404
    assert as_user(world.omar).get(f"/api/v1/tracebacks/{mine.id}").status_code == 404
    assert post_json(c, "/api/v1/tracebacks", {"report_id": 1}).status_code == 403
    assert Traceback.objects.unscoped(reason="test").count() == 2
