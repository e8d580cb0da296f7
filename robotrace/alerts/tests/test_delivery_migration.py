"""Alert deliveries written before the outbox move into it with their attempt log, and
move back when the migration is reversed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from robotrace.alerts.tests.conftest import make_campaign
from robotrace.conftest import migrate
from robotrace.outbox.models import Attempt, Delivery

BEFORE = [("alerts", "0003_alert_origins"), ("outbox", "0001_deliveries")]


@pytest.mark.django_db(transaction=True)
def test_existing_alert_deliveries_move_into_the_outbox_and_back(world) -> None:
    campaign = make_campaign()
    apps = migrate(BEFORE)
    try:
        Alert, Endpoint = apps.get_model("alerts", "Alert"), apps.get_model("alerts", "WebhookEndpoint")
        OldDelivery, OldAttempt = apps.get_model("alerts", "AlertDelivery"), apps.get_model("alerts", "AlertDeliveryAttempt")
        now = timezone.now()
        alert = Alert._base_manager.create(agency_id=world.agency_a.pk, subscription_name="NC", campaign_id=campaign.pk, event_kind="volume",
                                           created_at=now, evidence={"campaign": {"ref": "C-1"}, "reports_in_jurisdiction": 3})
        ep = Endpoint._base_manager.create(agency_id=world.agency_a.pk, url="https://soc.agency-a.test/hook", secret="whsec_dGVzdA==")
        failing = OldDelivery._base_manager.create(alert=alert, channel="webhook", endpoint=ep, msg_id="msg_old_hook", attempt=2, status="retrying",
                                                   response_code=503, error="endpoint answered 503", next_attempt_at=now + timedelta(minutes=2))
        sent = OldDelivery._base_manager.create(alert=alert, channel="email", recipients=["dana@agency-a.test"], msg_id="msg_old_mail", attempt=1,
                                                status="delivered", delivered_at=now)
        for n, code in ((1, 503), (2, 503)):
            OldAttempt._base_manager.create(delivery=failing, number=n, at=now, ok=False, response_code=code, error="endpoint answered 503", duration_ms=12)
        OldAttempt._base_manager.create(delivery=sent, number=1, at=now, ok=True, duration_ms=3)
    finally:
        migrate(None)

    hook = Delivery.objects.for_org(world.agency_a).get(msg_id="msg_old_hook")
    assert (hook.channel, hook.topic, hook.status, hook.attempts, hook.last_status_code) == ("webhook", "alert.created", "retrying", 2, 503)
    assert (hook.object_type, hook.object_id, hook.endpoint_kind, hook.endpoint_id) == ("alerts.alert", alert.pk, "alerts.endpoint", ep.pk)
    assert hook.url == "https://soc.agency-a.test/hook" and hook.due_at is not None
    assert hook.payload["type"] == "alert.created" and hook.payload["data"]["id"] == alert.pk
    assert hook.payload["data"]["url"].endswith(f"/alerts/{alert.pk}/")
    mail = Delivery.objects.for_org(world.agency_a).get(msg_id="msg_old_mail")
    assert (mail.status, mail.recipients, mail.due_at) == ("delivered", ["dana@agency-a.test"], None)
    assert f"/alerts/{alert.pk}/" in mail.payload["body"] and mail.payload["subject"] == f"Robotrace alert AL-{alert.pk:06d}"
    assert list(Attempt.objects.for_org(world.agency_a).filter(delivery=hook).values_list("number", "ok", "status_code")) == [(1, False, 503), (2, False, 503)]
    assert Delivery.objects.for_org(world.agency_b).count() == 0

    apps = migrate(BEFORE)
    try:
        OldDelivery = apps.get_model("alerts", "AlertDelivery")
        back = {d.msg_id: d for d in OldDelivery._base_manager.all()}
        assert set(back) == {"msg_old_hook", "msg_old_mail"}
        assert (back["msg_old_hook"].status, back["msg_old_hook"].attempt, back["msg_old_hook"].endpoint_id) == ("retrying", 2, ep.pk)
        assert apps.get_model("alerts", "AlertDeliveryAttempt")._base_manager.count() == 3
        assert not apps.get_model("outbox", "Delivery")._base_manager.filter(object_type="alerts.alert").exists()
    finally:
        migrate(None)
