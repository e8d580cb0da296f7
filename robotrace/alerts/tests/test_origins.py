"""A completed traceback of an alerted campaign gives its alerts the origin (the traceback
completed event), on the page and in the API, and only to the alerted agency."""

from __future__ import annotations

from datetime import timedelta

from robotrace.alerts import queries, services
from robotrace.alerts.models import AlertOrigin
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.audit.models import AuditEvent
from robotrace.conftest import bearer
from robotrace.core import tasks as core_tasks
from robotrace.tracebacks import conf as traceback_conf
from robotrace.tracebacks import services as tracebacks
from robotrace.tracebacks import sweeper
from robotrace.tracebacks.tests.factories import make_net, open_tb


def _alerted(world):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "NC watch", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    add_reports(c, world.reporter_a, 3)
    [alert] = services.process_event(event_id=make_event(c).pk)
    return c, alert


def _trace_to_origin(world, net, campaign, **kw):
    tb = open_tb(world, campaign_id=campaign.pk)
    first = tb.hops.get()
    tracebacks.answer_hop(actor=None, organisation=world.provider_a, hop_id=first.id, response="upstream", upstream_provider_id=net.transit.id)
    second = tb.hops.get(sequence=2)
    tracebacks.answer_hop(actor=None, organisation=world.provider_b, hop_id=second.id, response="originated",
                          customer={"name": "Robo Dialer LLC"}, **kw)
    return tb


def test_a_completed_traceback_gives_the_campaigns_alert_its_origin(world, django_capture_on_commit_callbacks):
    net = make_net(world)
    c, alert = _alerted(world)
    assert queries.origins_for(world.agency_a, [alert.pk]) == {alert.pk: []}
    with django_capture_on_commit_callbacks(execute=True):
        tb = _trace_to_origin(world, net, c)
    [origin] = queries.origins_for(world.agency_a, [alert.pk])[alert.pk]
    assert origin["traceback"] == tb.ref and origin["outcome"] == "origin_and_customer"
    assert origin["originating_provider"] == "Bravo Transit" and origin["originating_customer"] == "Robo Dialer LLC"
    assert AuditEvent.objects.filter(action="alerts.origin_recorded").count() == 1
    # The snapshot sent with the alert is what was sent: it is not rewritten.
    alert.refresh_from_db()
    assert alert.evidence["tracebacks"] == []


def test_the_agency_sees_the_origin_on_the_page_and_in_the_api_and_no_one_else_does(world, client, as_user, api_key, django_capture_on_commit_callbacks):
    net = make_net(world)
    c, alert = _alerted(world)
    with django_capture_on_commit_callbacks(execute=True):
        _trace_to_origin(world, net, c)
    page = as_user(world.dana).get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200 and "Origins found since this alert" in page.content.decode() and "Robo Dialer LLC" in page.content.decode()
    body = client.get(f"/api/v1/alerts/{alert.pk}", **bearer(api_key(world.agency_a, ["alerts:read"]))).json()
    assert [o["originating_provider"] for o in body["origins"]] == ["Bravo Transit"]
    listed = client.get("/api/v1/alerts", **bearer(api_key(world.agency_a, ["alerts:read"]))).json()
    assert listed["items"][0]["origins"][0]["originating_customer"] == "Robo Dialer LLC"
    # Another agency: neither the alert nor its origin.
    assert as_user(world.omar).get(f"/alerts/{alert.pk}/").status_code == 404
    assert client.get(f"/api/v1/alerts/{alert.pk}", **bearer(api_key(world.agency_b, ["alerts:read"]))).status_code == 404
    assert queries.origins_for(world.agency_b, [alert.pk]) == {alert.pk: []}


def test_the_catch_up_records_the_origin_when_the_signal_was_lost(world, django_capture_on_commit_callbacks):
    net = make_net(world)
    c, alert = _alerted(world)
    with django_capture_on_commit_callbacks(execute=False):  # committed, then the process died
        _trace_to_origin(world, net, c)
    assert not AlertOrigin.objects.for_org(world.agency_a).exists()
    done = core_tasks.catch_up_events.call_local()
    assert done["tracebacks.TracebackEvent/alerts"] == 1
    assert AlertOrigin.objects.for_org(world.agency_a).count() == 1
    assert core_tasks.catch_up_events.call_local()["tracebacks.TracebackEvent/alerts"] == 0


def test_a_non_responsive_completion_and_its_resumed_completion_update_one_row(world, django_capture_on_commit_callbacks):
    net = make_net(world)
    c, alert = _alerted(world)
    with django_capture_on_commit_callbacks(execute=True):
        tb = open_tb(world, campaign_id=c.pk)
        tracebacks.answer_hop(actor=None, organisation=world.provider_a, hop_id=tb.hops.get().id, response="upstream", upstream_provider_id=net.transit.id)
        second = tb.hops.get(sequence=2)
        end = second.due_at + timedelta(hours=traceback_conf.NON_RESPONSIVE_GRACE_HOURS, minutes=1)
        sweeper.sweep(now=second.due_at + timedelta(minutes=1))
        sweeper.sweep(now=end)
    [origin] = AlertOrigin.objects.for_org(world.agency_a)
    assert origin.outcome == "non_responsive" and origin.originating_provider == ""
    with django_capture_on_commit_callbacks(execute=True):
        tracebacks.answer_hop(actor=None, organisation=world.provider_b, hop_id=second.id, response="originated",
                              customer={"name": "Late Co"}, now=end + timedelta(hours=1))
    [origin] = AlertOrigin.objects.for_org(world.agency_a)
    assert origin.outcome == "origin_and_customer" and origin.originating_customer == "Late Co"


def test_a_campaign_without_alerts_records_nothing(world, django_capture_on_commit_callbacks):
    net = make_net(world)
    c = make_campaign()
    with django_capture_on_commit_callbacks(execute=True):
        _trace_to_origin(world, net, c)
    assert not AlertOrigin.objects.unscoped(reason="test").exists()
