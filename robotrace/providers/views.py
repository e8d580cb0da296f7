"""Pages of the providers app: registry, scorecards, the non-cooperative list, exports."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from robotrace.audit import services as audit
from robotrace.core.access import require_kind
from robotrace.core.views import webhook_secret_page
from robotrace.providers import exports, queries, services
from robotrace.providers.forms import DisputeForm, MergeForm, ProviderForm, ResolveForm
from robotrace.providers.models import (
    Dispute,
    FlagRun,
    Period,
    Provider,
    ProviderFlag,
    ProviderNotice,
    ProviderScorecard,
    RmdImport,
)

C, P, A = "consortium", "provider", "agency"


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict") else " ".join(exc.messages)


@require_kind(C)
def provider_list(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "").strip() for k in ("q", "status", "role", "rmd", "country", "account")}
    qs = queries.registry(**f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    flagged = set(
        ProviderFlag.objects.for_org(_org(request)).filter(active=True, provider__in=[p.id for p in page]).values_list("provider_id", flat=True)
    )
    countries = Provider.objects.exclude(status=Provider.Status.MERGED).values_list("country", flat=True).distinct().order_by("country")
    return render(request, "providers/list.html", {
        "page": page, "f": f, "flagged": flagged, "countries": countries, "statuses": Provider.Status.choices,
        "roles": Provider.Role.choices, "rmd_statuses": Provider.RmdStatus.choices,
        "counts": {
            "total": Provider.objects.exclude(status=Provider.Status.MERGED).count(),
            "pending": Provider.objects.filter(status=Provider.Status.PENDING).count(),
            "accounts": Provider.objects.filter(organisation__isnull=False).count(),
            "rmd_absent": Provider.objects.filter(rmd_status__in=[Provider.RmdStatus.NOT_LISTED, Provider.RmdStatus.REMOVED]).exclude(status=Provider.Status.MERGED).count(),
        },
        "last_import": RmdImport.objects.first(),
    })


@require_kind(C)
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider.objects.select_related("organisation", "merged_into"), pk=pk)
    org = _org(request)
    overall = queries.scorecards_for(org, provider).filter(period=Period.ALL).first()
    return render(request, "providers/detail.html", {
        "provider": provider,
        "overall": overall,
        "flags": ProviderFlag.objects.for_org(org).filter(provider=provider),
        "snapshots": provider.rmd_snapshots.select_related("rmd_import")[:20],
        "history": queries.provider_history(provider),
        "merged_from": provider.merged_from.all(),
        "merge_form": MergeForm() if provider.status != Provider.Status.MERGED else None,
        "days": ", ".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d - 1] for d in provider.business_days) or "Mon–Fri",
    })


@require_kind(C, write=True)
def provider_create(request: HttpRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        name = data.pop("name")
        try:
            provider = services.create_provider(actor=request.user, name=name, **data)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, f"{provider.name} added to the registry.")
            return redirect("providers:detail", pk=provider.pk)
    return render(request, "providers/form.html", {"form": form, "provider": None})


@require_kind(C, write=True)
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    if provider.status == Provider.Status.MERGED:
        messages.error(request, "A merged record cannot be edited; edit the record it was merged into.")
        return redirect("providers:detail", pk=provider.pk)
    form = ProviderForm(request.POST or None, instance=Provider.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_provider(actor=request.user, provider=provider, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, "Saved. The change is in the provider's history.")
            return redirect("providers:detail", pk=provider.pk)
    return render(request, "providers/form.html", {"form": form, "provider": provider})


@require_POST
@require_kind(C, write=True)
def provider_merge(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Provider, pk=pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the provider to merge into.")
        return redirect("providers:detail", pk=pk)
    try:
        target = services.merge_providers(actor=request.user, source=source, target=form.cleaned_data["target"], reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("providers:detail", pk=pk)
    messages.success(request, f"{source.name} merged into {target.name}; its hops and tracebacks now point to {target.name}.")
    return redirect("providers:detail", pk=target.pk)


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
    provider = get_object_or_404(Provider, pk=pk)
    org = _org(request)
    if org.is_provider and provider.organisation_id != org.id:
        raise Http404("no such provider")  # never confirm another provider's scorecard exists
    return render(request, "providers/scorecard.html", {**_scorecard_context(request, provider), "own": org.is_provider})


@require_kind(P)
def my_scorecard(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    provider = queries.provider_for_org(org)
    if provider is None:
        raise Http404("your organisation has no registry record yet")
    notices = list(ProviderNotice.objects.for_org(org).filter(provider=provider)[:10])
    ProviderNotice.objects.for_org(org).filter(provider=provider, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "providers/scorecard.html", {**_scorecard_context(request, provider), "own": True, "notices": notices})


@require_kind(C, P)
def scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
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
    audit.record(action="provider.report_exported", actor=request.user, object_type="providers.report", object_id=key, data={"format": fmt, "rows": len(rows)}, request=request)  # type: ignore[arg-type]
    if fmt == "csv":
        resp = HttpResponse(exports.to_csv(rows), content_type="text/csv")
    else:
        resp = HttpResponse(exports.report_pdf(rows, period_key=key, audience=org.name), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="provider-report-{key}.{fmt}"'
    return resp


@require_kind(C, P, A)
def notice_letter(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider, pk=pk)
    org = _org(request)
    if org.is_provider and provider.organisation_id != org.id:
        raise Http404("no such provider")
    if org.is_agency and not ProviderFlag.objects.for_org(org).filter(provider=provider).exists():
        raise Http404("no such provider on the non-cooperative list")
    notices = queries.notice_history(provider)
    pdf = exports.notice_letter_pdf(provider, notices, issued_by=org.name if org.is_consortium else "the traceback consortium")
    audit.record(action="provider.notice_letter_downloaded", actor=request.user, obj=provider, data={"notices": len(notices)}, request=request)  # type: ignore[arg-type]
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
        services.file_dispute(actor=request.user, flag=flag, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
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
        services.resolve_dispute(actor=request.user, dispute=dispute, decision=form.cleaned_data["decision"], resolution=form.cleaned_data["resolution"])  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"Dispute {dispute.pk} resolved.")
    return redirect("providers:noncooperative")


@require_POST
@require_kind(C, write=True)
def refresh(request: HttpRequest) -> HttpResponse:
    from robotrace.providers.tasks import refresh_now

    refresh_now()
    audit.record(action="provider.scorecards_refresh_requested", actor=request.user, object_type="providers.scorecards", request=request)  # type: ignore[arg-type]
    messages.success(request, "Scorecards and flags are being recomputed.")
    return redirect(request.POST.get("next") or "providers:noncooperative")


# --- the provider's webhook for hop requests -------------------------------------------------


@require_kind(P, admin=True)
def hop_webhook(request: HttpRequest) -> HttpResponse:
    # A provider organisation the consortium has not linked to its registry record yet sees
    # the page with that said, rather than a 404 behind a navigation link.
    return render(request, "providers/hop_webhook.html", {"provider": queries.provider_for_org(_org(request))})


def _secret_page(request: HttpRequest, created: services.HopWebhook, verb: str) -> HttpResponse:
    return webhook_secret_page(request, url=created.provider.webhook_url, secret=created.secret, verb=verb, purpose="hop requests",
                               done_url=reverse("providers:hop_webhook"))  # fmt: skip


@require_POST
@require_kind(P, admin=True, write=True)
def hop_webhook_action(request: HttpRequest, action: str) -> HttpResponse:
    """set (register or move, new secret), rotate (new secret), remove, ping (signed test)."""
    actor, org = request.user, _org(request)
    try:
        if action == "set":
            return _secret_page(request, services.set_hop_webhook(actor=actor, organisation=org, url=request.POST.get("url", "")), "issued")  # type: ignore[arg-type]
        if action == "rotate":
            return _secret_page(request, services.rotate_hop_webhook_secret(actor=actor, organisation=org), "rotated")  # type: ignore[arg-type]
        if action == "remove":
            services.remove_hop_webhook(actor=actor, organisation=org)  # type: ignore[arg-type]
            messages.success(request, "Webhook removed: hop requests reach you in the inbox and by e-mail.")
        elif action == "ping":
            code, error = services.ping_hop_webhook(actor=actor, organisation=org)  # type: ignore[arg-type]
            if error:
                messages.error(request, f"Test message failed: {error}")
            else:
                messages.success(request, f"Test message delivered (HTTP {code}).")
        else:
            raise Http404("no such webhook action")
    except ValidationError as exc:
        messages.error(request, f"Webhook not changed: {_errors(exc)}")
    return redirect("providers:hop_webhook")
