from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from robotrace.campaigns.models import Campaign, CampaignEvent
from robotrace.campaigns.signals import campaign_event_created
from robotrace.ingest.models import CallReport
from robotrace.tracebacks import automation, conf, services
from robotrace.tracebacks.models import Hop, Traceback
from robotrace.tracebacks.tests.factories import make_net


def report(world, campaign, n: int, age_days: float, **kw) -> CallReport:
    at = timezone.now() - timedelta(days=age_days)
    return CallReport.objects.create(
        reporter=world.reporter_a, source_report_id=f"r-{n}", report_type="carrier_analytics", received_at=at, call_started_at=at,
        calling_number="+12025550111", calling_number_e164="+12025550111", called_number=f"+1919555{n:04d}", campaign=campaign, **kw,
    )


def event(campaign: Campaign, kind: str) -> CampaignEvent:
    fields: dict = {"campaign": campaign, "kind": kind, "at": timezone.now()}
    if any(f.name == "dedup_key" for f in CampaignEvent._meta.get_fields()):
        fields["dedup_key"] = f"{kind}-test"
    return CampaignEvent.objects.create(**fields)


def traced(campaign: Campaign) -> list[Traceback]:
    return list(Traceback.objects.unscoped(reason="test").filter(campaign=campaign))


def test_it_prefers_samples_under_ten_days_old(world) -> None:
    make_net(world)
    campaign = Campaign.objects.create(name="Auto warranty", legal_basis=["tsr_310_4_b_1_v"])
    old = report(world, campaign, 1, age_days=30)
    fresh = report(world, campaign, 2, age_days=2)
    fresher = report(world, campaign, 3, age_days=1)
    tbs = services.open_from_campaign(actor=world.alice, organisation=world.consortium, campaign_id=campaign.id, samples=2)
    assert {t.sample_report_id for t in tbs} == {fresh.id, fresher.id}
    assert all(t.legal_basis == ["tsr_310_4_b_1_v"] for t in tbs)
    more = services.open_from_campaign(actor=world.alice, organisation=world.consortium, campaign_id=campaign.id, samples=2)
    assert [t.sample_report_id for t in more] == [old.id]  # already-traced calls are skipped


def test_it_opens_tracebacks_when_a_campaign_event_fires(world, monkeypatch) -> None:
    make_net(world)
    monkeypatch.setattr(conf, "AUTO_SAMPLES_PER_CAMPAIGN", 2)
    campaign = Campaign.objects.create(name="SSA scam")
    for i in range(4):
        report(world, campaign, i, age_days=1)
    opened = event(campaign, "opened")
    campaign_event_created.send(sender=None, event_id=opened.id, campaign_id=campaign.id, kind="opened")
    assert traced(campaign) == []
    surge = event(campaign, "surge")
    campaign_event_created.send(sender=None, event_id=surge.id, campaign_id=campaign.id, kind="surge")
    assert len(traced(campaign)) == 2
    surge.refresh_from_db()
    assert "tracebacks" in surge.handled_by
    # The same event again (a retry) opens nothing more.
    automation.handle_campaign_event(event_id=surge.id)
    assert len(traced(campaign)) == 2


def test_it_catches_up_events_the_signal_missed(world) -> None:
    make_net(world)
    campaign = Campaign.objects.create(name="Utility")
    report(world, campaign, 7, age_days=1)
    ev = event(campaign, "volume")  # no signal sent
    assert automation.catch_up_campaign_events() == 1
    assert len(traced(campaign)) == 1
    assert automation.catch_up_campaign_events() == 0
    ev.refresh_from_db()
    assert "tracebacks" in ev.handled_by


def test_it_sends_a_direct_request_to_the_shaken_signer_and_flags_a_mismatch(world, monkeypatch) -> None:
    net = make_net(world)
    campaign = Campaign.objects.create(name="Spoofed")
    r = report(world, campaign, 9, age_days=1, identity_header="eyJ...;info=<https://cert>")
    # The verifier says Bravo Transit signed it with A attestation.
    monkeypatch.setattr(services, "_verified_signer", lambda rid: SimpleNamespace(provider_id=net.transit.id, attest="A", origid="x") if rid == r.id else None)
    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=r.id)
    hops = list(tb.hops.order_by("sequence"))
    assert [(h.provider, h.is_direct_signer_request) for h in hops] == [(net.transit, True), (net.term, False)]
    direct = hops[0]
    # The signer answers its direct request: it got the call from Origin Telecom.
    services.answer_hop(actor=None, organisation=world.provider_b, hop_id=direct.id, response="upstream", upstream_provider_id=net.origin.id)
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.IN_PROGRESS and tb.hop_count == 1  # the chain is the confirmation
    # The chain reaches the signer: its earlier answer is used at once.
    services.answer_hop(actor=None, organisation=world.provider_a, hop_id=hops[1].id, response="upstream", upstream_provider_id=net.transit.id)
    origin_hop = tb.hops.get(provider=net.origin)
    assert origin_hop.sequence == 3
    services.answer_hop(actor=None, organisation=world.consortium, hop_id=origin_hop.id, response="originated", customer={"name": "Spoof Co"})
    tb.refresh_from_db()
    assert tb.originating_provider == net.origin and tb.shaken_mismatch
    assert "attestation A" in tb.shaken_mismatch_detail
    assert Hop.objects.unscoped(reason="test").get(id=direct.id).attestation_flagged


def test_it_works_without_the_shaken_facade(world) -> None:
    make_net(world)
    campaign = Campaign.objects.create(name="x")
    r = report(world, campaign, 5, age_days=1, identity_header="eyJ")
    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=r.id)
    assert tb.hops.count() == 1


def test_it_ignores_an_unverified_signer(world, monkeypatch) -> None:
    net = make_net(world)
    campaign = Campaign.objects.create(name="y")
    r = report(world, campaign, 6, age_days=1, identity_header="eyJ")
    monkeypatch.setattr(services, "_verified_signer", lambda rid: SimpleNamespace(provider_id=net.transit.id, attest="A", origid="x", verified=False))
    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=r.id)
    assert tb.hops.count() == 1 and tb.shaken_signer is None
