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
