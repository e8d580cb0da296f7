from __future__ import annotations

import pytest

from robotrace.campaigns import store
from robotrace.campaigns.models import Campaign
from robotrace.campaigns.tests.helpers import store_reports
from robotrace.conftest import bearer
from robotrace.core import entitlements
from robotrace.simulator.robocalls import generate


@pytest.fixture
def campaigns(world):
    calls = list(generate(300, seed=11))
    store_reports(world.reporter_a, calls)
    store.catch_up()
    return list(Campaign.objects.unscoped(reason="test").order_by("-report_count"))


@pytest.fixture
def entitle(monkeypatch):
    """Agency A is entitled to the given campaign ids (as an alert delivery would make it)."""
    def _grant(agency, ids):
        monkeypatch.setitem(entitlements._SOURCES, "campaigns.Campaign", [lambda org: ids if org.pk == agency.pk else []])
    return _grant


@pytest.mark.django_db
def test_it_shows_consortium_staff_every_page(world, as_user, campaigns):
    c = as_user(world.carol)
    top = campaigns[0]
    for url in ["/campaigns/", "/campaigns/?sort=growth", "/campaigns/?sort=category&status=suspected", "/campaigns/trends/", "/campaigns/ecosystem/", f"/campaigns/{top.pk}/"]:
        r = c.get(url)
        assert r.status_code == 200, url
    assert top.ref.encode() in c.get("/campaigns/").content
    data = c.get("/campaigns/ecosystem.json").json()
    kinds = {e["data"].get("kind") for e in data["elements"] if "source" not in e["data"]}
    assert {"campaign", "provider", "caller_id"} <= kinds
    # The consortium home panel (rendered alone: the home page holds every app's panels).
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from robotrace.campaigns.views import home_panel

    request = RequestFactory().get("/")
    request.user = world.carol
    html = render_to_string("campaigns/_home_panel.html", {"ctx": home_panel(request)})
    assert "New and surging" in html and campaigns[0].ref in html


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pat", "rita"])
def test_it_refuses_providers_and_reporters(world, as_user, campaigns, who):
    c = as_user(getattr(world, who))
    for url in ["/campaigns/", f"/campaigns/{campaigns[0].pk}/", "/campaigns/trends/", "/campaigns/ecosystem/", "/campaigns/ecosystem.json"]:
        assert c.get(url).status_code == 403, url


@pytest.mark.django_db
def test_it_shows_an_agency_only_its_entitled_campaigns(world, as_user, campaigns, entitle):
    mine, other = campaigns[0], campaigns[1]
    entitle(world.agency_a, [mine.pk])
    dana, omar = as_user(world.dana), as_user(world.omar)
    assert dana.get(f"/campaigns/{mine.pk}/").status_code == 200
    assert dana.get(f"/campaigns/{other.pk}/").status_code == 404
    assert omar.get(f"/campaigns/{mine.pk}/").status_code == 404
    listing = dana.get("/campaigns/").content
    assert mine.ref.encode() in listing and f">{other.ref}<".encode() not in listing
    # Agencies cannot act on campaigns, nor see the staff dashboards.
    assert dana.post(f"/campaigns/{mine.pk}/close/", {"reason": "x"}).status_code == 403
    assert dana.get("/campaigns/trends/").status_code == 403


@pytest.mark.django_db
def test_it_serves_the_api_to_staff_and_entitled_agencies(world, client, api_key, campaigns, entitle, as_user):
    mine, other = campaigns[0], campaigns[1]
    entitle(world.agency_a, [mine.pk])
    staff = as_user(world.alice).get("/api/v1/campaigns").json()
    assert len(staff["items"]) == len(campaigns)
    key = api_key(world.agency_a, ["campaigns:read"])
    items = client.get("/api/v1/campaigns", **bearer(key)).json()["items"]
    assert [i["id"] for i in items] == [mine.pk]
    detail = client.get(f"/api/v1/campaigns/{mine.pk}", **bearer(key)).json()
    assert detail["report_count"] == mine.report_count and detail["daily"]
    r = client.get(f"/api/v1/campaigns/{other.pk}", **bearer(key))
    assert r.status_code == 404 and r["Content-Type"] == "application/problem+json"
    other_agency = api_key(world.agency_b, ["campaigns:read"])
    assert client.get(f"/api/v1/campaigns/{mine.pk}", **bearer(other_agency)).status_code == 404
    no_scope = api_key(world.agency_a, ["legal:read"])
    assert client.get("/api/v1/campaigns", **bearer(no_scope)).status_code == 403
    reporter = api_key(world.reporter_a, ["campaigns:read"])
    assert client.get("/api/v1/campaigns", **bearer(reporter)).status_code == 403
    assert client.get("/api/v1/campaigns?category=nope", **bearer(key)).status_code == 400


@pytest.mark.django_db
def test_it_starts_tracebacks_and_evidence_from_the_campaign_page(world, as_user, campaigns):
    from robotrace.ingest.models import CallReport
    from robotrace.providers.services import create_provider
    from robotrace.tracebacks.models import NumberBlock, Traceback

    top = campaigns[0]
    # The terminating carrier of every called number, as an imported number-block table says.
    carrier = create_provider(actor=None, name="Terminating Carrier")
    called = CallReport.objects.for_org(world.consortium).filter(campaign=top).values_list("called_number", flat=True)
    for npa in {n.removeprefix("+1")[:3] for n in called if n}:
        NumberBlock.objects.get_or_create(prefix=npa, defaults={"provider": carrier})
    c = as_user(world.carol)
    page = c.get(f"/campaigns/{top.pk}/").content.decode()
    assert f'action="/tracebacks/open/campaign/{top.pk}/"' in page
    assert f"/legal/evidence/new/?campaign={top.pk}" in page or f"?campaign={top.pk}" in page
    r = c.post(f"/tracebacks/open/campaign/{top.pk}/", {"samples": "2", "next": f"/campaigns/{top.pk}/"})
    assert r.status_code == 302
    assert Traceback.objects.for_org(world.consortium).filter(campaign=top).exists()
    # An agency cannot start one.
    r = as_user(world.dana).post(f"/tracebacks/open/campaign/{top.pk}/", {"samples": "1"})
    assert r.status_code in (403, 404)
