from __future__ import annotations

import json

import pytest

from robotrace.conftest import Receiver
from robotrace.core.webhooks import WebhookVerificationError, headers_for, new_secret, verify
from robotrace.outbox import conf as outbox_conf
from robotrace.outbox import services as outbox
from robotrace.outbox.models import Delivery
from robotrace.tracebacks.tests.factories import make_net, open_tb


def test_it_posts_a_signed_hop_request_to_the_providers_webhook(world, receiver, django_capture_on_commit_callbacks) -> None:
    net = make_net(world)
    secret = new_secret()
    net.term.webhook_url, net.term.webhook_secret = receiver.url, secret
    net.term.save()
    with django_capture_on_commit_callbacks(execute=True):
        tb = open_tb(world)
    hop = tb.hops.get()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert verify(secret, headers, body)  # valid Standard Webhooks signature
    payload = json.loads(body)
    assert payload["type"] == "hop.requested" and payload["data"]["hop_id"] == hop.id
    assert "hops" not in payload["data"]  # its own hop only
    delivery = Delivery.objects.for_org(world.provider_a).get(channel="webhook")
    assert delivery.status == "delivered" and delivery.attempts == 1
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), headers, body)
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, body + b" ")


def test_it_refuses_stale_or_replayed_signatures() -> None:
    secret = new_secret()
    body = b'{"a":1}'
    old = headers_for(secret, body, timestamp=1_000_000)
    with pytest.raises(WebhookVerificationError, match="5-minute"):
        verify(secret, old, body, now=1_000_000 + 301)
    assert verify(secret, old, body, now=1_000_000 + 299)


def _first_delivery(world, url: str, capture) -> Delivery:
    """Point the terminating provider's webhook at `url`, open a traceback (its hop request
    is sent on commit) and return that delivery."""
    net = make_net(world)
    net.term.webhook_url, net.term.webhook_secret = url, new_secret()
    net.term.save()
    with capture(execute=True):
        open_tb(world)
    return Delivery.objects.for_org(world.consortium).get(channel="webhook")


def test_it_retries_failed_deliveries_with_backoff_and_gives_up(world, django_capture_on_commit_callbacks) -> None:
    failing = Receiver(status=500)
    try:
        d = _first_delivery(world, failing.url, django_capture_on_commit_callbacks)
        assert d.status == "retrying" and d.attempts == 1 and d.last_status_code == 500
        first_due = d.due_at
        assert outbox.attempt(delivery_id=d.id) is None  # not due yet
        from datetime import timedelta

        for _ in range(outbox_conf.MAX_ATTEMPTS - 1):
            d.refresh_from_db()
            last_due = d.due_at
            outbox.attempt(delivery_id=d.id, now=d.due_at + timedelta(seconds=1))  # type: ignore[operator, arg-type]  # due while retrying
        d.refresh_from_db()
        assert d.status == "gave_up" and d.attempts == outbox_conf.MAX_ATTEMPTS
        assert first_due < last_due  # type: ignore[operator]  # both set while retrying
        assert len(failing.received) == outbox_conf.MAX_ATTEMPTS
    finally:
        failing.close()


def test_a_redirecting_endpoint_is_a_failed_attempt_on_both_delivery_paths(world, receiver, django_capture_on_commit_callbacks) -> None:
    """A signed request is never re-sent to where a 3xx points, neither by the in-process
    sender nor by the periodic retry."""
    from datetime import timedelta

    redirecting = Receiver(status=307, location=receiver.url)
    try:
        d = _first_delivery(world, redirecting.url, django_capture_on_commit_callbacks)
        assert d.status == "retrying" and d.last_status_code == 307 and d.last_error == "HTTP 307"
        assert outbox.attempt(delivery_id=d.id, now=d.due_at + timedelta(seconds=1)).status == "retrying"  # type: ignore[union-attr, operator, arg-type]  # due while retrying
        d.refresh_from_db()
        assert d.attempts == 2 and d.last_status_code == 307
        assert len(redirecting.received) == 2 and receiver.received == []
    finally:
        redirecting.close()
