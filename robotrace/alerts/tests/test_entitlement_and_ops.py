from __future__ import annotations

import json
from datetime import date
from io import StringIO

from django.core.management import call_command

from robotrace.alerts import queries, services
from robotrace.alerts.models import Alert, AlertSubscription
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.campaigns.models import Campaign
from robotrace.core.entitlements import ids_for_agency


def test_an_alerted_agency_may_open_the_campaign_and_no_other_agency_may(world):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "x", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    other = make_campaign("never alerted")
    add_reports(c, world.reporter_a, 2)
    services.process_event(event_id=make_event(c).pk)
    assert c.pk in ids_for_agency("campaigns.Campaign", world.agency_a)
    assert list(Campaign.objects.for_org(world.agency_a).filter(pk__in=[c.pk, other.pk]).values_list("pk", flat=True)) == [c.pk]
    assert not Campaign.objects.for_org(world.agency_b).filter(pk=c.pk).exists()


def test_deleting_a_subscription_keeps_its_alerts_and_the_entitlement(world):
    sub = services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "kept", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    add_reports(c, world.reporter_a, 2)
    [alert] = services.process_event(event_id=make_event(c).pk)
    services.delete_subscription(actor=world.dana, organisation=world.agency_a, subscription_id=sub.pk)
    alert = Alert.objects.for_org(world.agency_a).get(pk=alert.pk)
    assert alert.subscription is None and alert.subscription_name == "kept"
    assert queries.entitled_jurisdiction(world.agency_a, c.pk) == queries.Jurisdiction(False, ("NC",), ())


def test_the_daily_series_has_every_day_including_quiet_ones():
    series = queries._fill_days({date(2026, 11, 1): 3, date(2026, 11, 4): 1})
    assert [d["n"] for d in series] == [3, 0, 0, 1]


def test_npa_state_uses_offline_geocoding():
    assert queries.npa_state("919") == "NC" and queries.npa_state("614") == "OH" and queries.npa_state("212") == "NY"
    assert queries.npa_state("800") == "" and queries.npa_state("123") == ""


def test_the_demo_seeders_subscribe_the_demo_agencies(db):
    from robotrace.accounts import services as accounts
    from robotrace.alerts import demo
    from robotrace.core.demo import DemoWorld
    from robotrace.simulator.demo.world import ORGS

    world = DemoWorld()
    for spec in ORGS:
        if spec["kind"] == "agency":
            world.orgs[spec["slug"]] = accounts.create_organisation(actor=None, **spec)
    demo.seed(world)
    subs = {s.agency.slug: s for s in AlertSubscription.objects.unscoped(reason="test").select_related("agency")}
    assert set(subs) == {"nc-doj", "ohio-ago", "ftc"}
    assert subs["ftc"].all_states and subs["ohio-ago"].states == ["OH"]
    c = make_campaign()
    reporter = accounts.create_organisation(actor=None, name="R", kind="reporter", slug="r", reporter_type="honeypot")
    add_reports(c, reporter, 5, state="OH", npa="614")
    make_event(c, "opened")
    demo.evaluate(world)
    assert [a.agency.slug for a in Alert.objects.unscoped(reason="test")] == ["ohio-ago"]


def test_the_alerts_command_catches_up_sweeps_and_exports(world, tmp_path):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "x", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    add_reports(c, world.reporter_a, 2, caller="+19195550111")
    make_event(c)
    out = StringIO()
    call_command("alerts", "catch-up", stdout=out)
    assert "1 alert(s) created" in out.getvalue()
    call_command("alerts", "sweep", stdout=out)
    assert "1 delivery attempt(s) made" in out.getvalue()
    path = tmp_path / "b.json"
    call_command("alerts", "export-stix", "agency-a", "--out", str(path), stdout=out, stderr=StringIO())
    assert "+19195550111" in json.dumps(json.loads(path.read_text()))
    call_command("alerts", "status", stdout=out)
    assert "delivered" in out.getvalue()
