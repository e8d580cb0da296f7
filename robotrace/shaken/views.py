from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from robotrace.accounts.queries import organisation_of
from robotrace.core.access import require_kind
from robotrace.ingest.queries import all_reports
from robotrace.shaken import queries
from robotrace.shaken.models import ShakenVerification, SpcDirectory
from robotrace.shaken.verifier import LAYERS

LAYER_LABELS = {
    "header": "Identity header (RFC 8224)",
    "passport": "PASSporT and claims (RFC 8225/8588)",
    "freshness": "Freshness of iat at call time",
    "certificate": "Certificate (x5u, validity, SHAKEN profile)",
    "chain": "Chain to a trust anchor",
    "signature": "ES256 signature",
    "call_match": "orig/dest against the call",
}


@require_kind("consortium")
def overview(request: HttpRequest) -> HttpResponse:
    org = organisation_of(request)
    f = {k: request.GET.get(k, "").strip()[:80] for k in ("spc", "provider", "outcome", "attest", "q")}
    data = queries.overview(org)
    results = queries.search(org, **f).order_by("-call_started_at")
    page = Paginator(results, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "shaken/overview.html",
        {
            "o": data,
            "f": f,
            "page": page,
            "outcomes": ShakenVerification.Outcome.choices,
            # Rendered with json_script and drawn by static/js/charts.js: provider names come
            # from the Robocall Mitigation Database, where providers write their own.
            "outcome_chart": data["outcome_chart"],
            "attest_chart": data["attest_chart"],
            "signer_chart": {
                "labels": [f"{t['signer_spc']} {t['signer_provider__name'] or ''}".strip() for t in data["top_signers"]],
                "a": [t["a"] for t in data["top_signers"]],
                "b": [t["b"] for t in data["top_signers"]],
                "c": [t["c"] for t in data["top_signers"]],
                "failed": [t["n_failed"] for t in data["top_signers"]],
            },
            "searching": any(f.values()),
        },
    )


@require_kind("consortium")
def detail(request: HttpRequest, report_id: int) -> HttpResponse:
    org = organisation_of(request)
    v = queries.for_report(org, report_id)
    if v is None:
        raise Http404("no verification for this report")
    layers = [{"name": n, "label": LAYER_LABELS[n], **v.layers.get(n, {"status": "skipped", "reason": ""})} for n in LAYERS]
    return render(request, "shaken/detail.html", {"v": v, "layers": layers, "links": _related_links(v)})


def _related_links(v: ShakenVerification) -> dict[str, str]:
    """Links from a verdict to the call report, its campaign and the signer's provider page
    (pages of other apps: left out when an app or its page is absent)."""
    from django.urls import NoReverseMatch, reverse

    def url(name: str, *args: object) -> str:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return ""

    links = {"report": url("ingest:report", v.report_id)}
    if v.signer_provider_id:
        links["signer"] = url("providers:detail", v.signer_provider_id)
    # Narrowed by call time so PostgreSQL reads one monthly partition.
    campaign_id = (all_reports(reason="consortium verdict page: the report's campaign")
                   .filter(pk=v.report_id, call_started_at=v.call_started_at).values_list("campaign_id", flat=True).first())
    if campaign_id:
        links["campaign"] = url("campaigns:detail", campaign_id)
        links["campaign_ref"] = f"C-{campaign_id}"
    return links


@require_kind("consortium")
def directory(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:40]
    qs = SpcDirectory.objects.select_related("provider")
    if q:
        qs = qs.filter(spc__icontains=q.upper()) | qs.filter(org_names__icontains=q)
    page = Paginator(qs.order_by("spc"), 100).get_page(request.GET.get("page"))
    return render(request, "shaken/directory.html", {"page": page, "q": q})
