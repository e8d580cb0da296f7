from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from robotrace.accounts import services as accounts
from robotrace.audit.models import AuditEvent
from robotrace.providers import services
from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.tracebacks.models import Hop, Traceback

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_it_gives_every_provider_organisation_a_registry_record(world):
    p = Provider.objects.get(organisation=world.provider_a)
    assert p.frn == "0000000001" and p.ocns == ["PA01"] and p.has_account


def test_it_links_a_new_provider_organisation_to_its_pending_record(db):
    pending = services.find_or_create_pending(actor=None, text="Zeta Telecom, LLC")
    assert pending.status == "pending"
    org = accounts.create_organisation(actor=None, name="Zeta Telecom", kind="provider", slug="zeta")
    pending.refresh_from_db()
    assert pending.organisation == org and pending.status == "active"


def test_it_finds_providers_by_identifiers_and_normalised_names(db):
    p = f.provider("Acme Telecom Inc.", frn="0000000777", spc="ACME", ocns=["A1B2"], dba_names=["Acme Voice"])
    for text in ("0000000777", "acme", "a1b2", "ACME TELECOM", "Acme Telecom, LLC", "acme voice"):
        assert services.find_provider(text=text) == p, text
    assert services.find_provider(text="Acme Telecommunications") is None
    assert services.find_or_create_pending(actor=None, text="acme telecom llc") == p


def test_it_creates_and_edits_providers_with_an_audited_history(world):
    p = services.create_provider(actor=world.alice, name="New Carrier", frn="0000000555", roles="originating, transit")
    assert p.roles == ["originating", "transit"]
    services.update_provider(actor=world.alice, provider=p, contact_email="noc@new.test", business_hours_start=9)
    event = AuditEvent.objects.filter(action="provider.updated", object_id=str(p.pk)).get()
    assert event.data["changes"]["contact_email"] == ["", "noc@new.test"]
    with pytest.raises(ValidationError):
        services.update_provider(actor=world.alice, provider=p, roles=["bogus"])
    with pytest.raises(services.PermissionDenied):
        services.update_provider(actor=world.pat, provider=p, contact_email="x@y.test")
    with pytest.raises(services.PermissionDenied):
        services.create_provider(actor=world.dana, name="Nope")


def test_it_merges_a_pending_provider_and_moves_every_reference(world):
    alice = world.alice
    real = f.provider("Real Upstream Ltd", frn="0000000888")
    downstream = Provider.objects.get(organisation=world.provider_a)
    pending = services.find_or_create_pending(actor=None, text="RealUpstream (trunk 7)", named_by=downstream)
    tb = f.traceback(at=AT, originating_provider=pending, non_responsive_provider=pending, point_of_entry_provider=pending)
    h1 = f.hop(tb, downstream, received_at=AT, answer_after=timedelta(hours=1), response="upstream")
    Hop.objects.unscoped(reason="test").filter(pk=h1.pk).update(upstream_provider=pending)
    h2 = f.hop(tb, pending, received_at=AT, sequence=2)
    Hop.objects.unscoped(reason="test").filter(pk=h2.pk).update(named_by=downstream)

    services.merge_providers(actor=alice, source=pending, target=real, reason="same company")

    pending.refresh_from_db()
    assert pending.status == "merged" and pending.merged_into == real
    tb = Traceback.objects.unscoped(reason="test").get(pk=tb.pk)
    assert tb.originating_provider == tb.non_responsive_provider == tb.point_of_entry_provider == real
    assert Hop.objects.unscoped(reason="test").get(pk=h1.pk).upstream_provider == real
    assert Hop.objects.unscoped(reason="test").get(pk=h2.pk).provider == real
    real.refresh_from_db()
    assert "RealUpstream (trunk 7)" in real.dba_names
    event = AuditEvent.objects.get(action="provider.merged")
    assert event.data["source"] == pending.pk and event.data["moved"]["tracebacks.hop.provider"] == 1
    # the pending name now resolves to the survivor
    assert services.find_or_create_pending(actor=None, text="RealUpstream (trunk 7)") == real


def test_it_refuses_bad_merges(world):
    a = Provider.objects.get(organisation=world.provider_a)
    b = Provider.objects.get(organisation=world.provider_b)
    with pytest.raises(ValidationError, match="itself"):
        services.merge_providers(actor=world.alice, source=a, target=a)
    with pytest.raises(ValidationError, match="platform accounts"):
        services.merge_providers(actor=world.alice, source=a, target=b)
    with pytest.raises(services.PermissionDenied):
        services.merge_providers(actor=world.pat, source=f.provider("x", status="pending"), target=a)


def test_it_searches_and_filters_the_registry(world):
    from robotrace.providers.queries import registry

    gw = f.provider("Harbor Gateway", roles=["gateway", "transit"], dba_names=["Harbor Voice"], ocns=["HG77"], country="US")
    f.provider("Overseas Link", roles=["foreign"], country="GB", rmd_status="removed")
    assert list(registry(role="gateway")) == [gw]
    assert list(registry(q="harbor voice")) == [gw]
    assert list(registry(q="hg77")) == [gw]
    assert [p.name for p in registry(country="gb", rmd="removed")] == ["Overseas Link"]
    assert {p.name for p in registry(account="yes")} == {"Provider Alpha", "Provider Bravo"}
    assert gw not in registry(account="yes")


def test_lookup_keys_follow_every_saved_change_and_unkeyed_rows_are_still_found(world):
    """find_provider asks the database for a stored key list, which save() keeps: a renamed
    DBA or OCN is found by its new value only; rows bulk-created without keys are scanned."""
    p = services.create_provider(actor=world.alice, name="Keystone Voice, LLC", dba_names=["KV Wholesale"], ocns=["KV01"])
    assert services.find_provider(text="kv wholesale inc") == p
    services.update_provider(actor=world.alice, provider=p, dba_names=["Stonekey Transit"], ocns=["SK02"])
    assert services.find_provider(text="Stonekey Transit") == p and services.find_provider(text="sk02") == p
    assert services.find_provider(text="KV Wholesale") is None and services.find_provider(text="KV01") is None
    Provider.objects.bulk_create([Provider(name="Bulk Carrier", dba_names=["Bulk Brand"], ocns=["BK77"])])
    assert Provider.objects.get(name="Bulk Carrier").lookup_keys == ""
    assert services.find_provider(text="bulk brand").name == "Bulk Carrier"
    assert services.find_provider(text="BK77").name == "Bulk Carrier"
    pending = services.find_or_create_pending(actor=None, text="Nowhere Networks Inc")
    assert pending.status == "pending" and services.find_provider(text="NOWHERE NETWORKS") == pending
