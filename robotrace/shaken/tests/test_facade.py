"""The functions tracebacks, providers and campaigns call."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from robotrace.shaken import facade, services
from robotrace.shaken.signing import sign_passport
from robotrace.shaken.tests.helpers import provider, report


def _sig(spc: str, at: dt.datetime, attest: str = "A", **kw: object) -> str:
    return sign_passport(spc, kw.pop("orig", "+12025550143"), "+19195550100", attest, "11111111-2222-4333-8444-555555555555", int(at.timestamp()), **kw)  # type: ignore[arg-type]  # the test passes the PASSporT's fields through


def _campaign(status: str) -> object:
    from robotrace.campaigns.models import Campaign

    return Campaign.objects.create(name=f"camp {status}", status=status)


def test_it_names_the_verified_signer_of_a_report(world, shaken_var):
    kv = provider("Keystone Voice", spc="KV01")
    at = timezone.now() - dt.timedelta(hours=1)
    good = report(world.reporter_a, identity=_sig("KV01", at, "B"), at=at)
    bad = report(world.reporter_a, identity=_sig("KV01", at, fault="bad_signature"), at=at)
    unsigned = report(world.reporter_a, at=at)
    services.verify_reports(report_ids=[good.id, bad.id, unsigned.id])
    info = facade.verified_signer_for_report(good.id)
    assert info == facade.SignerInfo(provider_id=kv.id, spc="KV01", attest="B", origid="11111111-2222-4333-8444-555555555555", verified=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.spc = "X"
    assert facade.verified_signer_for_report(bad.id).verified is False
    assert facade.verified_signer_for_report(unsigned.id) is None
    assert facade.verified_signer_for_report(999_999) is None


def test_it_scores_providers_by_what_they_sign(world, shaken_var):
    from robotrace.campaigns.models import Campaign

    kv, ng = provider("Keystone Voice", spc="KV01"), provider("Northgate", spc="NG02")
    illegal, suspected = _campaign(Campaign.Status.CONFIRMED), _campaign(Campaign.Status.SUSPECTED)
    at = timezone.now() - dt.timedelta(hours=1)
    ids = [
        report(world.reporter_a, identity=_sig("KV01", at, "A"), at=at, campaign=illegal).id,
        report(world.reporter_a, identity=_sig("KV01", at, "A"), at=at, campaign=suspected).id,
        report(world.reporter_a, identity=_sig("KV01", at, "B"), at=at, is_calling_number_invalid=True).id,
        report(world.reporter_a, identity=_sig("KV01", at, "A", orig="+13125550000"), at=at).id,  # spoofed, attested A
        report(world.reporter_a, identity=_sig("NG02", at, "C"), at=at).id,
        report(world.reporter_a, identity=_sig("NG02", at, fault="bad_signature"), at=at).id,
        report(world.reporter_a, identity=_sig("NG02", at, fault="expired_certificate"), at=at).id,
    ]
    services.verify_reports(report_ids=ids)
    stats = facade.provider_signing_stats()
    assert stats[kv.id]["calls_signed"] == 3
    assert stats[kv.id]["attestation"] == {"A": 2, "B": 1, "C": 0}
    assert stats[kv.id]["a_attested_illegal"] == 1
    assert stats[kv.id]["spoofed_attested"] == 2
    assert stats[ng.id]["calls_signed"] == 1 and stats[ng.id]["attestation"]["C"] == 1
    assert stats[ng.id]["invalid_signatures"] == 1 and stats[ng.id]["certificate_faults"] == 1
    only = facade.provider_signing_stats([ng.id, 424242])
    assert set(only) == {ng.id, 424242} and only[424242]["calls_signed"] == 0
    later = facade.provider_signing_stats(since=timezone.now())
    assert later == {}


def test_it_summarises_who_signed_a_campaign(world, shaken_var):
    from robotrace.campaigns.models import Campaign

    kv = provider("Keystone Voice", spc="KV01")
    camp = _campaign(Campaign.Status.CONFIRMED)
    at = timezone.now() - dt.timedelta(hours=1)
    ids = [
        report(world.reporter_a, identity=_sig("KV01", at, "A"), at=at, campaign=camp).id,
        report(world.reporter_a, identity=_sig("KV01", at, "B"), at=at, campaign=camp).id,
        report(world.reporter_a, identity=_sig("ZZ99", at, "C"), at=at, campaign=camp).id,
        report(world.reporter_a, at=at, campaign=camp).id,
    ]
    services.verify_reports(report_ids=ids)
    s = facade.campaign_signing_stats(camp.id)
    assert (s["reports"], s["verified"], s["share_signed"]) == (4, 3, 0.75)
    assert s["signers"][0] == {"provider_id": kv.id, "spc": "KV01", "calls": 2, "attestation": {"A": 1, "B": 1, "C": 0}, "provider_name": "Keystone Voice"}
    assert s["signers"][1]["spc"] == "ZZ99" and s["signers"][1]["provider_id"] is None
    assert facade.campaign_signing_stats(987654)["reports"] == 0


def test_its_campaign_and_provider_snippets_render(world, shaken_var):
    from django.template import Context, Template

    from robotrace.campaigns.models import Campaign

    kv = provider("Keystone Voice", spc="KV01")
    camp = _campaign(Campaign.Status.CONFIRMED)
    at = timezone.now() - dt.timedelta(hours=1)
    r = report(world.reporter_a, identity=_sig("KV01", at, "A"), at=at, campaign=camp)
    services.verify_reports(report_ids=[r.id])
    html = Template("{% load shaken_tags %}{% shaken_campaign cid %}").render(Context({"cid": camp.id}))
    assert "100 %" in html and "Keystone Voice" in html
    html = Template("{% load shaken_tags %}{% shaken_provider pid %}").render(Context({"pid": kv.id}))
    assert "A-attested illegal calls" in html and '<span class="badge danger">1</span>' in html
