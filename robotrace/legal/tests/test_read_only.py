"""The read-only role holds on the legal API and in its services (#20 finding 4), and an agency's
statistics count only its own requests (#20 finding 10)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from robotrace.conftest import bearer, make_user
from robotrace.legal import services
from robotrace.legal.models import LegalRequest
from robotrace.legal.queries import statistics_summary
from robotrace.legal.tests.conftest import file, make_pdf
from robotrace.legal.tests.test_api import _payload
from robotrace.legal.uploads import check_pdf


def test_a_read_only_agency_session_cannot_file_a_request_by_api(world, as_user, api_key, client):
    viewer = as_user(make_user(world.agency_b, "ro@agency-b.test", "read_only"))
    r = viewer.post("/api/v1/legal/requests", _payload(), content_type="application/json")
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json", r.content
    assert not LegalRequest.objects.for_org(world.agency_b).exists()
    assert viewer.get("/api/v1/legal/requests").status_code == 200
    filed = file(world, world.omar, case_number="OH-1")
    up = viewer.post(f"/api/v1/legal/requests/{filed.pk}/documents", {"file": SimpleUploadedFile("more.pdf", make_pdf(), "application/pdf")})
    assert up.status_code == 403 and filed.documents.count() == 1
    msg = viewer.post(f"/api/v1/legal/requests/{filed.pk}/messages", {"body": "any news?"}, content_type="application/json")
    assert msg.status_code == 403 and not filed.messages.exists()
    # A member's session and an agency key still file.
    assert as_user(world.omar).post("/api/v1/legal/requests", _payload(case_number="OH-3"), content_type="application/json").status_code == 201
    key = bearer(api_key(world.agency_b, ["legal:read", "legal:write"]))
    assert client.post("/api/v1/legal/requests", _payload(case_number="OH-2"), content_type="application/json", **key).status_code == 201


def test_the_legal_services_refuse_a_read_only_actor(world):
    req = file(world)
    viewer = make_user(world.agency_a, "ro@agency-a.test", "read_only")
    staff_viewer = make_user(world.consortium, "ro@consortium.test", "read_only")
    doc = check_pdf(io.BytesIO(make_pdf()), "more.pdf")
    refusals = [
        lambda: services.attach_document(actor=viewer, organisation=world.agency_a, request=req, checked=doc),
        lambda: services.post_message(actor=viewer, organisation=world.agency_a, request=req, body="any news?"),
        lambda: services.post_message(actor=staff_viewer, organisation=world.consortium, request=req, body="working on it"),
        lambda: services.withdraw(actor=viewer, organisation=world.agency_a, request=req),
    ]
    for call in refusals:
        with pytest.raises(services.NotAllowed):
            call()
    req.refresh_from_db()
    assert req.documents.count() == 1 and not req.messages.exists() and req.status == "received"
    assert services.post_message(actor=world.dana, organisation=world.agency_a, request=req, body="any news?").pk


def test_an_agency_sees_only_its_own_request_counts(world, as_user):
    file(world, case_number="A-1")  # Agency Alpha, NC
    file(world, world.omar, case_number="B-1")  # Agency Bravo, OH
    file(world, world.omar, case_number="B-2")
    assert dict(statistics_summary(agency=world.agency_a)["by_state"]) == {"NC": 1}
    page = as_user(world.dana).get(reverse("legal:stats"))
    assert page.status_code == 200
    assert page.context["s"]["total"] == 1 and dict(page.context["s"]["by_state"]) == {"NC": 1}
    assert '"OH"' not in page.content.decode()
    staff = as_user(world.alice).get(reverse("legal:stats"))
    assert dict(staff.context["s"]["by_state"]) == {"NC": 1, "OH": 2}
