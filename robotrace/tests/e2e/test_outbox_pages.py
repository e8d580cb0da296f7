"""The deliveries pages in Chromium: staff see the backlog and attempt log, a provider admin
their own organisation's; the pages fit a 1366 px screen. (At 390 px the site-wide
navigation does not collapse yet and every page scrolls sideways: issue #18 item 5.)

Set ROBOTRACE_SCREENSHOTS=DIR to keep the screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from robotrace.outbox import services

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("ROBOTRACE_SCREENSHOTS", "")


def _deliveries(world: Any) -> None:
    services.email(topic="hop.requested", organisation_id=world.provider_a.id, to=["pat@provider-a.test"],
                   subject="New traceback request TB-0001", body="link")
    services.email(topic="hop.escalation", organisation_id=None, to=["alice@consortium.test"],
                   subject="Escalation: Provider Alpha is overdue on TB-0001", body="link")
    services.email(topic="legal.notice", organisation_id=world.agency_a.id, to=["dana@agency-a.test"],
                   subject="Your subpoena was accepted", body="link")


def _fits(page: Any, width: int, name: str) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    page.wait_for_load_state()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} is {scroll} px wide at {width} px"
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)


def test_staff_see_every_delivery_on_a_screen_and_a_phone(e2e_world, browser_page, login_as):
    _deliveries(e2e_world)
    page = login_as(e2e_world.alice.email)
    page.goto("/")
    page.click("nav >> text=Deliveries")
    page.wait_for_load_state()
    assert "/deliveries/" in page.url
    text = page.inner_text("main")
    assert "hop.escalation" in text and "legal.notice" in text and "hop.requested" in text
    _fits(page, 1366, "deliveries-staff")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("main a[href^='/deliveries/']:has-text('#')")
    page.wait_for_load_state()
    assert "attempt" in page.inner_text("main").lower() and "Delivered" in page.inner_text("main")
    _fits(page, 1366, "delivery-detail")


def test_a_provider_admin_sees_only_their_own(e2e_world, browser_page, login_as):
    _deliveries(e2e_world)
    page = login_as(e2e_world.pat.email)
    page.goto("/deliveries/")
    text = page.inner_text("main")
    assert "hop.requested" in text and "hop.escalation" not in text and "legal.notice" not in text
    _fits(page, 1366, "deliveries-provider")
