"""Agency A is refused everything of agency B (requests, documents, messages, productions,
holds, packages), on pages and in the API; providers and reporters are refused all of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from robotrace.conftest import bearer
from robotrace.legal import services
from robotrace.legal.tests.conftest import file, fresh_login, make_pdf


@pytest.fixture
def theirs(world, chain, django_capture_on_commit_callbacks):
    """Everything of agency A (Dana): a produced request with a document, a message, a hold and a package."""
    req = file(world, targets=[{"kind": "phone", "value": "+19195550142"}])
    services.post_message(actor=world.dana, organisation=world.agency_a, request=req, body="hello")
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept")
    prod = services.create_production(actor=world.alice, organisation=world.consortium, request=req)
    hold_req = file(world, type="preservation", case_number="P-1")
    with django_capture_on_commit_callbacks(execute=True):
        pkg = services.start_evidence_package(actor=world.alice, organisation=world.consortium, campaign_id=chain.campaign.pk, produced_to=world.agency_a)
    return {"req": req, "doc": req.documents.get(), "prod": prod, "hold_req": hold_req, "hold": hold_req.holds.get(), "pkg": pkg}


def _object_urls(t):
    r, d, p, hr, h, k = t["req"].pk, t["doc"].pk, t["prod"].pk, t["hold_req"].pk, t["hold"].pk, t["pkg"].pk
    gets = [
        reverse("legal:detail", args=[r]),
        reverse("legal:document", args=[r, d]),
        reverse("legal:production", args=[p]),
        reverse("legal:production_download", args=[p]),
        reverse("legal:detail", args=[hr]),
        reverse("legal:evidence_detail", args=[k]),
        reverse("legal:evidence_progress", args=[k]),
        reverse("legal:evidence_download", args=[k]),
    ]
    posts = [
        (reverse("legal:message", args=[r]), {"body": "let me in"}),
        (reverse("legal:withdraw", args=[r]), {}),
        (reverse("legal:upload_document", args=[r]), {}),
        (reverse("legal:renew_hold", args=[hr, h]), {}),
    ]
    return gets, posts


STAFF_ONLY_GETS = ["legal:queue", "legal:evidence_new"]


def _staff_posts(t):
    r, hr, h, k = t["req"].pk, t["hold_req"].pk, t["hold"].pk, t["pkg"].pk
    return [
        (reverse("legal:assign", args=[r]), {"assignee": ""}),
        (reverse("legal:decide", args=[r]), {"decision": "reject", "note": "x"}),
        (reverse("legal:produce", args=[r]), {}),
        (reverse("legal:release_hold", args=[hr, h]), {"reason": "x"}),
        (reverse("legal:evidence_retry", args=[k]), {}),
    ]


def test_it_answers_404_to_another_agency_on_every_page(world, theirs, as_user):
    client = as_user(world.omar)
    fresh_login(client)
    gets, posts = _object_urls(theirs)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    for url, data in _staff_posts(theirs):
        assert client.post(url, data).status_code == 403, url
    for name in STAFF_ONLY_GETS:
        assert client.get(reverse(name)).status_code == 403, name
    listing = client.get(reverse("legal:my_requests")).content.decode()
    assert theirs["req"].ref not in listing and theirs["pkg"].ref not in listing
    packages = client.get(reverse("legal:evidence_list"))
    assert packages.status_code == 200 and theirs["pkg"].ref not in packages.content.decode()
    mine = as_user(world.dana).get(reverse("legal:evidence_list")).content.decode()
    assert theirs["pkg"].ref in mine
    theirs["req"].refresh_from_db()
    assert theirs["req"].status == "produced" and theirs["req"].messages.count() == 1
    theirs["hold"].refresh_from_db()
    assert theirs["hold"].renewals == 0


def test_it_lets_the_owning_agency_open_the_same_pages(world, theirs, as_user):
    client = as_user(world.dana)
    fresh_login(client)
    gets, _ = _object_urls(theirs)
    for url in gets:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["pat", "quinn", "rita", "sam"])
def test_it_refuses_providers_and_reporters_everything(world, theirs, as_user, who):
    client = as_user(getattr(world, who))
    gets, posts = _object_urls(theirs)
    for url in gets + [reverse(n) for n in STAFF_ONLY_GETS + ["legal:my_requests", "legal:new", "legal:stats", "legal:evidence_list"]]:
        assert client.get(url).status_code == 403, url
    for url, data in posts + _staff_posts(theirs):
        assert client.post(url, data).status_code == 403, url


def test_it_refuses_agency_only_pages_to_staff(world, as_user):
    client = as_user(world.alice)
    assert client.get(reverse("legal:new")).status_code == 403
    assert client.get(reverse("legal:my_requests")).status_code == 403


def test_it_answers_404_to_another_agencys_key_in_the_api(world, theirs, api_key, client):
    key = bearer(api_key(world.agency_b, ["legal:read", "legal:write"]))
    r, k = theirs["req"].pk, theirs["pkg"].pk
    for url in [f"/api/v1/legal/requests/{r}", f"/api/v1/legal/requests/{r}/messages", f"/api/v1/legal/requests/{r}/productions", f"/api/v1/legal/evidence-packages/{k}"]:
        response = client.get(url, **key)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
    assert client.post(f"/api/v1/legal/requests/{r}/messages", {"body": "x"}, content_type="application/json", **key).status_code == 404
    from django.core.files.uploadedfile import SimpleUploadedFile

    up = client.post(f"/api/v1/legal/requests/{r}/documents", {"file": SimpleUploadedFile("a.pdf", make_pdf(), "application/pdf")}, **key)
    assert up.status_code == 404
    assert client.get("/api/v1/legal/requests", **key).json()["items"] == []
    assert client.get("/api/v1/legal/evidence-packages", **key).json()["items"] == []


def test_it_refuses_provider_and_reporter_keys_and_missing_scopes(world, theirs, api_key, client):
    r = theirs["req"].pk
    for org in (world.provider_a, world.reporter_a):
        key = bearer(api_key(org, ["legal:read", "legal:write"]))
        assert client.get("/api/v1/legal/requests", **key).status_code == 403
        assert client.get(f"/api/v1/legal/requests/{r}", **key).status_code == 403
    read_only = bearer(api_key(world.agency_a, ["legal:read"]))
    assert client.post("/api/v1/legal/requests", {}, content_type="application/json", **read_only).status_code == 403
    assert client.get("/api/v1/legal/requests").status_code == 401
