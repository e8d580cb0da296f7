"""End-to-end: a provider's admin registers the webhook for its hop requests in the browser,
copies the secret from the one page that shows it, and sends a test message."""

from __future__ import annotations

import os
from typing import Any

import pytest

from robotrace.tests.e2e.browser_checks import watch_console

pytestmark = pytest.mark.e2e


def test_a_provider_admin_registers_a_hop_webhook_and_sees_the_secret_once(e2e_world: Any, browser_page: Any, login_as: Any) -> None:
    from robotrace.core.webhooks import verify
    from robotrace.tracebacks.tests.factories import make_net
    from robotrace.tracebacks.tests.test_webhooks import Receiver

    make_net(e2e_world)
    receiver = Receiver()
    try:
        page = login_as(e2e_world.pat.email)
        problems = watch_console(page)
        page.click("nav.mainnav >> text=Hop webhook")
        assert "No webhook registered" in page.inner_text("main")
        page.fill("#wh-url", receiver.url)
        page.click("text=Register webhook")
        page.wait_for_url("**/providers/webhook/set/")
        secret = page.inner_text("p.mono").strip()
        assert secret.startswith("whsec_")
        shots = os.environ.get("ROBOTRACE_E2E_SCREENSHOTS")
        if shots:  # for looking at the pages by hand
            page.screenshot(path=f"{shots}/hop-webhook-secret.png", full_page=True)
        page.click("text=Done")
        assert secret not in page.content() and receiver.url in page.inner_text("main")
        page.click("text=Send test")
        assert "Test message delivered" in page.inner_text("main")
        if shots:
            page.screenshot(path=f"{shots}/hop-webhook.png", full_page=True)
        [(headers, body)] = receiver.received
        assert verify(secret, headers, body)
        assert problems == []
    finally:
        receiver.close()
