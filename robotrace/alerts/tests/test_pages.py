from __future__ import annotations

from django.utils import timezone

from robotrace.alerts import services
from robotrace.alerts.models import Alert, AlertSubscription, WebhookEndpoint
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider
from robotrace.tracebacks.models import Traceback


def _setup(world):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "NC", "states": ["NC"], "min_reports": 1})
    c = make_campaign()
    add_reports(c, world.reporter_a, 3, caller="+19195550111", callbacks=["+18885550123"])
    add_reports(c, world.reporter_a, 9, state="OH", npa="614", caller="+16145550999")
    origin = Provider.objects.create(name="Origin Telecom")
    gateway = Provider.objects.create(name="Gateway Voice")
    now = timezone.now()
    Traceback.objects.create(campaign=c, status="completed", outcome="origin_and_customer", originating_provider=origin,
                             point_of_entry_provider=gateway, call_started_at=now, calling_number="+19195550111",
                             called_number="+19195550123", created_at=now, completed_at=now)
    Traceback.objects.create(campaign=c, status="in_progress", call_started_at=now, calling_number="+19195550111",
                             called_number="+19195550124", created_at=now)
    [alert] = services.process_event(event_id=make_event(c).pk)
    return c, alert


def test_the_alert_page_shows_the_evidence_and_marks_it_read(world, as_user):
    c, alert = _setup(world)
    r = as_user(world.dana).get(f"/alerts/{alert.pk}/")
    page = r.content.decode()
    assert r.status_code == 200
    for text in ("+19195550111", "+18885550123", "Origin Telecom", "Gateway Voice", "daily-chart", c.ref):
        assert text in page, text
    assert "+16145550999" not in page, "numbers seen only outside the jurisdiction are not shown"
    alert.refresh_from_db()
    assert alert.read_at is not None and alert.read_by == world.dana
    assert AuditEvent.objects.filter(action="alerts.read", object_id=str(alert.pk)).exists()


def test_the_campaign_view_shows_only_the_jurisdiction_and_completed_tracebacks(world, as_user):
    c, alert = _setup(world)
    r = as_user(world.dana).get(f"/alerts/campaigns/{c.pk}/")
    page = r.content.decode()
    assert r.status_code == 200
    assert "+19195550111" in page and "+18885550123" in page and "Origin Telecom" in page
    assert "+16145550999" not in page
    assert page.count("TB-") == 1, "only completed tracebacks are listed"
    ev = r.context["ev"]
    assert ev["reports_in_jurisdiction"] == 3 and ev["states"] == {"NC": 3}
    assert AuditEvent.objects.filter(action="alerts.campaign_viewed", object_id=str(c.pk)).exists()


def test_the_list_puts_unread_first_and_marks_read(world, as_user):
    c, first = _setup(world)
    second = services.process_event(event_id=make_event(c, "surge").pk)[0]
    services.mark_read(actor=world.dana, organisation=world.agency_a, alert_id=second.pk)
    client = as_user(world.dana)
    rows = [row["alert"].pk for row in client.get("/alerts/").context["rows"]]
    assert rows == [first.pk, second.pk]
    assert client.post(f"/alerts/{first.pk}/read").status_code == 302
    assert Alert.objects.for_org(world.agency_a).filter(read_at__isnull=True).count() == 0


def test_the_home_panel_lists_the_latest_alerts(world, as_user):
    _, alert = _setup(world)
    page = as_user(world.dana).get("/").content.decode()
    assert alert.ref in page and "1 unread" in page


def test_an_agency_creates_edits_and_deletes_a_subscription_from_the_page(world, as_user):
    c = as_user(world.dana)
    page = c.get("/alerts/subscriptions/new")
    assert page.status_code == 200 and page.context["form"].initial["states"] == ["NC"]
    r = c.post("/alerts/subscriptions/new", {"name": "Warranty in NC", "states": ["NC"], "categories": ["auto_warranty"],
                                             "min_reports": "10", "min_states": "1", "send_email": "on", "active": "on"})
    assert r.status_code == 302
    sub = AlertSubscription.objects.for_org(world.agency_a).get(name="Warranty in NC")
    assert sub.categories == ["auto_warranty"] and sub.min_reports == 10
    r = c.post(f"/alerts/subscriptions/{sub.pk}/edit", {"name": "Warranty", "area_codes": "919, 614", "min_reports": "10", "min_states": "1"})
    assert r.status_code == 400 and "614" in r.content.decode(), "an Ohio area code is refused for NC, naming it"
    r = c.post(f"/alerts/subscriptions/{sub.pk}/edit", {"name": "Warranty", "area_codes": "919", "min_reports": "10", "min_states": "1"})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert sub.area_codes == ["919"] and sub.states == [] and sub.active is False
    assert c.post(f"/alerts/subscriptions/{sub.pk}/delete").status_code == 302
    assert not AlertSubscription.objects.for_org(world.agency_a).exists()


def test_the_webhook_secret_is_shown_once(world, as_user):
    c = as_user(world.dana)
    r = c.post("/alerts/webhooks/new", {"url": "https://intel.example.gov/hook", "description": "SOC"})
    ep = WebhookEndpoint.objects.for_org(world.agency_a).get()
    assert r.status_code == 200 and ep.secret in r.content.decode()
    assert r["Cache-Control"] == "no-store"
    listing = c.get("/alerts/subscriptions/").content.decode()
    assert ep.secret[:10] not in listing and "issued " in listing  # not even its first characters
    r = c.post(f"/alerts/webhooks/{ep.pk}/rotate")
    old = ep.secret
    ep.refresh_from_db()
    assert ep.secret != old and ep.secret in r.content.decode()
    r = c.post("/alerts/webhooks/new", {"url": "not a url"})
    assert r.status_code == 302 and WebhookEndpoint.objects.for_org(world.agency_a).count() == 1


def test_read_only_agency_people_cannot_change_anything(world, as_user):
    from robotrace.conftest import make_user

    viewer = make_user(world.agency_a, "viewer@agency-a.test", "read_only")
    _, alert = _setup(world)
    c = as_user(viewer)
    assert c.get("/alerts/").status_code == 200
    assert c.post("/alerts/webhooks/new", {"url": "https://x.example/h"}).status_code == 403
    assert c.post("/alerts/subscriptions/new", {"name": "x"}).status_code == 403
    assert c.post(f"/alerts/{alert.pk}/read").status_code == 403


def test_it_links_alerts_to_the_campaign_and_on_to_a_legal_request(world, as_user):
    c, alert = _setup(world)
    client = as_user(world.dana)
    listing = client.get("/alerts/").content.decode()
    assert f'href="/alerts/campaigns/{c.pk}/"' in listing
    view = client.get(f"/alerts/campaigns/{c.pk}/").content.decode()
    assert f'href="/legal/new/?targets={c.ref}"' in view
    form = client.get(f"/legal/new/?targets={c.ref}").content.decode()
    assert f"\n{c.ref}</textarea>" in form
    # Consortium staff go from the alert to the full campaign page instead.
    staff = as_user(world.carol).get(f"/alerts/{alert.pk}/").content.decode()
    assert f'href="/campaigns/{c.pk}/"' in staff
