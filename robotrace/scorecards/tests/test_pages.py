from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider
from robotrace.providers.tests import factories as f
from robotrace.scorecards import criteria
from robotrace.scorecards.conf import Thresholds
from robotrace.scorecards.models import ProviderFlag
from robotrace.scorecards.scorecards import compute_all


@pytest.fixture
def scored(world):
    """Provider A never answers three notices (flagged); provider B answers on time."""
    a = Provider.objects.get(organisation=world.provider_a)
    b = Provider.objects.get(organisation=world.provider_b)
    c = f.campaign("Vehicle warranty robocalls")
    at = timezone.now() - timedelta(days=5)
    f.unanswered(a, 3, at=at, campaign=c)
    tb = f.traceback(at=at, campaign=c)
    f.hop(tb, b, received_at=at, answer_after=timedelta(hours=2), response="upstream")
    compute_all()
    criteria.run(thresholds=Thresholds())
    return {"a": a, "b": b, "campaign": c}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_it_shows_a_provider_its_own_scorecard_and_never_another(world, as_user, scored):
    pat = as_user(world.pat)
    resp = pat.get(reverse("providers:my_scorecard"))
    assert resp.status_code == 200 and b"Your scorecard" in resp.content and b"Non-responsive" in resp.content
    assert pat.get(reverse("providers:scorecard", args=[scored["a"].pk])).status_code == 200
    assert pat.get(reverse("providers:scorecard", args=[scored["b"].pk])).status_code == 404
    assert pat.get(reverse("providers:scorecard_csv", args=[scored["b"].pk])).status_code == 404
    assert pat.get(reverse("providers:notice_letter", args=[scored["b"].pk])).status_code == 404
    assert as_user(world.quinn).get(reverse("providers:scorecard", args=[scored["a"].pk])).status_code == 404
    for user in (world.dana, world.rita):
        assert as_user(user).get(reverse("providers:scorecard", args=[scored["a"].pk])).status_code == 403
        assert as_user(user).get(reverse("providers:my_scorecard")).status_code == 403
    assert as_user(world.carol).get(reverse("providers:scorecard", args=[scored["b"].pk])).status_code == 200


def test_it_shows_the_noncooperative_list_to_consortium_and_agencies(world, as_user, scored):
    url = reverse("providers:noncooperative")
    for user in (world.carol, world.dana, world.omar):
        resp = as_user(user).get(url)
        assert resp.status_code == 200
        assert b"Provider Alpha" in resp.content and b"Provider Bravo" not in resp.content
        assert b"TB-" in resp.content
    for user in (world.pat, world.rita):
        assert as_user(user).get(url).status_code == 403


def test_it_exports_the_period_report_as_csv_and_pdf(world, as_user, scored):
    c = as_user(world.carol)
    resp = c.get(reverse("providers:report", args=["csv"]), {"period": "all"})
    assert resp.status_code == 200 and resp["Content-Type"] == "text/csv"
    lines = resp.content.decode().splitlines()
    assert lines[0].startswith("Provider id,Provider,FRN,Country,RMD status,Notices,Answered")
    alpha = next(line for line in lines if "Provider Alpha" in line).split(",")
    assert alpha[5:7] == ["3", "0"] and "Non-responsive" in lines[lines.index(",".join(alpha))]
    assert any("Provider Bravo" in line for line in lines)
    month = timezone.now().strftime("%Y-%m")
    resp = c.get(reverse("providers:report", args=["pdf"]), {"period": month})
    text = pdf_text(resp.content)
    assert resp.status_code == 200 and month in text and "Provider Alpha" in text
    assert c.get(reverse("providers:report", args=["csv"]), {"period": "2026-13"}).status_code == 400
    assert c.get(reverse("providers:report", args=["xlsx"])).status_code == 404
    # agencies get the flagged providers only
    agency_csv = as_user(world.dana).get(reverse("providers:report", args=["csv"])).content.decode()
    assert "Provider Alpha" in agency_csv and "Provider Bravo" not in agency_csv
    for user in (world.pat, world.rita):
        assert as_user(user).get(reverse("providers:report", args=["csv"])).status_code == 403


def test_it_produces_the_notice_history_letter(world, as_user, scored):
    resp = as_user(world.carol).get(reverse("providers:notice_letter", args=[scored["a"].pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    # Table cells wrap where the campaign's id is long enough (ids differ run to run on
    # PostgreSQL), so compare with the line breaks folded into spaces.
    text = " ".join(pdf_text(resp.content).split())
    assert "Traceback notice history" in text and "Provider Alpha" in text and "3 notices" in text
    assert "Vehicle warranty robocalls" in text and "never" in text
    assert AuditEvent.objects.filter(action="provider.notice_letter_downloaded").exists()
    # agencies: flagged providers only; the provider itself: its own
    assert as_user(world.dana).get(reverse("providers:notice_letter", args=[scored["a"].pk])).status_code == 200
    assert as_user(world.dana).get(reverse("providers:notice_letter", args=[scored["b"].pk])).status_code == 404
    assert as_user(world.pat).get(reverse("providers:notice_letter", args=[scored["a"].pk])).status_code == 200
    assert as_user(world.rita).get(reverse("providers:notice_letter", args=[scored["a"].pk])).status_code == 403


def test_it_exports_a_providers_scorecard_csv(world, as_user, scored):
    resp = as_user(world.pat).get(reverse("providers:scorecard_csv", args=[scored["a"].pk]))
    rows = resp.content.decode().splitlines()
    assert rows[0].startswith("Period,Provider id,Provider")
    assert any(r.startswith("all,") and ",3,0," in r for r in rows)


def test_it_files_and_resolves_disputes_through_the_pages(world, as_user, scored):
    flag = ProviderFlag.objects.for_org(world.provider_a).get(rule="non_responsive")
    url = reverse("providers:dispute_new", args=[flag.pk])
    assert as_user(world.quinn).post(url, {"reason": "Not ours but trying anyway"}).status_code == 404
    assert as_user(world.dana).post(url, {"reason": "Agencies cannot dispute"}).status_code == 403
    assert as_user(world.pat).post(url, {"reason": "We answered by e-mail, see ticket 42."}).status_code == 302
    dispute = flag.disputes.get()
    page = as_user(world.alice).get(reverse("providers:noncooperative"))
    assert b"ticket 42" in page.content
    resolve = reverse("providers:dispute_resolve", args=[dispute.pk])
    assert as_user(world.pat).post(resolve, {"decision": "upheld", "resolution": "mine"}).status_code == 403
    assert as_user(world.dana).post(resolve, {"decision": "upheld", "resolution": "mine"}).status_code == 403
    assert as_user(world.alice).post(resolve, {"decision": "upheld", "resolution": "Found the e-mails."}).status_code == 302
    flag.refresh_from_db()
    assert not flag.active


def test_it_recomputes_on_demand_for_staff_only(world, as_user, scored):
    assert as_user(world.alice).post(reverse("providers:refresh")).status_code == 302
    for user in (world.pat, world.dana):
        assert as_user(user).post(reverse("providers:refresh")).status_code == 403


def render_panel(user, fn, template) -> str:
    # Rendered directly: the home page also carries other apps' panels, tested by them.
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    ctx = fn(request)
    return "" if ctx is None else render_to_string(template, {"ctx": ctx}, request=request)


def test_it_puts_panels_on_home_pages(world, scored):
    from robotrace.core.navigation import _PANELS
    from robotrace.scorecards import panels

    mine = {p.template: p.kinds for p in _PANELS if p.template.startswith("providers/")}
    assert mine == {"providers/panels/newly_flagged.html": ("consortium", "agency"), "providers/panels/my_scorecard.html": ("provider",)}
    assert "Provider Alpha" in render_panel(world.alice, panels.newly_flagged, "providers/panels/newly_flagged.html")
    assert "Provider Alpha" in render_panel(world.dana, panels.newly_flagged, "providers/panels/newly_flagged.html")
    home = render_panel(world.pat, panels.my_scorecard, "providers/panels/my_scorecard.html")
    assert "Your traceback scorecard" in home and "Listed as a non-cooperative provider" in home
    assert render_panel(world.rita, panels.my_scorecard, "providers/panels/my_scorecard.html") == ""


def test_the_registry_pages_show_the_figures_and_flags(world, as_user, scored):
    c = as_user(world.carol)
    detail = c.get(reverse("providers:detail", args=[scored["a"].pk])).content
    assert b"Non-cooperative since" in detail and b"No scorecard yet" not in detail
    assert b"Non-cooperative since" not in c.get(reverse("providers:detail", args=[scored["b"].pk])).content
    assert b'<span class="badge danger">flagged</span>' in c.get(reverse("providers:list"), {"q": "Alpha"}).content
    assert b'<span class="badge danger">flagged</span>' not in c.get(reverse("providers:list"), {"q": "Bravo"}).content


def test_a_merge_drops_the_source_records_scorecards_and_flags(world, scored):
    from robotrace.providers import services as registry
    from robotrace.scorecards.models import ProviderScorecard

    pending = f.provider("Pending Upstream", status="pending")
    f.unanswered(pending, 3, at=timezone.now() - timedelta(days=4))
    compute_all()
    criteria.run(thresholds=Thresholds())
    assert ProviderFlag.objects.unscoped(reason="test").filter(provider=pending).exists()
    registry.merge_providers(actor=world.alice, source=pending, target=scored["b"])
    assert not ProviderFlag.objects.unscoped(reason="test").filter(provider=pending).exists()
    assert not ProviderScorecard.objects.unscoped(reason="test").filter(provider=pending).exists()


def test_a_providers_name_cannot_become_a_spreadsheet_formula(world, as_user, scored):
    provider = scored["a"]
    provider.name = '=HYPERLINK("http://evil.example","Open")'
    provider.save()
    resp = as_user(world.pat).get(reverse("providers:scorecard_csv", args=[provider.pk]))
    import csv
    import io

    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + provider.name}
