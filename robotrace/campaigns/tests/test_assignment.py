from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import QuerySet

from robotrace.campaigns import store
from robotrace.campaigns.models import Campaign, CampaignChange, CampaignExemplar, EngineState
from robotrace.campaigns.tests.helpers import store_reports
from robotrace.ingest.models import CallReport
from robotrace.simulator.robocalls import generate

WARRANTY = (
    "We have been trying to contact you about your vehicle's factory warranty. Our records show it has expired "
    "or is about to expire. This is your final courtesy call before we close your file. Press 1 to speak with a "
    "warranty specialist, or call 833-555-0199."
)
SSA = (
    "This message is from the Social Security Administration. Your social security number has been suspended "
    "because it was linked to illegal activity near the border of Reno, Nevada. To avoid the freezing of your bank "
    "accounts, press 1 to speak with a case officer right away."
)


def _reports() -> QuerySet[CallReport]:
    return CallReport.objects.unscoped(reason="test")


@pytest.mark.django_db
def test_it_groups_renditions_and_fragments_and_separates_scripts(world):
    rows = store_reports(world.reporter_a, [
        {"transcript": WARRANTY, "calling_number": "+12025550101"},
        {"transcript": WARRANTY.replace("vehicle's", "vehicles").replace("final", "finale"), "calling_number": "+12025550102"},
        {"transcript": " ".join(WARRANTY.split()[8:30])},  # a fragment
        {"transcript": SSA},
        {"transcript": SSA.upper()},  # exact after normalisation
    ])
    store.catch_up()
    cids = [_reports().get(pk=r.pk).campaign_id for r in rows]
    assert cids[0] == cids[1] == cids[2]
    assert cids[3] == cids[4] != cids[0]
    warranty = Campaign.objects.unscoped(reason="test").get(pk=cids[0])
    assert warranty.report_count == 3 and warranty.caller_id_count == 2
    assert warranty.category == "auto_warranty"
    assert Campaign.objects.unscoped(reason="test").get(pk=cids[3]).category == "ssa_impersonation"


@pytest.mark.django_db
def test_it_keeps_ids_stable_as_data_grows_and_after_a_restart(world):
    calls = list(generate(600, seed=3))
    first = store_reports(world.reporter_a, calls[:300])
    store.catch_up()
    before = {r.pk: _reports().get(pk=r.pk).campaign_id for r in first}
    campaigns_before = set(Campaign.objects.unscoped(reason="test").values_list("pk", flat=True))
    # A restart: the in-memory index is gone and is rebuilt from the exemplar tables.
    store.reset_engine()
    second = store_reports(world.reporter_b, calls[300:])
    store.catch_up()
    after = {r.pk: _reports().get(pk=r.pk).campaign_id for r in first}
    assert after == before
    # Scripts already seen keep landing in the campaigns opened before the restart.
    seen = {c["true_campaign"] for c in calls[:300] if c.get("transcript")}
    by_truth: dict[str, set[int]] = {}
    for call, row in zip(calls[300:], second, strict=True):
        cid = _reports().get(pk=row.pk).campaign_id
        if cid is not None and call.get("transcript") and call["true_campaign"] in seen:
            by_truth.setdefault(call["true_campaign"], set()).add(cid)
    assert by_truth and all(ids & campaigns_before for ids in by_truth.values())
    assert EngineState.objects.get(pk=1).last_report_id == second[-1].pk


@pytest.mark.django_db
def test_it_uses_exemplars_not_every_report(world):
    calls = [c for c in generate(400, seed=5) if c.get("transcript")]
    store_reports(world.reporter_a, calls)
    store.catch_up()
    campaigns = Campaign.objects.unscoped(reason="test").count()
    assert CampaignExemplar.objects.count() <= campaigns * 8
    assert CampaignExemplar.objects.count() < len(calls) / 3


@pytest.mark.django_db
def test_it_links_content_less_complaints_by_callback_and_caller_id(world):
    t0 = datetime(2026, 11, 2, 10, tzinfo=UTC)
    rows = store_reports(world.reporter_a, [
        {"transcript": WARRANTY, "calling_number": "+12025550111", "call_started_at": t0},
        {"transcript": "", "calling_number": "+13125550000", "callback_numbers": ["(833) 555-0199"], "call_started_at": t0 + timedelta(minutes=1)},
        {"transcript": "", "calling_number": "+12025550111", "call_started_at": t0 + timedelta(minutes=2)},
        {"transcript": "", "calling_number": "+14155550123", "call_started_at": t0 + timedelta(minutes=3)},
    ])
    store.catch_up()
    cids = [_reports().get(pk=r.pk).campaign_id for r in rows]
    assert cids[0] is not None and cids[1] == cids[0] and cids[2] == cids[0]
    assert cids[3] is None


@pytest.mark.django_db
def test_it_opens_a_campaign_for_a_burst_of_one_caller_id(world):
    t0 = datetime(2026, 11, 2, 10, tzinfo=UTC)
    calls = [
        {"calling_number": "+17185550100", "called_number": f"+1919555{i:04d}", "called_state": "NC", "call_started_at": t0 + timedelta(seconds=10 * i)}
        for i in range(25)
    ]
    rows = store_reports(world.reporter_a, calls)
    store.catch_up()
    cids = {_reports().get(pk=r.pk).campaign_id for r in rows}
    assert len(cids) == 1 and None not in cids
    campaign = Campaign.objects.unscoped(reason="test").get(pk=cids.pop())
    assert campaign.report_count == 25 and "Burst" in campaign.name
    assert CampaignChange.objects.filter(to_campaign=campaign, kind="opened", data__method="burst").exists()


@pytest.mark.django_db
def test_it_assigns_reports_when_ingest_announces_an_upload(world, django_capture_on_commit_callbacks):
    from robotrace.campaigns.tests.helpers import ndjson
    from robotrace.ingest import services as ingest

    calls = [
        {"source_report_id": "u1", "report_type": "honeypot", "call_started_at": "2026-11-02T10:00:00Z", "calling_number": "+12025550101", "called_number": "+19194561200", "transcript": WARRANTY},
        {"source_report_id": "u2", "report_type": "honeypot", "call_started_at": "2026-11-02T10:01:00Z", "calling_number": "+12025550102", "called_number": "+19194561201", "transcript": WARRANTY},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        upload = ingest.receive(organisation=world.reporter_a, actor=world.rita, chunks=[ndjson(calls)], fmt="ndjson")
    assert upload.accepted == 2, upload.first_rejects
    ids = set(_reports().filter(reporter=world.reporter_a).values_list("campaign_id", flat=True))
    assert len(ids) == 1 and None not in ids


@pytest.mark.django_db
def test_it_catches_up_reports_whose_notification_was_lost(world):
    from robotrace.campaigns import tasks

    # Stored without any reports_stored signal (as after a crash between commit and enqueue).
    rows = store_reports(world.reporter_a, [{"transcript": WARRANTY}, {"transcript": SSA}])
    assert _reports().filter(pk__in=[r.pk for r in rows], campaign__isnull=True).count() == 2
    tasks.sweep.call_local()
    assert _reports().filter(pk__in=[r.pk for r in rows], campaign__isnull=True).count() == 0
    assert EngineState.objects.get(pk=1).last_report_id == rows[-1].pk
    # Running it again finds nothing new and changes nothing.
    before = Campaign.objects.unscoped(reason="test").count()
    assert tasks.sweep.call_local()["scanned"] == 0
    assert Campaign.objects.unscoped(reason="test").count() == before


@pytest.mark.django_db
def test_it_keeps_incremental_counters_equal_to_a_full_recount(world):
    calls = list(generate(800, seed=21))
    for i in range(0, 800, 200):  # four uploads
        store_reports(world.reporter_a, calls[i : i + 200])
        store.catch_up()
    qs = Campaign.objects.unscoped(reason="test").order_by("pk")
    fields = ("report_count", "caller_id_count", "state_count", "first_seen_at", "last_seen_at", "called_states")
    incremental = list(qs.values_list(*fields))
    store.refresh_campaigns(list(qs.values_list("pk", flat=True)), check_events=False)
    assert list(qs.values_list(*fields)) == incremental
    assert sum(r[0] for r in incremental) == _reports().filter(campaign__isnull=False).count()


def test_find_gaps_names_the_missing_id_ranges():
    assert store.find_gaps(0, [1, 2, 3]) == []
    assert store.find_gaps(10, [13, 14, 18]) == [(11, 12), (15, 17)]
    assert store.find_gaps(4, [5, 9], upto=12) == [(6, 8), (10, 12)]
    assert store.find_gaps(4, [], upto=6) == [(5, 6)]


@pytest.mark.django_db
def test_reports_that_commit_behind_the_cursor_are_still_assigned(world, monkeypatch):
    """On PostgreSQL two uploads can commit out of id order: the sweep passes ids that are
    not visible yet. It keeps them as open gaps, re-reads them every sweep, and closes a gap
    only when no transaction that could fill it is still running."""
    base = 10**9
    snapshots = iter([(100, 200), (100, 200), (150, 250), (150, 250), (300, 400), (300, 400)])
    monkeypatch.setattr(store, "_snapshot", lambda: next(snapshots))
    monkeypatch.setattr(store, "GAP_SETTLE_SECONDS", 0)
    EngineState.objects.update_or_create(pk=1, defaults={"last_report_id": base})
    store_reports(world.reporter_a, [{"id": base + i, "transcript": WARRANTY} for i in (1, 2, 3, 10, 11)])
    store.assign_reports(advance_cursor=True)
    state = EngineState.objects.get(pk=1)
    assert state.last_report_id == base + 11
    assert [g[:3] for g in state.open_gaps] == [[base + 4, base + 9, 200]]
    # The slower upload commits now, behind the cursor.
    late = store_reports(world.reporter_a, [{"id": base + i, "transcript": WARRANTY} for i in (5, 6)])
    result = store.assign_reports(advance_cursor=True)
    assert result["assigned"] == 2
    assert _reports().filter(pk__in=[r.pk for r in late], campaign__isnull=True).count() == 0
    state.refresh_from_db()
    # 4 and 7-9 may still come (xmin 150 < horizon 200): they stay open.
    assert [g[:2] for g in state.open_gaps] == [[base + 4, base + 4], [base + 7, base + 9]]
    # Every transaction older than the horizon has ended: the gaps are closed for good.
    store.assign_reports(advance_cursor=True)
    state.refresh_from_db()
    assert state.open_gaps == []


@pytest.mark.django_db
def test_the_snapshot_is_read_from_postgresql():
    from django.db import connection

    snap = store._snapshot()
    if connection.vendor != "postgresql":
        assert snap is None
    else:
        assert snap is not None and 0 < snap[0] <= snap[1]
