from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from robotrace.audit.models import AuditEvent
from robotrace.campaigns import services, store
from robotrace.campaigns.models import Campaign, CampaignChange, CampaignEvent, EngineState
from robotrace.campaigns.tests.helpers import store_reports
from robotrace.ingest.models import CallReport

A = "This is card member services calling about your Visa account. Because of your excellent payment history you now qualify to lower your interest rate to as little as zero percent. Press 1 to speak with a rate specialist."
B = "Hi, this is Karen from the student aid processing center. I am calling about your federal student loan balance. New rules may make you eligible for full loan forgiveness. Please call me back at 855-321-7788."


def _camps(world, texts):
    rows = store_reports(world.reporter_a, [{"transcript": t} for t in texts])
    store.catch_up()
    return rows, [CallReport.objects.unscoped(reason="t").get(pk=r.pk).campaign_id for r in rows]


@pytest.mark.django_db
def test_it_records_a_merge_and_keeps_routing_new_copies(world):
    rows, cids = _camps(world, [A, A, B])
    a, b = cids[0], cids[2]
    version = EngineState.objects.get(pk=1).version
    services.merge(actor=world.carol, organisation=world.consortium, campaign_id=b, into_id=a, reason="same operator")
    src = Campaign.objects.unscoped(reason="t").get(pk=b)
    assert src.status == "merged" and src.merged_into_id == a
    assert CampaignChange.objects.filter(kind="merge", from_campaign_id=b, to_campaign_id=a, actor=world.carol, reason="same operator").exists()
    assert AuditEvent.objects.filter(action="campaign.merge").exists()
    assert EngineState.objects.get(pk=1).version > version
    assert Campaign.objects.unscoped(reason="t").get(pk=a).report_count == 3
    # A new copy of B's script now lands in A (the index followed the merge), not in a new id.
    new, new_ids = _camps(world, [B])
    assert new_ids == [a]


@pytest.mark.django_db
def test_it_records_a_split_and_new_copies_follow_the_split(world):
    rows, cids = _camps(world, [A, A, A, A.replace("Visa", "MasterCard")])
    src = cids[0]
    new = services.split(actor=world.carol, organisation=world.consortium, campaign_id=src, report_ids=[rows[3].pk], reason="different brand", name="MasterCard rate")
    assert new.pk != src and new.report_count == 1 and new.name == "MasterCard rate"
    assert CampaignChange.objects.filter(kind="split", from_campaign_id=src, to_campaign=new).exists()
    assert Campaign.objects.unscoped(reason="t").get(pk=src).report_count == 3
    again, ids = _camps(world, [A.replace("Visa", "MasterCard"), A])
    assert ids == [new.pk, src]


@pytest.mark.django_db
def test_it_refuses_bad_splits_and_merges(world):
    rows, cids = _camps(world, [A, A, B])
    with pytest.raises(ValidationError):
        services.split(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], report_ids=[rows[2].pk], reason="x")
    with pytest.raises(ValidationError):
        services.split(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], report_ids=[rows[0].pk, rows[1].pk], reason="x")
    with pytest.raises(ValidationError):
        services.merge(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], into_id=cids[0], reason="x")
    with pytest.raises(ValidationError):
        services.merge(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], into_id=cids[2], reason="")
    with pytest.raises(PermissionDenied):
        services.close(actor=world.dana, organisation=world.agency_a, campaign_id=cids[0], reason="x")


@pytest.mark.django_db
def test_it_keeps_an_analysts_category_and_name(world):
    rows, cids = _camps(world, [A])
    services.recategorise(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], category="other", reason="test")
    services.rename(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], name="Rate scam X")
    _camps(world, [A + " Thank you."])
    c = Campaign.objects.unscoped(reason="t").get(pk=cids[0])
    assert c.report_count == 2
    assert (c.category, c.category_source, c.name) == ("other", "analyst", "Rate scam X")
    with pytest.raises(ValidationError):
        services.recategorise(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], category="nonsense")


@pytest.mark.django_db
def test_it_confirms_with_a_legal_basis_and_closes(world, django_capture_on_commit_callbacks):
    rows, cids = _camps(world, [A])
    with pytest.raises(ValidationError):
        services.confirm_illegal(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], legal_basis=[])
    with pytest.raises(ValidationError):
        services.confirm_illegal(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], legal_basis=["made-up"])
    with django_capture_on_commit_callbacks() as callbacks:
        c = services.confirm_illegal(actor=world.carol, organisation=world.consortium, campaign_id=cids[0], legal_basis=["tsr_310_4_b_1_v", "impersonation_16_cfr_461"])
    assert c.status == "confirmed" and c.legal_basis == ["tsr_310_4_b_1_v", "impersonation_16_cfr_461"]
    assert CampaignEvent.objects.filter(campaign=c, kind="confirmed").count() == 1 and len(callbacks) == 1
    services.close(actor=world.carol, organisation=world.consortium, campaign_id=c.pk, reason="calls stopped")
    assert Campaign.objects.unscoped(reason="t").get(pk=c.pk).status == "closed"
    assert AuditEvent.objects.filter(action__in=["campaign.confirm", "campaign.close"]).count() == 2


@pytest.mark.django_db
def test_it_runs_analyst_actions_from_the_page(world, as_user):
    rows, cids = _camps(world, [A, B])
    c = as_user(world.carol)
    r = c.post(f"/campaigns/{cids[0]}/confirm/", {"legal_basis": ["tcpa_227_b"]})
    assert r.status_code == 302
    assert Campaign.objects.unscoped(reason="t").get(pk=cids[0]).status == "confirmed"
    r = c.post(f"/campaigns/{cids[0]}/merge/", {"into": cids[1], "reason": ""}, follow=True)
    assert b"say why" in r.content
    r = c.post(f"/campaigns/{cids[1]}/merge/", {"into": cids[0], "reason": "one operator"})
    assert r.status_code == 302 and r["Location"].endswith(f"/campaigns/{cids[0]}/")
