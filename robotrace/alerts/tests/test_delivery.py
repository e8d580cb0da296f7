from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from robotrace.alerts import conf, services
from robotrace.alerts.models import Alert
from robotrace.alerts.tests.conftest import TRANSCRIPT, add_reports, make_campaign, make_event
from robotrace.audit.models import AuditEvent
from robotrace.outbox import conf as outbox_conf
from robotrace.outbox import services as outbox
from robotrace.outbox.models import Attempt, Delivery


def _alert(world, *, email=True, callbacks=("+18885550123",)) -> Alert:
    services.create_subscription(actor=world.dana, organisation=world.agency_a,
                                 data={"name": "NC", "states": ["NC"], "min_reports": 1, "send_email": email})
    c = make_campaign("Secret SSA campaign")
    add_reports(c, world.reporter_a, 3, caller="+19195550111", callbacks=list(callbacks))
    [alert] = services.process_event(event_id=make_event(c).pk)
    return alert


def _deliveries(world, channel):
    return list(Delivery.objects.for_org(world.agency_a).filter(channel=channel))


def test_it_emails_only_a_link(world):
    alert = _alert(world)
    assert outbox.sweep() == 1
    [msg] = mail.outbox
    assert msg.to == ["dana@agency-a.test"]
    assert f"/alerts/{alert.pk}/" in msg.body
    for secret in ("+19195550111", "9195550111", "+18885550123", TRANSCRIPT[:30], "Secret SSA", "NC", "Social Security"):
        assert secret not in msg.body and secret not in msg.subject
    [d] = _deliveries(world, "email")
    assert d.status == "delivered" and d.attempts == 1
    assert Attempt.objects.for_org(world.agency_a).filter(delivery=d, ok=True).count() == 1


def test_it_signs_webhooks_so_the_standardwebhooks_library_verifies_them(world, hook_server):
    created = services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url, description="SOC")
    alert = _alert(world, email=False)
    outbox.sweep()
    [req] = hook_server.requests
    payload = Webhook(created.secret).verify(req["body"], req["headers"])
    assert payload["type"] == "alert.created"
    assert payload["data"]["id"] == alert.pk
    assert payload["data"]["evidence"]["caller_ids"][0]["number"] == "+19195550111"
    # A tampered body or another secret fails.
    with pytest.raises(WebhookVerificationError):
        Webhook(created.secret).verify(req["body"] + b" ", req["headers"])
    other = services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    with pytest.raises(WebhookVerificationError):
        Webhook(other.secret).verify(req["body"], req["headers"])
    [d] = _deliveries(world, "webhook")
    assert d.status == "delivered" and d.last_status_code == 200
    assert req["headers"]["webhook-id"] == d.msg_id


def test_it_retries_failed_webhooks_with_exponential_backoff(world, hook_server):
    hook_server.status = 503
    services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    _alert(world, email=False)
    t0 = timezone.now()
    assert outbox.sweep(now=t0) == 1
    [d] = _deliveries(world, "webhook")
    assert (d.status, d.attempts, d.last_status_code) == ("retrying", 1, 503)
    first_gap = d.due_at - t0
    assert timedelta(seconds=outbox_conf.RETRY_BASE_SECONDS) <= first_gap < timedelta(seconds=outbox_conf.RETRY_BASE_SECONDS + 60)
    # Not due yet: the sweeper leaves it alone.
    assert outbox.sweep(now=t0 + timedelta(seconds=outbox_conf.RETRY_BASE_SECONDS // 2)) == 0
    t1 = d.due_at + timedelta(seconds=1)
    assert outbox.sweep(now=t1) == 1
    d.refresh_from_db()
    assert d.attempts == 2
    assert d.due_at - timezone.now() > timedelta(seconds=outbox_conf.RETRY_BASE_SECONDS * 2 - 60)
    ids = {r["headers"]["webhook-id"] for r in hook_server.requests}
    assert ids == {d.msg_id}, "retries keep the webhook-id so receivers can dedupe"
    hook_server.status = 204
    assert outbox.sweep(now=d.due_at + timedelta(seconds=1)) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 3, 204)
    log = list(Attempt.objects.for_org(world.agency_a).filter(delivery=d).values_list("number", "ok", "status_code"))
    assert log == [(1, False, 503), (2, False, 503), (3, True, 204)]
    assert AuditEvent.objects.filter(action="alerts.delivery_failed").count() == 2


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff_seconds(n) for n in (1, 2, 3)] == [outbox_conf.RETRY_BASE_SECONDS, outbox_conf.RETRY_BASE_SECONDS * 2, outbox_conf.RETRY_BASE_SECONDS * 4]
    assert outbox.backoff_seconds(40) == outbox_conf.RETRY_MAX_SECONDS


def test_it_gives_up_after_the_last_attempt_on_an_unreachable_endpoint(world, hook_server):
    # A port nothing listens on: connection refused every time.
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=f"http://127.0.0.1:{port}/hook")
    _alert(world, email=False)
    now = timezone.now()
    for _ in range(outbox_conf.MAX_ATTEMPTS):
        assert outbox.sweep(now=now) == 1
        [d] = _deliveries(world, "webhook")
        now = (d.due_at or now) + timedelta(seconds=1)
    assert d.status == "gave_up" and d.attempts == outbox_conf.MAX_ATTEMPTS and d.due_at is None
    assert "Connection refused" in d.last_error  # the connection error, in words
    assert outbox.sweep(now=now + timedelta(days=1)) == 0


def test_a_delivery_is_claimed_once(world, hook_server):
    services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    _alert(world, email=False)
    [d] = _deliveries(world, "webhook")
    assert outbox.claim(d.pk) is True
    assert outbox.claim(d.pk) is False
    assert outbox.attempt(delivery_id=d.pk) is None


def test_webhook_urls_must_be_public_https_outside_development(world, monkeypatch):
    from django.core.exceptions import ValidationError

    monkeypatch.setattr(conf, "WEBHOOK_ALLOW_INSECURE", False)
    for url in ("http://intel.example.gov/hook", "https://127.0.0.1/hook", "https://10.0.0.5/x", "https://localhost/x", "ftp://x"):
        with pytest.raises(ValidationError) as exc:
            services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=url)
        assert "url" in exc.value.message_dict
    assert services.create_endpoint(actor=world.dana, organisation=world.agency_a, url="https://intel.example.gov/hook").secret.startswith("whsec_")


def test_the_payload_is_json_with_the_alert_link(world, hook_server):
    services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    alert = _alert(world, email=False)
    outbox.sweep()
    body = json.loads(hook_server.requests[0]["body"])
    assert body["data"]["url"].endswith(f"/alerts/{alert.pk}/")


def test_a_test_ping_is_signed_and_reported(world, as_user, hook_server):
    created = services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    r = as_user(world.dana).post(f"/alerts/webhooks/{created.endpoint.pk}/test", follow=True)
    assert "Test message delivered" in r.content.decode()
    [req] = hook_server.requests
    assert Webhook(created.secret).verify(req["body"], req["headers"])["type"] == "ping"
    hook_server.status = 500
    r = as_user(world.dana).post(f"/alerts/webhooks/{created.endpoint.pk}/test", follow=True)
    assert "failed: endpoint answered 500" in r.content.decode()
    assert AuditEvent.objects.filter(action="alerts.webhook_pinged").count() == 2


def test_the_consortium_can_retry_a_failed_delivery_now(world, as_user, hook_server):
    hook_server.status = 500
    services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    alert = _alert(world, email=False)
    outbox.sweep()
    [d] = _deliveries(world, "webhook")
    assert d.status == "retrying"
    hook_server.status = 200
    r = as_user(world.alice).post(f"/alerts/deliveries/{d.pk}/retry")
    assert r.status_code == 302 and r["Location"].endswith(f"/alerts/{alert.pk}/")
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert AuditEvent.objects.filter(action="alerts.delivery_retry_requested", object_id=str(d.pk)).exists()


def test_deleting_an_endpoint_gives_up_its_pending_deliveries(world, hook_server):
    hook_server.status = 500
    created = services.create_endpoint(actor=world.dana, organisation=world.agency_a, url=hook_server.url)
    _alert(world, email=False)
    outbox.sweep()
    services.delete_endpoint(actor=world.dana, organisation=world.agency_a, endpoint_id=created.endpoint.pk)
    [d] = _deliveries(world, "webhook")
    assert d.status == "gave_up" and d.due_at is None and d.endpoint_id is None
    assert outbox.sweep(now=timezone.now() + timedelta(days=1)) == 0
