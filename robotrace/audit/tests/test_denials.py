"""Every refusal is audited, and refusals cannot flood the trail (#20 finding 6)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from robotrace.audit import denials
from robotrace.audit.models import AuditEvent
from robotrace.audit.queries import verify_chain
from robotrace.audit.tasks import summarise_denials
from robotrace.conftest import bearer


def _denied(action):
    return AuditEvent.objects.filter(action=action, outcome="denied")


def test_an_unknown_api_key_is_audited(db, client):
    response = client.get("/api/v1/campaigns", **bearer("rt_nope_notakey"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 401
    [event] = _denied("api.unauthenticated")
    assert event.source_ip == "203.0.113.9" and event.actor_label == "anonymous"
    assert event.object_id == "/api/v1/campaigns" and event.data["status"] == 401
    assert "API key" in event.data["reason"]


def test_a_key_without_the_scope_is_audited_under_its_name(world, client, api_key):
    secret = api_key(world.rita.organisation, ["ingest"])
    response = client.get("/api/v1/campaigns", **bearer(secret))
    assert response.status_code == 403
    [event] = _denied("api.denied")
    assert event.actor_label.startswith("api-key:") and event.actor_org_id == world.reporter_a.id
    assert "Insufficient scope" in event.data["reason"]


def test_an_api_404_for_a_signed_in_person_is_audited(world, as_user):
    response = as_user(world.dana).get("/api/v1/campaigns/987654")
    assert response.status_code == 404
    [event] = _denied("api.not_found")
    assert event.actor_user_id == world.dana.id and event.actor_org_id == world.agency_a.id
    assert event.data["reason"] == "Not found: no such campaign"


def test_another_organisations_object_on_a_page_is_audited(world, as_user):
    url = reverse("accounts:person_action", args=[world.omar.id, "deactivate"])
    response = as_user(world.dana).post(url)
    assert response.status_code == 404
    [event] = _denied("access.not_found")
    assert event.actor_user_id == world.dana.id and event.object_id == url
    assert event.data["method"] == "POST"


def test_a_page_refused_by_kind_is_audited_once(world, as_user):
    response = as_user(world.pat).get(reverse("audit:list"))
    assert response.status_code == 403
    [event] = _denied("access.denied")
    assert event.actor_user_id == world.pat.id and "not for your organisation" in event.data["reason"]


def test_a_404_to_someone_without_identity_is_not_audited(db, client):
    assert client.get("/no-such-page/").status_code == 404
    assert not AuditEvent.objects.filter(outcome="denied").exists()


@pytest.fixture
def pinned_clock(monkeypatch):
    """All refusals of a test in one window, whatever the real clock says."""
    now = 1_800_000_000.0
    monkeypatch.setattr(denials, "_clock", lambda: now)
    return now


def test_a_burst_writes_a_bounded_number_of_events_with_the_right_total(world, settings, pinned_clock):
    settings.AUDIT_DENIALS_PER_MINUTE = 20
    before = AuditEvent.objects.count()
    rf = RequestFactory()
    for _ in range(10_000):
        request = rf.get("/api/v1/campaigns", REMOTE_ADDR="198.51.100.7")
        request.user = world.dana
        denials.record_denial(request, action="api.denied", status=403, reason="Insufficient scope")
    assert _denied("api.denied").count() == 20
    assert denials.summarise(now=pinned_clock + 60) == 0  # the window is not over yet
    assert denials.summarise(now=pinned_clock + 180) == 1
    [summary] = _denied(denials.SUMMARY_ACTION)
    assert summary.data["action"] == "api.denied" and summary.actor_user_id == world.dana.id
    assert (summary.data["count"], summary.data["recorded_individually"], summary.data["summarised"]) == (10_000, 20, 9_980)
    assert AuditEvent.objects.count() - before == 21
    assert denials.summarise(now=pinned_clock + 240) == 0  # each window once
    assert verify_chain() == []


def test_a_burst_through_the_api_is_bounded_too(world, client, api_key, settings, pinned_clock):
    settings.AUDIT_DENIALS_PER_MINUTE = 5
    secret = api_key(world.rita.organisation, ["ingest"])
    for _ in range(30):
        assert client.get("/api/v1/campaigns", **bearer(secret)).status_code == 403
    assert _denied("api.denied").count() == 5
    denials.summarise(now=pinned_clock + 180)
    [summary] = _denied(denials.SUMMARY_ACTION)
    assert summary.data["count"] == 30 and summary.actor_org_id == world.reporter_a.id
    assert summary.actor_label.startswith("api-key:")


def test_callers_without_identity_share_one_budget(db, client, settings, pinned_clock):
    settings.AUDIT_DENIALS_PER_MINUTE = 5
    settings.AUDIT_ANONYMOUS_DENIALS_PER_MINUTE = 8
    for n in range(20):  # twenty addresses, two refusals each
        for _ in range(2):
            client.get("/api/v1/campaigns", REMOTE_ADDR=f"192.0.2.{n}")
    assert _denied("api.unauthenticated").count() == 8
    denials.summarise(now=pinned_clock + 180)
    summaries = _denied(denials.SUMMARY_ACTION)
    assert 8 + sum(s.data["summarised"] for s in summaries) == 40


def test_an_ipv6_host_counts_as_its_whole_64(db, client, settings, pinned_clock):
    settings.AUDIT_DENIALS_PER_MINUTE = 3
    for n in range(10):
        client.get("/api/v1/campaigns", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    assert _denied("api.unauthenticated").count() == 3


def test_no_denial_path_raises_when_the_cache_is_empty_or_down(world, client, as_user, monkeypatch, settings, pinned_clock):
    settings.AUDIT_DENIALS_PER_MINUTE = 2
    for _ in range(3):
        client.get("/api/v1/campaigns")
    cache.clear()  # counters, slot and claim gone mid-window
    assert denials.summarise(now=pinned_clock + 180) == 0
    assert client.get("/api/v1/campaigns").status_code == 401

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    for name in ("incr", "add", "get_many", "set"):
        monkeypatch.setattr(cache, name, down)
    before = _denied("api.unauthenticated").count()
    for _ in range(5):
        assert client.get("/api/v1/campaigns").status_code == 401
    # Without counters every refusal is written: the trail grows, but loses nothing.
    assert _denied("api.unauthenticated").count() == before + 5
    assert as_user(world.pat).get(reverse("audit:list")).status_code == 403
    with pytest.raises(ConnectionError):
        denials.summarise(now=pinned_clock + 180)  # the periodic task fails loudly and retries
    assert verify_chain() == []


def test_the_summary_task_is_periodic(db):
    assert summarise_denials.call_local() == 0
