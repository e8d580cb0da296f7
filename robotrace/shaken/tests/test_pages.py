"""Pages and API: consortium only; every other kind is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from robotrace.conftest import bearer
from robotrace.shaken import services
from robotrace.shaken.signing import sign_passport
from robotrace.shaken.tests.helpers import provider, report


@pytest.fixture
def verified(world, shaken_var):
    provider("Keystone Voice", spc="KV01")
    at = timezone.now() - dt.timedelta(hours=1)
    good = report(world.reporter_a, identity=sign_passport("KV01", "12025550143", "19195550100", "A", "origid-1", int(at.timestamp())), at=at)
    bad = report(world.reporter_b, identity=sign_passport("NG02", "12025550143", "19195550100", "B", iat=int(at.timestamp()), fault="bad_signature"), at=at)
    services.verify_reports(report_ids=[good.id, bad.id])
    return good, bad


def test_it_shows_the_overview_with_charts_signers_and_failures(world, as_user, verified):
    good, bad = verified
    r = as_user(world.carol).get(reverse("shaken:overview"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Verdict mix" in body and "Keystone Voice" in body and 'id="attest"' in body
    assert f'href="{reverse("shaken:detail", args=[bad.id])}"' in body


def test_it_searches_from_the_overview(world, as_user, verified):
    good, bad = verified
    body = as_user(world.alice).get(reverse("shaken:overview"), {"spc": "NG02"}).content.decode()
    assert f'data-report="{bad.id}"' in body and f'data-report="{good.id}"' not in body
    body = as_user(world.alice).get(reverse("shaken:overview"), {"outcome": "verified", "attest": "A"}).content.decode()
    assert f'data-report="{good.id}"' in body and f'data-report="{bad.id}"' not in body


def test_it_shows_each_layer_of_a_verdict(world, as_user, verified):
    good, bad = verified
    body = as_user(world.carol).get(reverse("shaken:detail", args=[bad.id])).content.decode()
    assert "ES256 signature" in body and "failed · 438" in body and "Chain to a trust anchor" in body
    assert as_user(world.carol).get(reverse("shaken:detail", args=[123456789])).status_code == 404


def test_it_shows_the_directory(world, as_user, db):
    services.import_ocn_directory(actor=None, text='OCN,Org Name,CN,Cert\n"005K","Primevox","SHAKEN 005K","u"\n')
    body = as_user(world.carol).get(reverse("shaken:directory")).content.decode()
    assert "005K" in body and "Primevox" in body


@pytest.mark.parametrize("who", ["pat", "quinn", "rita", "sam", "dana", "omar"])
def test_it_refuses_other_organisations_its_pages(world, as_user, verified, who):
    good, _ = verified
    client = as_user(getattr(world, who))
    for url in (reverse("shaken:overview"), reverse("shaken:detail", args=[good.id]), reverse("shaken:directory")):
        assert client.get(url).status_code == 403, (who, url)


def test_it_puts_a_panel_on_the_consortium_home(world, as_user, verified):
    body = as_user(world.alice).get(reverse("home")).content.decode()
    assert "Call authentication" in body and reverse("shaken:overview") in body


def test_its_snippet_renders_a_report_verdict_for_another_app(world, verified, rf):
    from django.template import Context, Template

    good, _ = verified
    request = rf.get("/")
    request.user = world.carol
    html = Template("{% load shaken_tags %}{% shaken_verdict rid %}").render(Context({"request": request, "rid": good.id}))
    assert "verified A" in html and "Keystone Voice" in html
    request.user = world.rita  # the reporter that sent it sees it, without the consortium link
    html = Template("{% load shaken_tags %}{% shaken_verdict rid %}").render(Context({"request": request, "rid": good.id}))
    assert "verified A" in html and "Every layer" not in html
    request.user = world.sam
    html = Template("{% load shaken_tags %}{% shaken_verdict rid %}").render(Context({"request": request, "rid": good.id}))
    assert "not been verified" in html


def test_its_api_lists_and_reads_verdicts_for_the_consortium(world, api_key, client, verified):
    good, bad = verified
    key = api_key(world.consortium, ["shaken:read"])
    r = client.get("/api/v1/shaken/verifications", {"outcome": "failed"}, **bearer(key))
    assert r.status_code == 200
    assert [i["report_id"] for i in r.json()["items"]] == [bad.id]
    r = client.get(f"/api/v1/shaken/verifications/{good.id}", **bearer(key))
    assert r.json()["signer"]["spc"] == "KV01" and r.json()["layers"]["chain"]["status"] == "passed"
    r = client.get("/api/v1/shaken/verifications", {"outcome": "nonsense"}, **bearer(key))
    assert r.status_code == 400 and r["Content-Type"] == "application/problem+json"


def test_its_api_verifies_a_header(world, api_key, client, shaken_var):
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    header = sign_passport("KV01", "12025550143", "19195550100", "A", iat=int(at.timestamp()))
    r = client.post("/api/v1/shaken/verify", {"identity": header, "call_time": at.isoformat(), "orig": "12025550143"},
                    content_type="application/json", **bearer(api_key(world.consortium, ["shaken:read"])))
    assert r.status_code == 200 and r.json()["verified"] is True
    r = client.post("/api/v1/shaken/verify", {"identity": "garbage", "call_time": at.isoformat()},
                    content_type="application/json", **bearer(api_key(world.consortium, ["shaken:read"])))
    assert r.status_code == 200 and r.json()["sip_code"] == 438


@pytest.mark.parametrize("org", ["provider_a", "reporter_a", "agency_a"])
def test_its_api_refuses_other_organisations(world, api_key, client, verified, org):
    good, _ = verified
    key = api_key(getattr(world, org), ["ingest", "traceback:read", "traceback:respond", "legal:read", "campaigns:read", "providers:read", "shaken:read"])
    for path in ("/api/v1/shaken/verifications", f"/api/v1/shaken/verifications/{good.id}"):
        assert client.get(path, **bearer(key)).status_code == 403
    r = client.post("/api/v1/shaken/verify", {"identity": "x", "call_time": "2026-01-01T00:00:00Z"}, content_type="application/json", **bearer(key))
    assert r.status_code == 403


def test_its_api_refuses_a_consortium_key_without_the_scope(world, api_key, client, verified):
    key = api_key(world.consortium, ["alerts:read"])
    assert client.get("/api/v1/shaken/verifications", **bearer(key)).status_code == 403


def test_it_links_a_verdict_to_its_report_campaign_and_signer(world, as_user, verified):
    from robotrace.campaigns.models import Campaign
    from robotrace.ingest.models import CallReport

    good, _ = verified
    campaign = Campaign.objects.create(name="Warranty", category="auto_warranty", first_seen_at=good.call_started_at,
                                       last_seen_at=good.call_started_at)
    CallReport.objects.unscoped(reason="test").filter(pk=good.id).update(campaign=campaign)
    body = as_user(world.carol).get(reverse("shaken:detail", args=[good.id])).content.decode()
    assert f'href="/campaigns/{campaign.pk}/"' in body
    assert f'href="{reverse("ingest:report", args=[good.id])}"' in body
    assert 'href="/providers/' in body and "Keystone Voice</a>" in body
