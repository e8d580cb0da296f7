"""Hop-request webhook deliveries written before the outbox move into it, and back when the
migration is reversed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from robotrace.conftest import migrate
from robotrace.outbox.models import Delivery
from robotrace.tracebacks.tests.factories import make_net, open_tb

BEFORE = [("tracebacks", "0003_traceback_events_handled_by"), ("outbox", "0001_deliveries")]


@pytest.mark.django_db(transaction=True)
def test_existing_webhook_deliveries_move_into_the_outbox_and_back(world) -> None:
    net = make_net(world)
    hop = open_tb(world).hops.get()
    Delivery.objects.unscoped(reason="test").delete()  # what opening wrote: only the old rows below
    apps = migrate(BEFORE)
    try:
        Old = apps.get_model("tracebacks", "WebhookDelivery")
        now = timezone.now()
        common = {"provider_id": net.term.pk, "hop_id": hop.pk, "url": "https://hooks.alpha.test/h", "payload": {"type": "hop.requested"}}
        Old._base_manager.create(msg_id="msg_new", status="pending", attempts=0, due_at=now, **common)
        Old._base_manager.create(msg_id="msg_retry", status="pending", attempts=2, due_at=now + timedelta(minutes=2), last_status_code=500,
                                 last_error="HTTP 500", **common)
        Old._base_manager.create(msg_id="msg_done", status="delivered", attempts=1, due_at=now, delivered_at=now, last_status_code=204, **common)
        Old._base_manager.create(msg_id="msg_failed", status="failed", attempts=6, due_at=now, last_error="HTTP 503", event_type="hop.reminder",
                                 **common)
    finally:
        migrate(None)

    rows = {d.msg_id: d for d in Delivery.objects.for_org(world.provider_a)}
    assert {k: (d.status, d.attempts) for k, d in rows.items()} == {
        "msg_new": ("pending", 0), "msg_retry": ("retrying", 2), "msg_done": ("delivered", 1), "msg_failed": ("gave_up", 6),
    }
    failed = rows["msg_failed"]
    assert (failed.topic, failed.due_at, failed.gave_up_at is not None, failed.last_error) == ("hop.reminder", None, True, "HTTP 503")
    for d in rows.values():
        assert (d.channel, d.object_type, d.object_id, d.endpoint_kind, d.endpoint_id) == ("webhook", "tracebacks.hop", hop.pk, "providers.hop_webhook", net.term.pk)
        assert d.organisation_id == world.provider_a.pk and d.url == "https://hooks.alpha.test/h"
    assert rows["msg_retry"].due_at is not None and rows["msg_done"].due_at is None
    assert Delivery.objects.for_org(world.provider_b).count() == 0

    apps = migrate(BEFORE)
    try:
        back = {d.msg_id: d for d in apps.get_model("tracebacks", "WebhookDelivery")._base_manager.all()}
        assert {k: (d.status, d.attempts) for k, d in back.items()} == {
            "msg_new": ("pending", 0), "msg_retry": ("pending", 2), "msg_done": ("delivered", 1), "msg_failed": ("failed", 6),
        }
        assert not apps.get_model("outbox", "Delivery")._base_manager.exists()
    finally:
        migrate(None)
