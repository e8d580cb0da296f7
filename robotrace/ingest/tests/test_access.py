from __future__ import annotations

from typing import Any

from django.test import Client

from robotrace.conftest import bearer
from robotrace.ingest.models import CallReport
from robotrace.ingest.tests.conftest import good, nd, post


def upload(secret: str, *rows: dict[str, Any]) -> dict[str, Any]:
    r = post(secret, nd(*rows))
    assert r.status_code == 202, r.content
    return r.json()


def test_it_answers_401_without_a_valid_key(world: Any) -> None:
    r = post("rt_ingest_not-a-real-key-at-all", nd(good(1)))
    assert r.status_code == 401
    assert r["Content-Type"] == "application/problem+json"
    assert Client().post("/api/v1/reports", data=nd(good(1)), content_type="application/x-ndjson").status_code == 401


def test_it_refuses_providers_and_agencies_with_403(world: Any, api_key: Any) -> None:
    for org in (world.provider_a, world.agency_a, world.consortium):
        r = post(api_key(org, ["ingest"]), nd(good(1)))
        assert r.status_code == 403, org.kind
    assert CallReport.objects.unscoped(reason="test").count() == 0


def test_it_refuses_a_reporter_key_without_the_ingest_scope(world: Any, api_key: Any) -> None:
    assert post(api_key(world.reporter_a, ["campaigns:read"]), nd(good(1))).status_code == 403


def test_it_hides_one_reporters_uploads_from_another(world: Any, reporter_key: str, api_key: Any, as_user: Any) -> None:
    mine = upload(reporter_key, good(1), good(2, called_number="bad"))
    other = api_key(world.reporter_b, ["ingest"])
    c = Client()
    assert c.get(f"/api/v1/uploads/{mine['upload_id']}", **bearer(other)).status_code == 404
    assert c.get(mine["rejects_url"], **bearer(other)).status_code == 404
    assert c.get("/api/v1/uploads", **bearer(other)).json() == []
    assert c.get(f"/api/v1/uploads/{mine['upload_id']}", **bearer(reporter_key)).json()["accepted"] == 1
    assert c.get(mine["rejects_url"], **bearer(reporter_key)).status_code == 200
    sam = as_user(world.sam)
    assert sam.get(f"/reports/uploads/{mine['upload_id']}/").status_code == 404
    assert sam.get(f"/reports/uploads/{mine['upload_id']}/rejects").status_code == 404
    assert sam.get(mine["rejects_url"]).status_code == 404
    assert f'/reports/uploads/{mine["upload_id"]}/' not in sam.get("/reports/uploads/").content.decode()
    rita = as_user(world.rita)
    assert rita.get(f"/reports/uploads/{mine['upload_id']}/").status_code == 200
    assert rita.get(f"/reports/uploads/{mine['upload_id']}/rejects").status_code == 200


def test_it_hides_one_reporters_reports_from_another(world: Any, reporter_key: str, api_key: Any, as_user: Any) -> None:
    upload(reporter_key, good(1))
    report = CallReport.objects.for_org(world.reporter_a).get()
    other = api_key(world.reporter_b, ["ingest"])
    assert Client().get(f"/api/v1/reports/{report.id}", **bearer(other)).status_code == 404
    assert Client().get("/api/v1/reports/search", **bearer(other)).json() == []
    assert Client().get(f"/api/v1/reports/{report.id}", **bearer(reporter_key)).json()["source_report_id"] == "r-1"
    assert as_user(world.sam).get(f"/reports/{report.id}/").status_code == 404
    assert as_user(world.rita).get(f"/reports/{report.id}/").status_code == 200


def test_it_lets_the_consortium_see_every_upload_and_report(world: Any, reporter_key: str, as_user: Any) -> None:
    mine = upload(reporter_key, good(1, transcript="Medicare benefits, call 888-555-2834"))
    carol = as_user(world.carol)
    assert carol.get(f"/reports/uploads/{mine['upload_id']}/").status_code == 200
    page = carol.get("/reports/", {"number": "(888) 555-2834"})
    assert page.status_code == 200 and b"Medicare benefits" in page.content
    assert b"Medicare" not in carol.get("/reports/", {"number": "212-334-5678"}).content
    assert carol.get("/reports/", {"text": "medicare", "state": "NC"}).content.count(b"Medicare benefits") == 1
    report = CallReport.objects.for_org(world.consortium).get()
    assert carol.get(f"/reports/{report.id}/").status_code == 200
    assert carol.get("/reports/intake/").status_code == 200


def test_it_keeps_search_and_intake_pages_for_the_consortium(world: Any, as_user: Any) -> None:
    for user in (world.rita, world.pat, world.dana):
        client = as_user(user)
        assert client.get("/reports/").status_code == 403
        assert client.get("/reports/intake/").status_code == 403
    for user in (world.pat, world.dana):
        assert as_user(user).get("/reports/uploads/").status_code == 403


def test_it_shows_a_reporter_its_uploads_and_the_api_keys_link(world: Any, reporter_key: str, as_user: Any) -> None:
    upload(reporter_key, good(1))
    page = as_user(world.rita).get("/reports/uploads/")
    assert page.status_code == 200
    assert b"API keys" in page.content and b"uploads-chart" in page.content
    home = as_user(world.rita).get("/")
    assert b"Recent uploads" in home.content


def test_it_shows_the_consortium_intake_on_its_home_page(world: Any, reporter_key: str, as_user: Any) -> None:
    # Rendered on its own: the home page also carries other apps' panels.
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from robotrace.core.navigation import _PANELS
    from robotrace.ingest import panels

    upload(reporter_key, good(1))
    assert any(p.template == "ingest/panels/intake.html" and "consortium" in p.kinds for p in _PANELS)
    request = RequestFactory().get("/")
    request.user = world.alice
    ctx = panels.consortium_intake(request)
    assert ctx is not None and ctx["totals"]["accepted"] == 1
    html = render_to_string("ingest/panels/intake.html", {"ctx": ctx}, request=request)
    assert "Call-report intake, last 24 h" in html


def test_it_documents_the_streaming_post_in_the_openapi_schema(world: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    post_op = schema["paths"]["/api/v1/reports"]["post"]
    assert "text/csv" in post_op["requestBody"]["content"]
