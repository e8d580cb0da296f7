from __future__ import annotations

from robotrace.alerts import services
from robotrace.alerts.models import AlertSubscription
from robotrace.alerts.tests.conftest import add_reports, make_campaign, make_event
from robotrace.conftest import bearer


def _alerts(world, n):
    services.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": "NC", "states": ["NC"], "min_reports": 1})
    out = []
    for i in range(n):
        c = make_campaign(f"campaign {i}")
        add_reports(c, world.reporter_a, 2)
        out += services.process_event(event_id=make_event(c).pk)
    return out


def test_it_pages_alerts_with_a_cursor(world, client, api_key):
    alerts = _alerts(world, 5)
    key = bearer(api_key(world.agency_a, ["alerts:read"]))
    r = client.get("/api/v1/alerts?limit=2", **key).json()
    seen = [a["id"] for a in r["items"]]
    while r["next"]:
        r = client.get(f"/api/v1/alerts?limit=2&cursor={r['next']}", **key).json()
        seen += [a["id"] for a in r["items"]]
    assert seen == sorted((a.pk for a in alerts), reverse=True)
    assert client.get("/api/v1/alerts?cursor=garbage", **key).status_code == 400


def test_it_reads_one_alert_and_marks_it_read(world, client, api_key):
    [alert] = _alerts(world, 1)
    key = bearer(api_key(world.agency_a, ["alerts:read"]))
    body = client.get(f"/api/v1/alerts/{alert.pk}", **key).json()
    assert body["evidence"]["reports_in_jurisdiction"] == 2 and body["read_at"] is None
    assert client.post(f"/api/v1/alerts/{alert.pk}/read", **key).json()["read_at"] is not None
    assert client.get("/api/v1/alerts?unread=true", **key).json()["items"] == []


def test_a_key_without_the_scope_is_refused(world, client, api_key):
    _alerts(world, 1)
    r = client.get("/api/v1/alerts", **bearer(api_key(world.agency_a, ["legal:read"])))
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json"


def test_read_keys_cannot_write_subscriptions(world, client, api_key):
    key = bearer(api_key(world.agency_a, ["alerts:read"]))
    r = client.post("/api/v1/alerts/subscriptions", {"name": "x", "states": ["NC"]}, content_type="application/json", **key)
    assert r.status_code == 403


def test_subscriptions_crud_over_the_api(world, as_user):
    c = as_user(world.dana)
    r = c.post("/api/v1/alerts/subscriptions", {"name": "NC warranty", "states": ["NC"], "categories": ["auto_warranty"], "min_reports": 7},
               content_type="application/json")
    assert r.status_code == 201, r.content
    sub_id = r.json()["id"]
    assert c.get(f"/api/v1/alerts/subscriptions/{sub_id}").json()["min_reports"] == 7
    r = c.put(f"/api/v1/alerts/subscriptions/{sub_id}", {"name": "NC all", "states": ["NC"], "min_reports": 3}, content_type="application/json")
    assert r.status_code == 200 and r.json()["categories"] == []
    r = c.put(f"/api/v1/alerts/subscriptions/{sub_id}", {"name": "NC all", "states": ["TX"]}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "states"
    assert [s["id"] for s in c.get("/api/v1/alerts/subscriptions").json()] == [sub_id]
    assert c.delete(f"/api/v1/alerts/subscriptions/{sub_id}").status_code == 204
    assert not AlertSubscription.objects.for_org(world.agency_a).exists()


def test_the_consortium_lists_every_agency_alert(world, as_user):
    alerts = _alerts(world, 2)
    items = as_user(world.alice).get("/api/v1/alerts").json()["items"]
    assert {i["id"] for i in items} == {a.pk for a in alerts}
    assert as_user(world.alice).post(f"/api/v1/alerts/{alerts[0].pk}/read").status_code == 403


def test_write_keys_manage_subscriptions(world, client, api_key):
    key = bearer(api_key(world.agency_a, ["alerts:read", "alerts:write"]))
    r = client.post("/api/v1/alerts/subscriptions", {"name": "NC keys", "states": ["NC"]}, content_type="application/json", **key)
    assert r.status_code == 201, r.content
    # Agency B's write key cannot touch agency A's subscription.
    other = bearer(api_key(world.agency_b, ["alerts:read", "alerts:write"]))
    sub_id = r.json()["id"]
    assert client.delete(f"/api/v1/alerts/subscriptions/{sub_id}", **other).status_code == 404
