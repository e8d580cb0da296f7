"""Hop requests reach providers through the outbox: the webhook and the e-mail (the message
that starts a provider's 24-hour clock) are written with the hop, sent after the commit, and
retried until delivered or given up, visibly, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from robotrace.core.webhooks import new_secret
from robotrace.outbox import conf as outbox_conf
from robotrace.outbox import services as outbox
from robotrace.outbox.models import Delivery
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_a_hop_request_writes_its_webhook_and_email_with_the_hop(world, receiver, django_capture_on_commit_callbacks) -> None:
    net = make_net(world)
    net.term.webhook_url, net.term.webhook_secret = receiver.url, new_secret()
    net.term.save()
    with django_capture_on_commit_callbacks(execute=True):
        tb = open_tb(world)
    hop = tb.hops.get()
    rows = {d.channel: d for d in Delivery.objects.for_org(world.provider_a)}
    assert set(rows) == {"webhook", "email"}
    for d in rows.values():
        assert (d.topic, d.object_type, d.object_id, d.status, d.attempts) == ("hop.requested", "tracebacks.hop", hop.id, "delivered", 1)
    assert rows["email"].recipients == ["noc@alpha.test", "pat@provider-a.test"]
    [sent] = mail.outbox
    assert sent.subject == f"New traceback request {tb.ref}" and f"/tracebacks/hops/{hop.id}/respond/" in sent.body
    assert tb.calling_number not in sent.body and tb.called_number not in sent.body  # a link, no call data
    assert Delivery.objects.for_org(world.provider_b).count() == 0


def test_a_rolled_back_hop_request_sends_nothing(world, django_capture_on_commit_callbacks) -> None:
    make_net(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        open_tb(world)
        raise RuntimeError("the opening failed after the hop was written")
    assert mail.outbox == [] and not Delivery.objects.for_org(world.consortium).exists()


def test_a_hop_email_whose_smtp_server_is_down_is_retried_then_shown_as_given_up(world, settings, as_user, django_capture_on_commit_callbacks) -> None:
    settings.EMAIL_BACKEND = "robotrace.outbox.tests.backends.DownBackend"
    make_net(world)
    with django_capture_on_commit_callbacks(execute=True):
        tb = open_tb(world)
    d = Delivery.objects.for_org(world.provider_a).get(channel="email")
    assert (d.status, d.attempts) == ("retrying", 1) and "SMTPConnectError" in d.last_error
    for _ in range(outbox_conf.MAX_ATTEMPTS - 1):
        assert outbox.sweep(now=d.due_at + timedelta(seconds=1)) == 1
        d.refresh_from_db()
    assert (d.status, d.attempts, d.due_at) == ("gave_up", outbox_conf.MAX_ATTEMPTS, None)
    assert d.attempt_log.filter(ok=False).count() == outbox_conf.MAX_ATTEMPTS
    assert tb.hops.get().status == "requested"  # the hop itself stands; its clock runs
    # The provider's admin and the consortium see it given up, with why.
    for user in (world.pat, world.carol):
        page = as_user(user).get("/deliveries/?status=gave_up").content.decode()
        assert f"/deliveries/{d.pk}/" in page and "Gave up" in page
        assert "SMTPConnectError" in as_user(user).get(f"/deliveries/{d.pk}/").content.decode()
    assert as_user(world.quinn).get(f"/deliveries/{d.pk}/").status_code == 404


def test_a_removed_hop_webhook_gives_its_retries_up(world, django_capture_on_commit_callbacks) -> None:
    from robotrace.conftest import Receiver

    failing = Receiver(status=503)
    try:
        net = make_net(world)
        net.term.webhook_url, net.term.webhook_secret = failing.url, new_secret()
        net.term.save()
        with django_capture_on_commit_callbacks(execute=True):
            open_tb(world)
        d = Delivery.objects.for_org(world.provider_a).get(channel="webhook")
        assert d.status == "retrying"
        net.term.webhook_url, net.term.webhook_secret = "", ""
        net.term.save()
        assert outbox.sweep(now=d.due_at + timedelta(seconds=1)) == 1
        d.refresh_from_db()
        assert (d.status, d.last_error) == ("gave_up", "endpoint removed or disabled")
        assert len(failing.received) == 1
    finally:
        failing.close()
