from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from robotrace.accounts import services as accounts
from robotrace.alerts import services
from robotrace.alerts.models import Alert
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.audit.models import AuditEvent
from robotrace.campaigns.models import CampaignEvent
from robotrace.campaigns.signals import campaign_event_created


def _sub(world, org=None, **data):
    org = org or world.agency_a
    actor = world.dana if org == world.agency_a else world.omar
    data.setdefault("name", "test")
    if not any(k in data for k in ("states", "area_codes", "all_states")):
        data["states"] = list(org.jurisdiction)
    return services.create_subscription(actor=actor, organisation=org, data=data)


def _alerts(org):
    return list(Alert.objects.for_org(org))


def test_it_alerts_when_reports_in_the_state_reach_the_threshold(world):
    sub = _sub(world, min_reports=3)
    c = make_campaign()
    add_reports(c, world.reporter_a, 3, state="NC")
    created = services.process_event(event_id=make_event(c).pk)
    assert [a.subscription_id for a in created] == [sub.pk]
    alert = created[0]
    assert alert.evidence["reports_in_jurisdiction"] == 3
    assert alert.evidence["states"] == {"NC": 3}
    assert AuditEvent.objects.filter(action="alerts.alert_created", object_id=str(alert.pk)).exists()


def test_it_does_not_alert_one_report_below_the_threshold(world):
    _sub(world, min_reports=3)
    c = make_campaign()
    add_reports(c, world.reporter_a, 2, state="NC")
    add_reports(c, world.reporter_a, 50, state="OH", npa="614")  # volume elsewhere does not count
    assert services.process_event(event_id=make_event(c).pk) == []
    assert _alerts(world.agency_a) == []


def test_it_matches_area_codes_by_the_called_number(world):
    _sub(world, name="919 only", area_codes=["919"], min_reports=2)
    c = make_campaign()
    add_reports(c, world.reporter_a, 2, state="", npa="919")
    add_reports(c, world.reporter_a, 5, state="NC", npa="704")
    alerts = services.process_event(event_id=make_event(c).pk)
    assert len(alerts) == 1
    assert alerts[0].evidence["reports_in_jurisdiction"] == 2


def test_it_filters_by_category(world):
    _sub(world, categories=["auto_warranty"], min_reports=1)
    ssa = make_campaign()
    add_reports(ssa, world.reporter_a, 5)
    assert services.process_event(event_id=make_event(ssa).pk) == []
    warranty = make_campaign("Extended warranty", "auto_warranty")
    add_reports(warranty, world.reporter_a, 5)
    assert len(services.process_event(event_id=make_event(warranty).pk)) == 1


def test_it_needs_the_minimum_number_of_states_for_federal_subscriptions(world):
    federal = accounts.create_organisation(actor=None, name="Federal", kind="agency", slug="fed", agency_level="federal", jurisdiction=[])
    services.create_subscription(actor=None, organisation=federal, data={"name": "spread", "all_states": True, "min_reports": 4, "min_states": 3})
    c = make_campaign()
    add_reports(c, world.reporter_a, 2, state="NC")
    add_reports(c, world.reporter_a, 2, state="OH", npa="614")
    assert services.process_event(event_id=make_event(c, "volume").pk) == []
    add_reports(c, world.reporter_a, 1, state="TX", npa="214")
    alerts = services.process_event(event_id=make_event(c, "states").pk)
    assert len(alerts) == 1 and alerts[0].agency == federal
    assert alerts[0].evidence["jurisdiction"]["all_states"] is True


def test_it_filters_by_event_kind(world):
    _sub(world, event_kinds=["confirmed"], min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 5)
    assert services.process_event(event_id=make_event(c, "volume").pk) == []
    assert len(services.process_event(event_id=make_event(c, "confirmed").pk)) == 1


def test_it_alerts_once_per_subscription_campaign_and_crossing(world):
    _sub(world, min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 5)
    assert len(services.process_event(event_id=make_event(c, "volume").pk)) == 1
    add_reports(c, world.reporter_a, 50)
    assert services.process_event(event_id=make_event(c, "volume").pk) == []
    assert len(services.process_event(event_id=make_event(c, "surge").pk)) == 1
    assert sorted(a.event_kind for a in _alerts(world.agency_a)) == ["surge", "volume"]


def test_it_marks_events_handled_and_is_idempotent(world):
    _sub(world, min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 5)
    event = make_event(c)
    services.process_event(event_id=event.pk)
    event.refresh_from_db()
    assert event.handled_by == ["alerts"]
    assert services.process_event(event_id=event.pk) == []
    assert len(_alerts(world.agency_a)) == 1


def test_it_only_alerts_agencies_whose_jurisdiction_is_reached(world):
    _sub(world, min_reports=1)
    _sub(world, org=world.agency_b, min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 5, state="NC")
    services.process_event(event_id=make_event(c).pk)
    assert len(_alerts(world.agency_a)) == 1
    assert _alerts(world.agency_b) == []


def test_it_ignores_paused_subscriptions(world):
    _sub(world, min_reports=1, active=False)
    c = make_campaign()
    add_reports(c, world.reporter_a, 5)
    assert services.process_event(event_id=make_event(c).pk) == []


def test_the_signal_receiver_processes_the_event(world):
    _sub(world, min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 3)
    event = make_event(c)
    campaign_event_created.send(sender=CampaignEvent, event_id=event.pk, campaign_id=c.pk, kind=event.kind)
    assert len(_alerts(world.agency_a)) == 1
    event.refresh_from_db()
    assert "alerts" in event.handled_by


def test_catch_up_processes_events_the_signal_missed(world):
    _sub(world, min_reports=1)
    c = make_campaign()
    add_reports(c, world.reporter_a, 3)
    missed = make_event(c, "opened")  # no signal sent: as if the process crashed
    other = make_event(c, "volume", handled_by=["autotrace"])
    assert set(services.unhandled_event_ids()) == {missed.pk, other.pk}
    assert services.catch_up() == 2
    assert services.unhandled_event_ids() == []
    other.refresh_from_db()
    assert other.handled_by == ["autotrace", "alerts"]


def test_recheck_alerts_a_campaign_that_grew_into_the_jurisdiction_after_its_event(world):
    _sub(world, min_reports=5)
    c = make_campaign()
    add_reports(c, world.reporter_a, 2)
    services.process_event(event_id=make_event(c).pk)
    assert _alerts(world.agency_a) == []
    add_reports(c, world.reporter_a, 3)
    assert services.recheck_recent(days=7) == 1
    assert services.recheck_recent(days=7) == 0


def test_merged_campaigns_do_not_alert(world):
    _sub(world, min_reports=1)
    c = make_campaign()
    c.status = "merged"
    c.save()
    add_reports(c, world.reporter_a, 5)
    assert services.process_event(event_id=make_event(c).pk) == []


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "x", "states": ["OH"]}, "states"),
        ({"name": "x", "states": ["ZZ"]}, "states"),
        ({"name": "x", "area_codes": ["614"]}, "area_codes"),
        ({"name": "x", "area_codes": ["12"]}, "area_codes"),
        ({"name": "x", "all_states": True}, "all_states"),
        ({"name": "", "states": ["NC"]}, "name"),
        ({"name": "x", "states": ["NC"], "categories": ["lottery"]}, "categories"),
        ({"name": "x", "states": ["NC"], "event_kinds": ["boom"]}, "event_kinds"),
        ({"name": "x", "states": ["NC"], "min_reports": 0}, "min_reports"),
        ({"name": "x", "states": ["NC"], "min_states": "many"}, "min_states"),
    ],
)
def test_it_refuses_subscriptions_outside_the_rules_naming_the_field(world, data, field):
    with pytest.raises(ValidationError) as exc:
        services.create_subscription(actor=world.dana, organisation=world.agency_a, data=data)
    assert field in exc.value.message_dict


def test_state_agencies_may_use_their_own_area_codes_and_federal_agencies_any(world):
    sub = services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "x", "area_codes": "919, 704"})
    assert sub.area_codes == ["704", "919"]
    federal = accounts.create_organisation(actor=None, name="Federal", kind="agency", slug="fed", agency_level="federal", jurisdiction=[])
    sub = services.create_subscription(actor=None, organisation=federal, data={"name": "y", "states": ["OH", "NC"], "area_codes": ["212"]})
    assert sub.states == ["NC", "OH"]


def test_a_subscription_without_a_place_defaults_to_the_agency_jurisdiction(world):
    sub = services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "x"})
    assert sub.states == ["NC"]
    federal = accounts.create_organisation(actor=None, name="Federal", kind="agency", slug="fed", agency_level="federal", jurisdiction=[])
    with pytest.raises(ValidationError) as exc:
        services.create_subscription(actor=None, organisation=federal, data={"name": "y"})
    assert "states" in exc.value.message_dict


def test_only_agencies_subscribe(world):
    with pytest.raises(ValidationError):
        services.create_subscription(actor=world.pat, organisation=world.provider_a, data={"name": "x", "all_states": True})
