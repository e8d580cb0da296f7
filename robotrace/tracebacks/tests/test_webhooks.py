from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from robotrace.core.webhooks import WebhookVerificationError, headers_for, new_secret, verify
from robotrace.tracebacks import services
from robotrace.tracebacks.models import WebhookDelivery
from robotrace.tracebacks.tests.factories import make_net, open_tb


class Receiver:
    """A real HTTP endpoint that records what it receives and answers with `status`."""

    def __init__(self, status: int = 204, location: str = ""):
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.close()


def test_it_posts_a_signed_hop_request_to_the_providers_webhook(world, receiver, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
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
    delivery = WebhookDelivery.objects.for_org(world.provider_a).get()
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


def _first_delivery(world, url: str, capture) -> WebhookDelivery:  # type: ignore[no-untyped-def]
    """Point the terminating provider's webhook at `url`, open a traceback (its hop request
    is sent on commit) and return that delivery."""
    net = make_net(world)
    net.term.webhook_url, net.term.webhook_secret = url, new_secret()
    net.term.save()
    with capture(execute=True):
        open_tb(world)
    return WebhookDelivery.objects.for_org(world.consortium).get()


def test_it_retries_failed_deliveries_with_backoff_and_gives_up(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    failing = Receiver(status=500)
    try:
        d = _first_delivery(world, failing.url, django_capture_on_commit_callbacks)
        assert d.status == "pending" and d.attempts == 1 and d.last_status_code == 500
        first_due = d.due_at
        assert services.deliver_webhook(delivery_id=d.id) == "skipped"  # not due yet
        from datetime import timedelta

        for _ in range(services.conf.WEBHOOK_MAX_ATTEMPTS - 1):
            d.refresh_from_db()
            services.deliver_webhook(delivery_id=d.id, now=d.due_at + timedelta(seconds=1))
        d.refresh_from_db()
        assert d.status == "failed" and d.attempts == services.conf.WEBHOOK_MAX_ATTEMPTS
        assert first_due < d.due_at
        assert len(failing.received) == services.conf.WEBHOOK_MAX_ATTEMPTS
    finally:
        failing.close()


def test_it_sends_in_process_claimed_deliveries_and_records_outcomes_in_one_batch(
    world, receiver, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Thread dispatch: the row is written already claimed, sent from the pool, and its
    outcome written by the batch flusher; a failure goes back to pending with a backoff."""
    from robotrace.tracebacks import conf

    monkeypatch.setattr(conf, "WEBHOOK_DISPATCH", "thread")
    monkeypatch.setattr(services, "_ensure_flusher", lambda: None)  # flushed by hand below
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(services, "_pool", lambda: type("P", (), {"submit": staticmethod(lambda fn, *a: sent.append((fn, *a)))})())
    net = make_net(world)
    secret = new_secret()
    net.term.webhook_url, net.term.webhook_secret = receiver.url, secret
    net.term.save()
    with django_capture_on_commit_callbacks(execute=True):
        open_tb(world)
        open_tb(world)
    rows = list(WebhookDelivery.objects.for_org(world.provider_a).order_by("id"))
    assert [(d.status, d.attempts) for d in rows] == [("sending", 1), ("sending", 1)]
    receiver.status = 500
    fn, *args = sent[1]
    fn(*args)
    receiver.status = 204
    fn, *args = sent[0]
    fn(*args)
    assert all(verify(secret, h, b) for h, b in receiver.received)
    assert services.flush_sent() == 2
    first, second = (WebhookDelivery.objects.for_org(world.provider_a).get(id=d.id) for d in rows)
    assert first.status == "delivered" and first.last_status_code == 204 and first.delivered_at is not None
    assert second.status == "pending" and second.last_error == "HTTP 500"
    assert services.flush_sent() == 0


def test_a_redirecting_endpoint_is_a_failed_attempt_on_both_delivery_paths(world, receiver, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """A signed request is never re-sent to where a 3xx points, neither by the in-process
    sender nor by the periodic retry."""
    from datetime import timedelta

    redirecting = Receiver(status=307, location=receiver.url)
    try:
        d = _first_delivery(world, redirecting.url, django_capture_on_commit_callbacks)
        assert d.status == "pending" and d.last_status_code == 307 and d.last_error == "HTTP 307"
        assert services.deliver_webhook(delivery_id=d.id, now=d.due_at + timedelta(seconds=1)) == "pending"
        d.refresh_from_db()
        assert d.attempts == 2 and d.last_status_code == 307
        assert len(redirecting.received) == 2 and receiver.received == []
    finally:
        redirecting.close()
