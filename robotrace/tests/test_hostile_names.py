"""Escaping, proven with hostile names (#20 finding 2).

Providers write their own names into the Robocall Mitigation Database, robocallers choose
their caller names, transcripts are what the call said, certificate subjects come from
whoever made the certificate. Here every one of those fields holds markup that would run if
any page, chart, PDF or CSV let it through as code; each page is then read as HTML and must
hold it only as text."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from html.parser import HTMLParser
from typing import Any

import pytest
from django.utils import timezone

from robotrace.legal.tests.conftest import make_chain

BREAKOUT = "</script><img src=x onerror=alert(1)>"
ATTRIBUTE = '"><svg onload=alert(1)>'
# ReportLab's Paragraph reads a little markup of its own: a name must not change a PDF's text.
PDF_MARKUP = "<font size=30>big</font>"
NAME = f"{BREAKOUT} {ATTRIBUTE} {PDF_MARKUP}"
# What a page holds when a name is printed as text: HTML-escaped, or JSON-escaped in a
# json_script element.
AS_TEXT = ("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", "\\u003C/script\\u003E\\u003Cimg src=x onerror=alert(1)\\u003E")


class _Elements(HTMLParser):
    """Every start tag, and the text of every script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def assert_inert(html: str, where: str, *, shown: bool = True) -> None:
    """The page holds no trace of the names as markup: no element or attribute they would
    create, no script that is not a file or JSON data. With `shown`, the name is on the page
    as text (so the page really printed the hostile field)."""
    for raw in (BREAKOUT, ATTRIBUTE, PDF_MARKUP, "<img src=x", "<svg"):
        assert raw not in html, f"{where}: {raw!r} is in the page as markup"
    page = _Elements()
    page.feed(html)
    for tag, attrs in page.tags:
        assert tag not in ("svg", "font"), f"{where}: a <{tag}> element came from data"
        assert not (tag == "img" and attrs.get("src") == "x"), f"{where}: an <img> came from data"
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers, f"{where}: <{tag}> has {handlers}"
    for attrs, text in page.scripts:
        if attrs.get("type") == "application/json":
            json.loads(text)
        else:
            assert attrs.get("src") and not text.strip(), f"{where}: inline script {text[:80]!r}"
    if shown:
        assert any(t in html for t in AS_TEXT), f"{where}: the hostile name is not on the page, so nothing was tested"


@pytest.fixture
def hostile(world: Any) -> Any:
    return hostile_world(world)


def hostile_world(world: Any) -> Any:
    """A campaign traced through three providers (legal's test chain), with every free-text
    field a hostile name: organisation, provider and customer names, caller names, transcripts,
    upstream names, certificate subject and issuer (legal case fields and messages are added by
    `_legal_request`)."""
    from robotrace.accounts.models import Organisation
    from robotrace.ingest.models import CallReport
    from robotrace.providers.models import Provider
    from robotrace.shaken.models import ShakenVerification
    from robotrace.tracebacks.models import Hop, Traceback

    chain = make_chain(world)
    for n, org in enumerate((world.agency_a, world.provider_b, world.reporter_a)):
        Organisation.objects.filter(pk=org.pk).update(name=f"{NAME} org {n}")
        org.refresh_from_db()
    for n, provider in enumerate(chain.providers):
        provider.name = f"{NAME} provider {n}"
        provider.save()
    campaign = chain.campaign
    campaign.name = NAME
    campaign.representative_transcript = f"{NAME} transcript"
    campaign.save()
    CallReport.objects.unscoped(reason="test").filter(pk__in=[r.pk for r in chain.reports]).update(
        transcript=f"{NAME} said", caller_name=NAME[:100], upstream_provider=f"{NAME} upstream", category=NAME[:80])
    customer = {"name": f"{NAME} customer", "account": NAME}
    Traceback.objects.unscoped(reason="test").filter(campaign=campaign).update(originating_customer=customer)
    Hop.objects.unscoped(reason="test").filter(traceback__campaign=campaign, response="originated").update(customer=customer)
    Hop.objects.unscoped(reason="test").filter(traceback__campaign=campaign).update(upstream_detail=NAME, notes=NAME)
    origin = Provider.objects.get(pk=chain.providers[2].pk)
    for n, report in enumerate(chain.reports):
        ShakenVerification.objects.create(
            report_id=report.pk, reporter=world.reporter_a, call_started_at=report.call_started_at, verified=n == 0,
            outcome="valid" if n == 0 else "invalid_signature", sip_code=200 if n == 0 else 438, reason=NAME if n else "",
            attest="A", origid=NAME[:100], cert_subject=f"CN={NAME}", cert_issuer=f"O={NAME}", signer_spc="OV03",
            signer_provider=origin, calling_number_e164=report.calling_number_e164, called_number=report.called_number,
        )
    return chain


def _get(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return response.content.decode()


def test_consortium_pages_print_hostile_names_as_text(world, hostile, as_user):
    alice = as_user(world.alice)
    c, tb, report = hostile.campaign, hostile.tracebacks[0], hostile.reports[0]
    pages = {
        "/shaken/": True,
        f"/shaken/report/{report.pk}/": True,
        "/campaigns/": True,
        f"/campaigns/{c.pk}/": True,
        "/campaigns/trends/": False,  # categories and counts only
        "/campaigns/ecosystem/": True,
        "/tracebacks/": True,
        f"/tracebacks/{tb.pk}/": True,
        "/reports/": True,
        f"/reports/{report.pk}/": True,
        "/reports/intake/": False,  # counts per upload
        "/providers/": True,
        f"/providers/{hostile.providers[2].pk}/": True,
        "/admin/": True,
        "/admin/organisations/": True,
        f"/admin/organisations/{world.agency_a.pk}/": True,
        "/audit/": False,
        "/": False,
    }
    for path, shown in pages.items():
        assert_inert(_get(alice, path), path, shown=shown)


def test_the_ecosystem_graph_carries_names_as_json_data(world, hostile, as_user):
    response = as_user(world.alice).get("/campaigns/ecosystem.json?campaigns=40")
    assert response["Content-Type"].startswith("application/json")
    labels = [e["data"].get("label", "") for e in response.json()["elements"]]
    assert any(NAME in label for label in labels)


def test_agency_and_provider_pages_print_hostile_names_as_text(world, hostile, as_user):
    from robotrace.alerts import services as alerts
    from robotrace.alerts.tests.conftest import make_event
    from robotrace.tracebacks.models import Hop, Traceback

    alerts.create_subscription(actor=world.dana, organisation=world.agency_a, data={"name": NAME[:60], "states": ["NC"], "min_reports": 1})
    [alert] = alerts.process_event(event_id=make_event(hostile.campaign).pk)
    dana = as_user(world.dana)
    for path in ("/alerts/", f"/alerts/{alert.pk}/", f"/alerts/campaigns/{hostile.campaign.pk}/", "/alerts/subscriptions/", "/"):
        assert_inert(_get(dana, path), path)

    # A provider is asked about a call whose chain so far is hostile.
    term = hostile.providers[0]
    tb = Traceback.objects.create(call_started_at=timezone.now(), calling_number="+12025550111", called_number="+19195550123",
                                  created_at=timezone.now(), campaign=hostile.campaign, status="in_progress")
    now = timezone.now()
    hop = Hop.objects.create(traceback=tb, sequence=1, provider=term, named_by=hostile.providers[2], status="requested",
                             received_at=now, clock_starts_at=now, due_at=now + timezone.timedelta(hours=24))
    pat = as_user(world.pat)
    assert_inert(_get(pat, f"/tracebacks/hops/{hop.pk}/respond/"), "respond")
    assert_inert(_get(pat, "/tracebacks/inbox/"), "inbox", shown=False)


def _legal_request(world: Any, hostile: Any) -> Any:
    from robotrace.legal import services
    from robotrace.legal.tests.conftest import file

    req = file(world, case_number=NAME[:60], issuing_authority=NAME, legal_basis=NAME,
               targets=[{"kind": "phone", "value": "+19195550142"}, {"kind": "campaign", "value": f"C-{hostile.campaign.pk}"}])
    services.post_message(actor=world.dana, organisation=world.agency_a, request=req, body=f"{NAME} message")
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="accept", note=NAME)
    return req


def test_legal_pages_print_hostile_names_as_text(world, hostile, as_user):
    req = _legal_request(world, hostile)
    for user, paths in ((world.alice, ["/legal/", f"/legal/requests/{req.pk}/", "/legal/stats/"]),
                        (world.dana, ["/legal/mine/", f"/legal/requests/{req.pk}/"])):
        client = as_user(user)
        for path in paths:
            assert_inert(_get(client, path), path, shown="stats" not in path)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages)


def _files(zip_bytes: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
    return {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}


def test_productions_keep_hostile_names_as_text_in_pdf_and_csv(world, hostile):
    from robotrace.legal import services
    from robotrace.legal.uploads import full_path

    req = _legal_request(world, hostile)
    production = services.create_production(actor=world.alice, organisation=world.consortium, request=req)
    files = _files(full_path(production.zip_path).read_bytes())
    text = _pdf_text(files["summary.pdf"])
    assert NAME in text, "the name is printed as it is, markup and all, not read as ReportLab markup"
    rows = list(csv.DictReader(io.StringIO(files["traceback_hops.csv"].decode())))
    assert {r["provider"] for r in rows} >= {p.name for p in hostile.providers}
    reports = list(csv.DictReader(io.StringIO(files["call_reports.csv"].decode())))
    assert {r["transcript"] for r in reports} == {f"{NAME} said"}


def test_evidence_packages_keep_hostile_names_as_text(world, hostile, django_capture_on_commit_callbacks):
    from robotrace.legal import services
    from robotrace.legal.uploads import full_path

    with django_capture_on_commit_callbacks(execute=True):
        package = services.start_evidence_package(actor=world.alice, organisation=world.consortium, campaign_id=hostile.campaign.pk)
    package.refresh_from_db()
    assert package.status == "done", package.error
    files = _files(full_path(package.zip_path).read_bytes())
    text = _pdf_text(files["declaration_exhibit.pdf"])
    assert f"{NAME} transcript" in text
    assert f"{NAME} provider 2" in text
    customers = list(csv.DictReader(io.StringIO(files["originating_customers.csv"].decode())))
    assert any(NAME in " ".join(row.values()) for row in customers)


def test_scorecards_keep_hostile_names_as_text(world, hostile, as_user):
    from robotrace.scorecards import criteria
    from robotrace.scorecards.conf import Thresholds
    from robotrace.scorecards.scorecards import compute_all

    compute_all()
    criteria.run(thresholds=Thresholds(), notify=False)  # the origin provider originated three illegal calls
    origin = hostile.providers[2]
    alice = as_user(world.alice)
    for path in (f"/providers/{origin.pk}/scorecard/", "/providers/noncooperative/"):
        assert_inert(_get(alice, path), path)
    letter = alice.get(f"/providers/{origin.pk}/notice-history.pdf")
    assert letter.status_code == 200
    text = _pdf_text(letter.content)
    assert f"{NAME} provider 2" in text and NAME in text.replace(f"{NAME} provider 2", "")
    report = alice.get("/providers/report.pdf", {"period": "all"})
    assert report.status_code == 200 and f"{NAME} provider 2" in _pdf_text(report.content)
    rows = list(csv.DictReader(io.StringIO(alice.get("/providers/report.csv", {"period": "all"}).content.decode())))
    assert f"{NAME} provider 2" in {r["Provider"] for r in rows}
