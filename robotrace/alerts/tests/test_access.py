"""Agency A is refused everything of agency B; providers and reporters are refused every
page and endpoint of the alerts app."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from robotrace.alerts import services
from robotrace.alerts.models import Alert, AlertSubscription, WebhookEndpoint
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.audit.models import AuditEvent
from robotrace.conftest import bearer
from robotrace.outbox.models import Delivery


@pytest.fixture
def a_stuff(world):
    # A distinctive name: a two-letter one could turn up inside a CSRF token.
    sub = services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "Alpha state watch", "states": ["NC"], "min_reports": 1})
    ep = services.create_endpoint(actor=world.dana, organisation=world.agency_a, url="http://127.0.0.1:9/hook").endpoint
    c = make_campaign()
    add_reports(c, world.reporter_a, 3)
    [alert] = services.process_event(event_id=make_event(c).pk)
    delivery = Delivery.objects.for_org(world.agency_a).first()
    return SimpleNamespace(sub=sub, ep=ep, campaign=c, alert=alert, delivery=delivery)


def _pages(s):
    return [
        ("get", "/alerts/"),
        ("get", f"/alerts/{s.alert.pk}/"),
        ("post", f"/alerts/{s.alert.pk}/read"),
        ("post", "/alerts/read-all"),
        ("post", f"/alerts/deliveries/{s.delivery.pk}/retry"),
        ("get", f"/alerts/campaigns/{s.campaign.pk}/"),
        ("get", "/alerts/export.stix.json"),
        ("get", "/alerts/subscriptions/"),
        ("get", "/alerts/subscriptions/new"),
        ("get", f"/alerts/subscriptions/{s.sub.pk}/edit"),
        ("post", f"/alerts/subscriptions/{s.sub.pk}/delete"),
        ("post", "/alerts/webhooks/new"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/rotate"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/toggle"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/test"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/delete"),
    ]


def _api(s):
    return [
        ("get", "/api/v1/alerts"),
        ("get", f"/api/v1/alerts/{s.alert.pk}"),
        ("post", f"/api/v1/alerts/{s.alert.pk}/read"),
        ("get", "/api/v1/alerts/stix"),
        ("get", "/api/v1/alerts/subscriptions"),
        ("post", "/api/v1/alerts/subscriptions"),
        ("get", f"/api/v1/alerts/subscriptions/{s.sub.pk}"),
        ("put", f"/api/v1/alerts/subscriptions/{s.sub.pk}"),
        ("delete", f"/api/v1/alerts/subscriptions/{s.sub.pk}"),
    ]


@pytest.mark.parametrize("who", ["pat", "quinn", "rita", "sam"])
def test_providers_and_reporters_are_refused_every_page(world, as_user, a_stuff, who):
    c = as_user(getattr(world, who))
    for method, url in _pages(a_stuff):
        r = getattr(c, method)(url)
        assert r.status_code == 403, (method, url, r.status_code)
    assert AuditEvent.objects.filter(action="access.denied", actor_user=getattr(world, who)).count() == len(_pages(a_stuff))


@pytest.mark.parametrize("who", ["pat", "rita"])
def test_providers_and_reporters_are_refused_every_api_endpoint(world, as_user, api_key, client, a_stuff, who):
    user = getattr(world, who)
    key = api_key(user.organisation, ["alerts:read"])
    session = as_user(user)
    for method, url in _api(a_stuff):
        r = getattr(client, method)(url, content_type="application/json", data="{}", **bearer(key)) if method in ("post", "put") else getattr(client, method)(url, **bearer(key))
        assert r.status_code == 403, (method, url, r.status_code)
        r = getattr(session, method)(url, content_type="application/json", data="{}") if method in ("post", "put") else getattr(session, method)(url)
        assert r.status_code == 403, (method, url, r.status_code)


def test_anonymous_visitors_are_sent_to_login_and_api_calls_get_401(client, a_stuff):
    for method, url in _pages(a_stuff):
        r = getattr(client, method)(url)
        assert r.status_code == 302 and "/login" in r["Location"], url
    for method, url in _api(a_stuff):
        assert getattr(client, method)(url).status_code == 401, url


def test_agency_b_gets_404_for_every_object_of_agency_a(world, as_user, a_stuff):
    c = as_user(world.omar)
    s = a_stuff
    for method, url in [
        ("get", f"/alerts/{s.alert.pk}/"),
        ("post", f"/alerts/{s.alert.pk}/read"),
        ("get", f"/alerts/campaigns/{s.campaign.pk}/"),
        ("get", f"/alerts/subscriptions/{s.sub.pk}/edit"),
        ("post", f"/alerts/subscriptions/{s.sub.pk}/edit"),
        ("post", f"/alerts/subscriptions/{s.sub.pk}/delete"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/rotate"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/toggle"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/test"),
        ("post", f"/alerts/webhooks/{s.ep.pk}/delete"),
    ]:
        assert getattr(c, method)(url).status_code == 404, (method, url)
    # Agencies never retry deliveries (a consortium action).
    assert c.post(f"/alerts/deliveries/{s.delivery.pk}/retry").status_code == 403
    # Lists and pages of B show nothing of A.
    assert s.alert.ref not in c.get("/alerts/").content.decode()
    page = c.get("/alerts/subscriptions/").content.decode()
    assert s.sub.name not in page and s.ep.url not in page
    c.post("/alerts/read-all")
    s.alert.refresh_from_db()
    assert s.alert.read_at is None
    assert AlertSubscription.objects.for_org(world.agency_a).filter(pk=s.sub.pk).exists()
    assert WebhookEndpoint.objects.for_org(world.agency_a).get(pk=s.ep.pk).active


def test_agency_b_gets_404_from_the_api_for_agency_a_objects(world, client, as_user, api_key, a_stuff):
    key = api_key(world.agency_b, ["alerts:read"])
    s = a_stuff
    assert client.get(f"/api/v1/alerts/{s.alert.pk}", **bearer(key)).status_code == 404
    assert client.post(f"/api/v1/alerts/{s.alert.pk}/read", **bearer(key)).status_code == 404
    assert client.get(f"/api/v1/alerts/subscriptions/{s.sub.pk}", **bearer(key)).status_code == 404
    assert client.get("/api/v1/alerts", **bearer(key)).json()["items"] == []
    assert client.get("/api/v1/alerts/subscriptions", **bearer(key)).json() == []
    omar = as_user(world.omar)
    body = {"name": "hijack", "states": ["OH"]}
    assert omar.put(f"/api/v1/alerts/subscriptions/{s.sub.pk}", body, content_type="application/json").status_code == 404
    assert omar.delete(f"/api/v1/alerts/subscriptions/{s.sub.pk}").status_code == 404
    assert AlertSubscription.objects.for_org(world.agency_a).get(pk=s.sub.pk).name == "Alpha state watch"


def test_an_agency_that_was_not_alerted_cannot_open_the_campaign(world, as_user, a_stuff):
    assert as_user(world.dana).get(f"/alerts/campaigns/{a_stuff.campaign.pk}/").status_code == 200
    assert as_user(world.omar).get(f"/alerts/campaigns/{a_stuff.campaign.pk}/").status_code == 404


def test_the_consortium_sees_every_alert_with_delivery_status(world, as_user, a_stuff):
    c = as_user(world.alice)
    page = c.get("/alerts/").content.decode()
    assert a_stuff.alert.ref in page and "Agency Alpha" in page
    assert c.get(f"/alerts/{a_stuff.alert.pk}/").status_code == 200
    # The consortium reading an alert does not mark it read for the agency.
    assert Alert.objects.for_org(world.agency_a).get(pk=a_stuff.alert.pk).read_at is None
