"""Pages of the scorecards app: a provider's scorecard (its own only), the non-cooperative
list, the period report and notice-history letter, disputes. They live under /providers/
with the registry's pages and share its URL names (robotrace/urls.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from robotrace.audit import services as audit
from robotrace.core.access import require_kind
from robotrace.core.views import redirect_back
from robotrace.providers import queries as registry
from robotrace.scorecards import exports, queries, services
from robotrace.scorecards.forms import DisputeForm, ResolveForm
from robotrace.scorecards.models import Dispute, FlagRun, Period, ProviderFlag, ProviderNotice, ProviderScorecard
from robotrace.scorecards.tasks import refresh_now

if TYPE_CHECKING:
    from robotrace.providers.models import Provider

C, P, A = "consortium", "provider", "agency"


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict") else " ".join(exc.messages)


def _provider(pk: int) -> Provider:
    provider = registry.provider(pk)
    if provider is None:
        raise Http404("no such provider")
    return provider


def _scorecard_context(request: HttpRequest, provider: Provider) -> dict[str, Any]:
    org = _org(request)
    bundle = queries.scorecard_bundle(org, provider)
    overall = bundle["overall"]
    ids: set[int] = set()
    if overall:
        ids = {*overall.originating_campaign_ids, *overall.point_of_entry_campaign_ids}
    flags = list(ProviderFlag.objects.for_org(org).filter(provider=provider).order_by("-active", "rule"))
    return {
        "provider": provider,
        **bundle,
        "chart_json": bundle["chart"],
        "campaigns": queries.campaign_names(ids),
        "flags": flags,
        "disputes": Dispute.objects.for_org(org).filter(provider=provider).select_related("flag")[:20],
        "dispute_form": DisputeForm(),
    }


@require_kind(C, P)
def provider_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    provider = _provider(pk)
    org = _org(request)
    if org.is_provider and provider.organisation_id != org.id:
        raise Http404("no such provider")  # never confirm another provider's scorecard exists
    return render(request, "providers/scorecard.html", {**_scorecard_context(request, provider), "own": org.is_provider})


@require_kind(P)
def my_scorecard(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    provider = registry.provider_for_org(org)
    if provider is None:
        raise Http404("your organisation has no registry record yet")
    notices = list(ProviderNotice.objects.for_org(org).filter(provider=provider)[:10])
    ProviderNotice.objects.for_org(org).filter(provider=provider, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "providers/scorecard.html", {**_scorecard_context(request, provider), "own": True, "notices": notices})


@require_kind(C, P)
def scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    provider = _provider(pk)
    org = _org(request)
    if org.is_provider and provider.organisation_id != org.id:
        raise Http404("no such provider")
    cards = list(queries.scorecards_for(org, provider).select_related("provider").order_by("period", "period_key"))
    rows = exports.report_rows(cards, exports.active_flag_labels([provider.id]))
    for row, card in zip(rows, cards, strict=True):
        row["period"] = card.period_key
    resp = HttpResponse(exports.to_csv(rows, leading=[("period", "Period")]), content_type="text/csv")
    resp["Content-Disposition"] = f'attachment; filename="scorecard-{provider.pk}.csv"'
    return resp


@require_kind(C, A)
def noncooperative(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    entries = queries.flagged_providers(org)
    for e in entries:
        e["trend_json"] = json.dumps(e["trend"])
        for f in e["flags"]:
            f.refs = queries.traceback_refs(f.evidence_ids[:40])
    runs = list(FlagRun.objects.order_by("-at")[:90])[::-1]
    run_chart = {"labels": [r.at.strftime("%Y-%m-%d %H:%M") for r in runs], "providers": [r.flagged_providers for r in runs], "flags": [r.active_flags for r in runs]}
    ctx: dict[str, Any] = {
        "entries": entries,
        "run_chart": run_chart,
        "last_run": runs[-1] if runs else None,
        "rules": ProviderFlag.Rule.choices,
        "periods": _period_choices(),
    }
    if org.is_consortium:
        ctx["open_disputes"] = Dispute.objects.for_org(org).filter(status=Dispute.Status.OPEN).select_related("provider", "flag", "filed_by")
        ctx["resolve_form"] = ResolveForm()
    return render(request, "providers/noncooperative.html", ctx)


def _period_choices() -> list[str]:
    keys = list(
        ProviderScorecard.objects.unscoped(reason="list of period keys, no figures")
        .exclude(period=Period.ALL).values_list("period_key", flat=True).distinct().order_by("-period_key")[:36]
    )
    return ["all", *keys]


@require_kind(C, A)
def report(request: HttpRequest, fmt: str) -> HttpResponse:
    org = _org(request)
    if fmt not in ("csv", "pdf"):
        raise Http404("reports are csv or pdf")
    try:
        period, key = exports.parse_period(request.GET.get("period"))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    cards = ProviderScorecard.objects.unscoped(reason="period report; agencies are limited to flagged providers below")
    cards = cards.filter(period=period, period_key=key).select_related("provider").order_by("provider__name")
    flags = exports.active_flag_labels()
    if org.is_agency:
        # Agencies see the published list, not every provider's scorecard.
        cards = cards.filter(provider_id__in=list(flags))
    rows = exports.report_rows(list(cards), flags)
    audit.record(action="provider.report_exported", actor=request.user, object_type="providers.report", object_id=key, data={"format": fmt, "rows": len(rows)}, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    if fmt == "csv":
        resp = HttpResponse(exports.to_csv(rows), content_type="text/csv")
    else:
        resp = HttpResponse(exports.report_pdf(rows, period_key=key, audience=org.name), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="provider-report-{key}.{fmt}"'
    return resp


@require_kind(C, P, A)
def notice_letter(request: HttpRequest, pk: int) -> HttpResponse:
    provider = _provider(pk)
    org = _org(request)
    if org.is_provider and provider.organisation_id != org.id:
        raise Http404("no such provider")
    if org.is_agency and not ProviderFlag.objects.for_org(org).filter(provider=provider).exists():
        raise Http404("no such provider on the non-cooperative list")
    notices = queries.notice_history(provider)
    pdf = exports.notice_letter_pdf(provider, notices, issued_by=org.name if org.is_consortium else "the traceback consortium")
    audit.record(action="provider.notice_letter_downloaded", actor=request.user, obj=provider, data={"notices": len(notices)}, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="notice-history-{provider.pk}.pdf"'
    return resp


@require_POST
@require_kind(P, write=True)
def dispute_new(request: HttpRequest, flag_id: int) -> HttpResponse:
    org = _org(request)
    flag = get_object_or_404(ProviderFlag.objects.for_org(org).select_related("provider"), pk=flag_id)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the flag is wrong (at least 10 characters).")
        return redirect("providers:my_scorecard")
    try:
        services.file_dispute(actor=request.user, flag=flag, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]  # request.user is a signed-in User here
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, "Dispute filed. Consortium staff will review it and you will be told the outcome here.")
    return redirect("providers:my_scorecard")


@require_POST
@require_kind(C, write=True)
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute.objects.for_org(_org(request)), pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a decision and explain it.")
        return redirect("providers:noncooperative")
    try:
        services.resolve_dispute(actor=request.user, dispute=dispute, decision=form.cleaned_data["decision"], resolution=form.cleaned_data["resolution"])  # type: ignore[arg-type]  # request.user is a signed-in User here
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"Dispute {dispute.pk} resolved.")
    return redirect("providers:noncooperative")


@require_POST
@require_kind(C, write=True)
def refresh(request: HttpRequest) -> HttpResponse:
    refresh_now()
    audit.record(action="provider.scorecards_refresh_requested", actor=request.user, object_type="providers.scorecards", request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    messages.success(request, "Scorecards and flags are being recomputed.")
    return redirect_back(request, "providers:noncooperative")
