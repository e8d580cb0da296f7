from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from robotrace.core import webhooks


def test_our_signatures_verify_with_the_reference_library():
    secret = webhooks.new_secret()
    body = b'{"type":"hop.requested","id":"1"}'
    headers = webhooks.headers_for(secret, body)
    Webhook(secret).verify(body, headers)  # raises if they disagree
    assert webhooks.verify(secret, headers, body) == headers["webhook-id"]


def test_it_rejects_a_tampered_body():
    secret = webhooks.new_secret()
    headers = webhooks.headers_for(secret, b"{}")
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(secret, headers, b'{"x":1}')


def test_it_rejects_a_stale_or_future_timestamp():
    secret = webhooks.new_secret()
    headers = webhooks.headers_for(secret, b"{}", timestamp=1_000_000)
    with pytest.raises(webhooks.WebhookVerificationError, match="window"):
        webhooks.verify(secret, headers, b"{}", now=1_000_000 + 301)
    assert webhooks.verify(secret, headers, b"{}", now=1_000_000 + 299)


def test_the_sender_refuses_a_host_that_resolves_to_a_private_address(monkeypatch) -> None:
    """Checked when an address is registered and again before the first POST to its host:
    DNS can change in between (no SSRF into our own network)."""
    from robotrace.core import webhooks

    monkeypatch.setattr(webhooks, "_SENDER", None)
    monkeypatch.setattr("socket.getaddrinfo", lambda host, port, *a, **k: [(2, 1, 6, "", ("10.0.0.7", 0))])
    code, error = webhooks.post_signed("https://hooks.example.net/h", b"{}", webhooks.new_secret(), msg_id="msg_1", timeout=5,
                                       allow_insecure=False, user_agent="test")  # fmt: skip
    assert code is None and "non-public address" in error
