"""End-to-end (issues 4 and 8): a consortium analyst works a campaign detected from simulated
reports (charts drawn, renamed, confirmed illegal with a legal basis), reads the trends and
the ecosystem graph, then the call-authentication overview and one report's verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from robotrace.tests.e2e.browser_checks import watch_console
from robotrace.tests.e2e.conftest import assert_page_ok

pytestmark = pytest.mark.e2e


def drawn(page: Any, canvas_id: str) -> None:
    """Chart.js owns the canvas and it has a real size (not squashed to nothing)."""
    page.wait_for_function(
        "id => { const c = document.getElementById(id); return c && window.Chart && Chart.getChart(c) && c.clientWidth > 100 && c.clientHeight > 100; }",
        arg=canvas_id,
    )


@pytest.fixture
def detected(e2e_world: Any) -> Iterator[list[Any]]:
    """Simulated reports of the last fortnight, clustered by the campaign engine."""
    from robotrace.campaigns import store
    from robotrace.campaigns.models import Campaign
    from robotrace.campaigns.tests.helpers import store_reports
    from robotrace.simulator.robocalls import generate

    store.reset_engine()
    # Relative to now, so "last 7 days" figures and charts never fall on an empty window.
    start = timezone.now() - dt.timedelta(days=14)
    store_reports(e2e_world.reporter_a, list(generate(300, seed=11, start=start)))
    store.catch_up()
    yield list(Campaign.objects.unscoped(reason="test").order_by("-report_count"))
    store.reset_engine()


def test_it_lets_an_analyst_work_a_campaign(e2e_world: Any, detected: list[Any], browser_page: Any, login_as: Any) -> None:
    from robotrace.campaigns.models import Campaign

    page = browser_page
    problems = watch_console(page)
    login_as(e2e_world.carol.email)

    assert_page_ok(page, page.goto("/campaigns/"), "campaign list")
    top = detected[0]
    with page.expect_navigation() as nav:
        page.click(f"main a:has-text('{top.ref}')")
    assert_page_ok(page, nav.value, "campaign detail")
    assert page.url.endswith(f"/campaigns/{top.pk}/")
    drawn(page, "volume")
    drawn(page, "states")

    page.fill("form[action$='/rename/'] input[name=name]", "Warranty final notice (E2E)")
    page.click("form[action$='/rename/'] button")
    page.wait_for_load_state()
    assert "Campaign renamed." in page.inner_text("main")
    page.check("form[action$='/confirm/'] input[name=legal_basis] >> nth=0")
    page.fill("form[action$='/confirm/'] input[name=reason]", "Prerecorded call without consent")
    page.click("form[action$='/confirm/'] button")
    page.wait_for_load_state()
    assert "confirmed illegal" in page.inner_text("main")
    c = Campaign.objects.unscoped(reason="test").get(pk=top.pk)
    assert c.name == "Warranty final notice (E2E)" and c.status == "confirmed" and c.legal_basis
    drawn(page, "volume")

    assert_page_ok(page, page.goto("/campaigns/trends/"), "trends")
    drawn(page, "cats")
    assert_page_ok(page, page.goto("/campaigns/ecosystem/"), "ecosystem")
    page.wait_for_selector("#graph canvas")
    page.wait_for_function("() => document.getElementById('summary').textContent.trim().length > 0")
    assert problems == [], problems


def test_it_shows_the_call_authentication_overview_and_a_verdict(e2e_world: Any, browser_page: Any, login_as: Any,
                                                                    settings: Any, tmp_path: Path) -> None:
    from robotrace.shaken import runtime, services
    from robotrace.shaken.signing import sign_passport
    from robotrace.shaken.tests.helpers import provider, report

    # A private simulated PKI and certificate store for this test.
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    runtime.invalidate()
    provider("Keystone Voice", spc="KV01")
    at = timezone.now() - dt.timedelta(hours=1)
    good = report(e2e_world.reporter_a, identity=sign_passport("KV01", "12025550143", "19195550100", "A", "origid-1", int(at.timestamp())), at=at)
    bad = report(e2e_world.reporter_b, identity=sign_passport("NG02", "12025550143", "19195550100", "B", iat=int(at.timestamp()), fault="bad_signature"), at=at)
    services.verify_reports(report_ids=[good.id, bad.id])

    page = browser_page
    problems = watch_console(page)
    login_as(e2e_world.alice.email)
    assert_page_ok(page, page.goto("/shaken/"), "call authentication")
    drawn(page, "verdicts")
    drawn(page, "attest")
    assert "Keystone Voice" in page.inner_text("main")
    with page.expect_navigation() as nav:
        page.click(f"main a[href='/shaken/report/{bad.id}/']")
    assert_page_ok(page, nav.value, "verdict detail")
    text = page.inner_text("main")
    assert "ES256 signature" in text and "Chain to a trust anchor" in text
    runtime.invalidate()
    assert problems == [], problems
