"""End-to-end: sign in through the real pages and walk every organisation kind's pages."""

from __future__ import annotations

import pytest

from robotrace.tests.e2e.conftest import assert_page_ok

pytestmark = pytest.mark.e2e

PERSONAS = [("alice", "consortium"), ("carol", "consortium"), ("pat", "provider"), ("rita", "reporter"), ("dana", "agency")]


@pytest.mark.parametrize("persona, kind", PERSONAS)
def test_it_signs_in_and_walks_the_main_pages(e2e_world, browser_page, login_as, persona, kind):
    user = getattr(e2e_world, persona)
    page = login_as(user.email)
    response = page.goto("/")
    assert_page_ok(page, response, f"{persona}: home")
    assert user.organisation.name in page.inner_text("header")
    links = page.eval_on_selector_all("nav.mainnav a", "els => els.map(e => [e.textContent.trim(), e.getAttribute('href')])")
    assert links, "the navigation is empty"
    assert links[0][1] == "/"
    for label, href in links:
        response = page.goto(href)
        assert_page_ok(page, response, f"{persona} ({kind}): {label} {href}")


def test_the_banner_must_be_acknowledged(e2e_world, browser_page):
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("#id_login", e2e_world.pat.email)
    page.fill("#id_password", "long-passphrase-Heron-seventy7")
    page.click("form.auth-form button[type=submit]")
    # the browser refuses to submit without the required checkbox
    assert "/accounts/login/" in page.url
    assert page.eval_on_selector("#id_acknowledge_banner", "el => el.validity.valueMissing")


def test_a_wrong_code_keeps_an_agency_user_out(e2e_world, browser_page):
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("#id_login", e2e_world.dana.email)
    page.fill("#id_password", "long-passphrase-Heron-seventy7")
    page.check("#id_acknowledge_banner")
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", "000000")
    page.click("form button[type=submit]")
    assert "/accounts/2fa/authenticate/" in page.url
    # still half-way: any page sends them back to the sign-in steps, never to home
    assert "/accounts/" in page.goto("/").url


def test_an_agency_request_is_approved_by_the_consortium(e2e_world, browser_page, login_as):
    from robotrace.accounts.models import User

    page = browser_page
    page.goto("/join/agency")
    page.fill("#id_first_name", "Nia")
    page.fill("#id_last_name", "Reyes")
    page.fill("#id_email", "nia@ga-ag.example")
    page.fill("#id_title", "Investigator")
    page.fill("#id_phone", "404-555-0142")
    page.select_option("#id_agency", str(e2e_world.agency_a.pk))
    page.fill("#id_password1", "gravel orchid kettle umbra")
    page.fill("#id_password2", "gravel orchid kettle umbra")
    page.check("#id_attest")
    page.click("form.card button")
    page.wait_for_url("**/join/agency/sent")
    assert User.objects.get(email="nia@ga-ag.example").approval == "pending"

    login_as(e2e_world.alice.email)
    page.goto("/admin/approvals/")
    page.click("text=Verify and decide")
    page.check("input[name=decision][value=approve]")
    page.select_option("#id_method", "callback")
    page.fill("#id_notes", "Called the agency's main number; supervisor confirmed.")
    page.click("text=Record decision")
    page.wait_for_url("**/admin/approvals/")
    assert "was approved" in page.inner_text("main")
    assert User.objects.get(email="nia@ga-ag.example").approval == "approved"


def test_an_org_admin_issues_a_key_and_sees_the_secret_once(e2e_world, browser_page, login_as):
    page = login_as(e2e_world.rita.email)
    page.goto("/org/api-keys/")
    page.fill("#id_name", "CDR exporter")
    page.check("input[name=scopes][value=ingest]")
    page.click("text=Issue key")
    secret = page.inner_text("#api-key-secret").strip()
    assert secret.startswith("rt_ingest_")
    page.goto("/org/api-keys/")
    assert secret not in page.content()
    assert "CDR exporter" in page.inner_text("main")
