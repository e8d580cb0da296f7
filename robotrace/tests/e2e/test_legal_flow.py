"""End-to-end (issue 6 demo): an agency files a subpoena online, the consortium accepts it and
assembles a production, the agency downloads it after a step-up sign-in and checks the
manifest; an evidence package is built for the campaign and downloaded; the agency sees
an alert for its state."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from robotrace.tests.e2e.browser_checks import watch_console
from robotrace.tests.e2e.conftest import assert_page_ok

pytestmark = pytest.mark.e2e


def make_pdf(path: Path, case_number: str) -> Path:
    """A small valid one-page PDF, drawn with reportlab like a scanned subpoena would be."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=letter)
    c.drawString(72, 720, "SUBPOENA DUCES TECUM")
    c.drawString(72, 700, f"Case {case_number} - records for +1 919 555 0142")
    c.showPage()
    c.save()
    return path


def switch_to(page: Any, login_as: Any, user: Any) -> Any:
    page.context.clear_cookies()
    return login_as(user.email)


def download(page: Any, url: str, settings: Any, password: str) -> bytes:
    """Open a download link that needs a fresh sign-in: the step-up page asks for the
    password again and then resumes the download."""
    from robotrace.legal.tests.conftest import PASSWORD

    # Age the sign-in out of the window, so the step-up page is really exercised.
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    page.goto(url)
    assert "/accounts/reauthenticate/" in page.url, f"no step-up asked for {url}: {page.url}"
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    page.fill("input[name=password]", password or PASSWORD)
    with page.expect_download() as info:
        page.click("form button[type=submit]")
    return Path(info.value.path()).read_bytes()


def check_manifest(data: bytes) -> list[str]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    manifest_name = next(n for n in zf.namelist() if n.endswith("MANIFEST.sha256"))
    folder = manifest_name.rsplit("/", 1)[0] + "/" if "/" in manifest_name else ""
    listed: dict[str, str] = {}
    for line in zf.read(manifest_name).decode().splitlines():
        if line.strip():
            digest, name = line.split(None, 1)
            listed[name.strip().lstrip("*")] = digest
    assert listed, "the manifest is empty"
    for name, digest in listed.items():
        assert hashlib.sha256(zf.read(folder + name)).hexdigest() == digest, f"{name} does not match its manifest line"
    return sorted(listed)


def test_it_takes_a_subpoena_from_filing_to_download(e2e_world: Any, browser_page: Any, login_as: Any, settings: Any,
                                                     tmp_path: Path) -> None:
    from robotrace.conftest import PASSWORD
    from robotrace.legal.models import LegalRequest
    from robotrace.legal.tests.conftest import make_chain

    w = e2e_world
    chain = make_chain(w)
    page = browser_page
    problems = watch_console(page)

    # 1. The agency files a subpoena with its signed PDF and two targets.
    login_as(w.dana.email)
    assert_page_ok(page, page.goto("/legal/new/"), "new request")
    today = timezone.localdate()
    page.select_option("#id_type", "subpoena")
    page.fill("#id_issuing_authority", "Office of the Attorney General")
    page.fill("#id_legal_basis", "N.C. Gen. Stat. 75-10")
    page.fill("#id_case_number", "CP-E2E-6")
    page.fill("#id_date_signed", (today - timedelta(days=1)).isoformat())
    page.fill("#id_due_date", (today + timedelta(days=14)).isoformat())
    page.fill("#id_targets", f"(919) 555-0142\n{chain.campaign.ref}")
    page.set_input_files("#id_document", str(make_pdf(tmp_path / "subpoena.pdf", "CP-E2E-6")))
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/legal/requests/*/")
    assert "Filed" in page.inner_text("main") and "SHA-256" in page.inner_text("main")
    req = LegalRequest.objects.for_org(w.agency_a).get(case_number="CP-E2E-6")
    assert req.targets.count() == 2 and req.documents.count() == 1

    # 2. Consortium staff find it in the queue, accept it and assemble a production.
    switch_to(page, login_as, w.alice)
    assert_page_ok(page, page.goto("/legal/"), "queue")
    page.click(f"a:has-text('{req.ref}')")
    page.wait_for_url(f"**/legal/requests/{req.pk}/")
    for target in req.targets.all():
        page.select_option(f"select[name=target_{target.pk}]", "produce")
    page.select_option("select[name=decision]", "accept")
    page.click("text=Record decision")
    page.wait_for_load_state()
    req.refresh_from_db()
    assert req.status == "accepted", req.status
    page.click("text=Assemble production")
    page.wait_for_load_state()
    prod = req.productions.get()
    assert prod.ref in page.inner_text("main")

    # 3. The agency downloads the production after signing in again; the manifest matches.
    switch_to(page, login_as, w.dana)
    assert_page_ok(page, page.goto(f"/legal/productions/{prod.pk}/"), "production")
    data = download(page, f"/legal/productions/{prod.pk}/download/", settings, PASSWORD)
    assert hashlib.sha256(data).hexdigest() == prod.sha256
    assert check_manifest(data)

    # 4. Consortium staff build an evidence package for the campaign, produced to the agency.
    switch_to(page, login_as, w.alice)
    assert_page_ok(page, page.goto(f"/legal/evidence/new/?campaign={chain.campaign.pk}"), "new evidence package")
    page.select_option("#id_campaign", str(chain.campaign.pk))
    page.select_option("#id_produced_to", str(w.agency_a.pk))
    page.click("text=Build package")
    page.wait_for_url("**/legal/evidence/*/")
    # Huey runs immediately in tests, so the package is finished by the time the page shows.
    page.reload()
    assert "Download zip" in page.inner_text("main")
    pkg_url = page.url

    # 5. The agency downloads the package and checks its manifest.
    switch_to(page, login_as, w.dana)
    assert_page_ok(page, page.goto(pkg_url), "evidence package")
    names = check_manifest(download(page, pkg_url.rstrip("/") + "/download/", settings, PASSWORD))
    assert "declaration_exhibit.pdf" in names and "exhibit_a_tracebacks.csv" in names

    # 6. The agency sees an alert for its state once the campaign's event is matched.
    from robotrace.alerts import services as alerts
    from robotrace.alerts import tasks as alert_tasks
    from robotrace.alerts.tests.conftest import make_event

    alerts.create_subscription(actor=w.dana, organisation=w.agency_a, data={"name": "NC robocalls", "states": ["NC"], "min_reports": 3})
    alert_tasks.process_campaign_event(make_event(chain.campaign).pk)
    assert_page_ok(page, page.goto("/alerts/"), "alerts")
    assert chain.campaign.name in page.inner_text("main")
    from robotrace.alerts.models import Alert

    alert = Alert.objects.for_org(w.agency_a).get()
    assert_page_ok(page, page.goto(f"/alerts/{alert.pk}/"), "alert detail")
    assert "NC" in page.inner_text("main")
    # From the alert to the campaign's current data, within the agency's jurisdiction.
    with page.expect_navigation() as nav:
        page.click("text=Open the campaign (current data)")
    assert_page_ok(page, nav.value, "campaign seen by the agency")
    assert chain.campaign.name in page.inner_text("main")
    assert problems == [], problems
