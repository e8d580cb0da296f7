from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from robotrace.conftest import bearer
from robotrace.legal import services
from robotrace.legal.models import LegalRequest
from robotrace.legal.tests.conftest import make_pdf


def _payload(**over):
    today = timezone.localdate()
    body = {
        "type": "cid",
        "issuing_authority": "Ohio Attorney General",
        "legal_basis": "Ohio Rev. Code 1345.06",
        "case_number": "OH-CID-17",
        "date_signed": (today - timedelta(days=2)).isoformat(),
        "due_date": (today + timedelta(days=20)).isoformat(),
        "targets": [{"kind": "phone", "value": "614-555-0101"}, {"kind": "provider", "value": "P-3"}],
    }
    body.update(over)
    return body


def test_it_files_a_request_uploads_its_pdf_and_exchanges_messages_by_api(world, api_key, client):
    key = bearer(api_key(world.agency_b, ["legal:read", "legal:write"]))
    created = client.post("/api/v1/legal/requests", _payload(), content_type="application/json", **key)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "received" and {t["value"] for t in body["targets"]} == {"+16145550101", "P-3"}
    pdf = make_pdf()
    up = client.post(f"/api/v1/legal/requests/{body['id']}/documents", {"file": SimpleUploadedFile("cid.pdf", pdf, "application/pdf")}, **key)
    assert up.status_code == 201 and up.json()["sha256"] == hashlib.sha256(pdf).hexdigest()
    bad = client.post(f"/api/v1/legal/requests/{body['id']}/documents", {"file": SimpleUploadedFile("cid.pdf", b"MZ\x90\x00", "application/pdf")}, **key)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    msg = client.post(f"/api/v1/legal/requests/{body['id']}/messages", {"body": "Any update?"}, content_type="application/json", **key)
    assert msg.status_code == 201 and msg.json()["role"] == "agency"
    listed = client.get(f"/api/v1/legal/requests/{body['id']}/messages", **key).json()["items"]
    assert [m["body"] for m in listed] == ["Any update?"]
    req = LegalRequest.objects.for_org(world.agency_b).get()
    assert req.filed_by is None and req.filed_via_key is not None


def test_it_names_the_field_and_line_of_bad_api_input(world, api_key, client):
    key = bearer(api_key(world.agency_b, ["legal:read", "legal:write"]))
    response = client.post("/api/v1/legal/requests", _payload(type="warrant", targets=[{"kind": "phone", "value": "12"}, {"kind": "planet", "value": "x"}]), content_type="application/json", **key)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"line": None, "field": "type"} == {k: errors[0][k] for k in ("line", "field")}
    assert {(e["line"], e["field"]) for e in errors[1:]} == {(1, "phone"), (2, "kind")}
    assert not LegalRequest.objects.for_org(world.agency_b).exists()


def test_it_shows_production_metadata_but_not_the_file(world, chain, api_key, client):
    key = bearer(api_key(world.agency_a, ["legal:read"]))
    from robotrace.legal.tests.conftest import file

    req = file(world)
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept")
    prod = services.create_production(actor=world.alice, organisation=world.consortium, request=req)
    items = client.get(f"/api/v1/legal/requests/{req.pk}/productions", **key).json()["items"]
    assert items[0]["sha256"] == prod.sha256 and items[0]["download_page"].endswith(f"/productions/{prod.pk}/")
    assert "MANIFEST.sha256" in items[0]["files"]


def test_it_lets_staff_list_every_agencys_requests(world, api_key, client, as_user):
    from robotrace.legal.tests.conftest import file

    file(world)
    file(world, world.omar, case_number="O-1")
    staff = as_user(world.alice)
    items = staff.get("/api/v1/legal/requests").json()["items"]
    assert {i["agency"]["name"] for i in items} == {"Agency Alpha", "Agency Bravo"}
