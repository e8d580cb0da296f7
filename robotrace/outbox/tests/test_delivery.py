"""One claim, one backoff, one give-up: webhooks and e-mails alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from robotrace.audit.models import AuditEvent
from robotrace.core.webhooks import verify
from robotrace.outbox import conf, relay, services
from robotrace.outbox.models import Attempt, Delivery
from robotrace.outbox.tests.conftest import KIND


def _hook(world, endpoints, url: str, *, claim_now: bool = False, endpoint_id: int = 1) -> Delivery:
    ep = endpoints.by_id.get(endpoint_id) or endpoints.add(endpoint_id, url)
    return services.webhook(topic="test.ping", organisation_id=world.provider_a.id, endpoint_kind=KIND, endpoint_id=endpoint_id,
                            endpoint=ep, payload={"type": "test.ping", "data": {"n": 1}}, claim_now=claim_now)


def _mail(world, *, claim_now: bool = False) -> Delivery:
    d = services.email(topic="test.notice", organisation_id=world.agency_a.id, to=["dana@agency-a.test", "", "dana@agency-a.test"],
                       subject="Something happened", body="Sign in to read it: https://robotrace.test/x", claim_now=claim_now)
    assert d is not None
    return d


def _log(d: Delivery) -> list[tuple[int, bool, int | None]]:
    return list(Attempt.objects.unscoped(reason="test").filter(delivery=d).values_list("number", "ok", "status_code"))


def test_it_sends_a_committed_delivery_at_once_and_logs_the_attempt(world, endpoints, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        d = _hook(world, endpoints, receiver.url)
        assert receiver.received == []  # nothing leaves before the commit
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_status_code, d.due_at) == ("delivered", 1, 204, None)
    assert _log(d) == [(1, True, 204)]
    [(headers, body)] = receiver.received
    assert headers["webhook-id"] == d.msg_id
    ep = endpoints.by_id[1]
    assert verify(ep.secret, headers, body) == d.msg_id  # our verifier and the reference library agree
    assert Webhook(ep.secret).verify(body, headers) == {"type": "test.ping", "data": {"n": 1}}


def test_a_rolled_back_change_sends_nothing(world, endpoints, receiver, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _hook(world, endpoints, receiver.url)
            raise RuntimeError("the change failed")
    assert receiver.received == [] and not Delivery.objects.unscoped(reason="test").exists()


def test_a_delivery_is_claimed_once(world, endpoints, receiver):
    d = _hook(world, endpoints, receiver.url)
    assert services.claim(d.pk) is True
    assert services.claim(d.pk) is False
    assert services.attempt(delivery_id=d.pk) is None
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("sending", 1)


def test_backoff_doubles_and_is_capped():
    base = conf.RETRY_BASE_SECONDS
    assert [services.backoff_seconds(n) for n in (1, 2, 3)] == [base, base * 2, base * 4]
    assert services.backoff_seconds(40) == conf.RETRY_MAX_SECONDS


def test_it_retries_with_backoff_and_gives_up_after_the_last_attempt(world, endpoints):
    from robotrace.conftest import Receiver

    failing = Receiver(status=503)
    try:
        d = _hook(world, endpoints, failing.url)
        now = timezone.now()
        for n in range(1, conf.MAX_ATTEMPTS + 1):
            assert services.sweep(now=now) == 1
            d.refresh_from_db()
            assert d.attempts == n and d.last_status_code == 503 and d.last_error == "HTTP 503"
            if n < conf.MAX_ATTEMPTS:
                assert d.status == "retrying"
                wait = d.due_at - timezone.now()
                assert timedelta(seconds=services.backoff_seconds(n) - 30) < wait <= timedelta(seconds=services.backoff_seconds(n))
                assert services.sweep(now=d.due_at - timedelta(seconds=1)) == 0  # not due yet
                now = d.due_at + timedelta(seconds=1)
        assert (d.status, d.due_at) == ("gave_up", None) and d.gave_up_at is not None
        assert services.sweep(now=now + timedelta(days=1)) == 0
        assert len(failing.received) == conf.MAX_ATTEMPTS
        assert {h["webhook-id"] for h, _ in failing.received} == {d.msg_id}, "retries keep the webhook-id"
        assert _log(d) == [(n, False, 503) for n in range(1, conf.MAX_ATTEMPTS + 1)]
        failed = AuditEvent.objects.filter(action="outbox.delivery_failed", object_id=str(d.pk))
        assert failed.count() == conf.MAX_ATTEMPTS and failed.order_by("-id").first().data["status"] == "gave_up"
    finally:
        failing.close()


def test_an_email_whose_smtp_server_is_down_is_retried_then_given_up_never_lost(world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "robotrace.outbox.tests.backends.DownBackend"
    with django_capture_on_commit_callbacks(execute=True):
        d = _mail(world, claim_now=True)
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("retrying", 1)
    assert d.last_error.startswith("SMTPConnectError") and "service not available" in d.last_error
    while d.status == "retrying":
        assert services.sweep(now=d.due_at + timedelta(seconds=1)) == 1
        d.refresh_from_db()
    assert (d.status, d.attempts) == ("gave_up", conf.MAX_ATTEMPTS)
    assert d.recipients == ["dana@agency-a.test"] and d.payload["subject"] == "Something happened"
    assert [ok for _, ok, _ in _log(d)] == [False] * conf.MAX_ATTEMPTS
    # The SMTP server is back: staff bring it forward and it goes out.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.retry_now(actor=world.alice, organisation=world.consortium, delivery_id=d.pk)
    assert services.attempt(delivery_id=d.pk).status == "delivered"
    [sent] = mail.outbox
    assert sent.to == ["dana@agency-a.test"] and sent.subject == "Something happened"
    assert AuditEvent.objects.filter(action="outbox.delivery_retry_requested", object_id=str(d.pk)).exists()


def test_a_row_left_sending_past_its_lease_is_sent_again(world, endpoints, receiver):
    # Written claimed, and the process died before its send (no commit callback ran here).
    d = _hook(world, endpoints, receiver.url, claim_now=True)
    assert (d.status, d.attempts) == ("sending", 1)
    assert services.sweep() == 0  # its lease is running
    assert services.sweep(now=timezone.now() + timedelta(seconds=conf.LEASE_SECONDS + 1)) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert len(receiver.received) == 1 and receiver.received[0][0]["webhook-id"] == d.msg_id


def test_a_late_outcome_does_not_undo_a_newer_attempt(world, endpoints, receiver):
    d = _hook(world, endpoints, receiver.url, claim_now=True)
    stale = services._message(d, endpoints.by_id[1])
    assert services.sweep(now=timezone.now() + timedelta(seconds=conf.LEASE_SECONDS + 1)) == 1  # re-sent, delivered
    services.record([_failed(stale)])  # the first send's answer arrives after all
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 2)
    assert _log(d) == [(1, False, 500), (2, True, 204)]  # both attempts are in the log


def _failed(message):
    from robotrace.outbox.transports import Outcome

    return Outcome(message.delivery_id, message.number, False, timezone.now(), 500, "HTTP 500")


def test_a_removed_endpoint_gives_the_delivery_up(world, endpoints, receiver):
    d = _hook(world, endpoints, receiver.url)
    del endpoints.by_id[1]
    assert services.sweep() == 1
    d.refresh_from_db()
    assert (d.status, d.last_error, d.attempts) == ("gave_up", "endpoint removed or disabled", 1)
    assert receiver.received == []


def test_forgetting_an_endpoint_gives_up_what_waits_for_it(world, endpoints, receiver):
    waiting = _hook(world, endpoints, receiver.url)
    assert services.forget_endpoint(endpoint_kind=KIND, endpoint_id=1, reason="endpoint deleted") == 1
    waiting.refresh_from_db()
    assert (waiting.status, waiting.last_error, waiting.endpoint_id, waiting.due_at) == ("gave_up", "endpoint deleted", None, None)


def test_retries_ask_for_the_current_address_and_secret(world, endpoints, receiver):
    from robotrace.conftest import Receiver

    old = Receiver(status=500)
    try:
        d = _hook(world, endpoints, old.url)
        services.sweep()
        endpoints.add(1, receiver.url)  # moved, with a new secret
        d.refresh_from_db()
        assert services.sweep(now=d.due_at + timedelta(seconds=1)) == 1
        d.refresh_from_db()
        assert (d.status, d.url) == ("delivered", receiver.url)
        headers, body = receiver.received[0]
        assert verify(endpoints.by_id[1].secret, headers, body)
    finally:
        old.close()


def test_the_relay_sends_from_its_pool_and_writes_outcomes_in_one_batch(world, endpoints, receiver, monkeypatch, django_capture_on_commit_callbacks):
    """With relay threads, sending happens on the pool and the flusher writes every outcome
    in one transaction; here the pool and the flusher are driven by hand."""
    submitted: list[tuple] = []

    class Pool:
        def submit(self, fn, *args):
            submitted.append((fn, *args))

    monkeypatch.setattr(conf, "RELAY_THREADS", 2)
    monkeypatch.setattr(relay, "pool", lambda: Pool())
    monkeypatch.setattr(relay, "_ensure_flusher", lambda record: None)
    with django_capture_on_commit_callbacks(execute=True):
        first = _hook(world, endpoints, receiver.url, claim_now=True)
        second = _mail(world, claim_now=True)
    assert len(submitted) == 2 and receiver.received == []
    for fn, *args in submitted:
        fn(*args)
    assert len(receiver.received) == 1 and len(mail.outbox) == 1
    assert relay.flush(services.record) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("delivered", "delivered")
    assert relay.flush(services.record) == 0

