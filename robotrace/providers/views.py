"""Pages of the providers app: the registry and the provider's own hop webhook. Apps above
add to the registry pages through core.pages (scorecards: figures and flags): "providers:list"
is given org and providers (the page's), "providers:detail" org and provider."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from robotrace.core import pages
from robotrace.core.access import require_kind
from robotrace.core.views import webhook_secret_page
from robotrace.providers import queries, services
from robotrace.providers.forms import MergeForm, ProviderForm
from robotrace.providers.models import Provider, RmdImport

C, P = "consortium", "provider"


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict") else " ".join(exc.messages)


@require_kind(C)
def provider_list(request: HttpRequest) -> HttpResponse:
    f = {k: request.GET.get(k, "").strip() for k in ("q", "status", "role", "rmd", "country", "account")}
    qs = queries.registry(**f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    countries = Provider.objects.exclude(status=Provider.Status.MERGED).values_list("country", flat=True).distinct().order_by("country")
    return render(request, "providers/list.html", {
        "page": page, "f": f, "flagged": set(), "countries": countries, "statuses": Provider.Status.choices,
        "roles": Provider.Role.choices, "rmd_statuses": Provider.RmdStatus.choices,
        "counts": {
            "total": Provider.objects.exclude(status=Provider.Status.MERGED).count(),
            "pending": Provider.objects.filter(status=Provider.Status.PENDING).count(),
            "accounts": Provider.objects.filter(organisation__isnull=False).count(),
            "rmd_absent": Provider.objects.filter(rmd_status__in=[Provider.RmdStatus.NOT_LISTED, Provider.RmdStatus.REMOVED]).exclude(status=Provider.Status.MERGED).count(),
        },
        "last_import": RmdImport.objects.first(),
        **pages.extras("providers:list", org=_org(request), providers=list(page)),
    })


@require_kind(C)
def provider_detail(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider.objects.select_related("organisation", "merged_into"), pk=pk)
    return render(request, "providers/detail.html", {
        "provider": provider,
        "overall": None,
        "flags": [],
        "snapshots": provider.rmd_snapshots.select_related("rmd_import")[:20],
        "history": queries.provider_history(provider),
        "merged_from": provider.merged_from.all(),
        "merge_form": MergeForm() if provider.status != Provider.Status.MERGED else None,
        "days": ", ".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d - 1] for d in provider.business_days) or "Mon–Fri",
        **pages.extras("providers:detail", org=_org(request), provider=provider),
    })


@require_kind(C, write=True)
def provider_create(request: HttpRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        name = data.pop("name")
        try:
            provider = services.create_provider(actor=request.user, name=name, **data)  # type: ignore[arg-type]  # request.user is a signed-in User here
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
            services.update_provider(actor=request.user, provider=provider, **form.cleaned_data)  # type: ignore[arg-type]  # request.user is a signed-in User here
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
        target = services.merge_providers(actor=request.user, source=source, target=form.cleaned_data["target"], reason=form.cleaned_data["reason"])  # type: ignore[arg-type]  # request.user is a signed-in User here
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("providers:detail", pk=pk)
    messages.success(request, f"{source.name} merged into {target.name}; its hops and tracebacks now point to {target.name}.")
    return redirect("providers:detail", pk=target.pk)


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
            return _secret_page(request, services.set_hop_webhook(actor=actor, organisation=org, url=request.POST.get("url", "")), "issued")  # type: ignore[arg-type]  # actor is request.user, a signed-in User here
        if action == "rotate":
            return _secret_page(request, services.rotate_hop_webhook_secret(actor=actor, organisation=org), "rotated")  # type: ignore[arg-type]  # actor is request.user, a signed-in User here
        if action == "remove":
            services.remove_hop_webhook(actor=actor, organisation=org)  # type: ignore[arg-type]  # actor is request.user, a signed-in User here
            messages.success(request, "Webhook removed: hop requests reach you in the inbox and by e-mail.")
        elif action == "ping":
            code, error = services.ping_hop_webhook(actor=actor, organisation=org)  # type: ignore[arg-type]  # actor is request.user, a signed-in User here
            if error:
                messages.error(request, f"Test message failed: {error}")
            else:
                messages.success(request, f"Test message delivered (HTTP {code}).")
        else:
            raise Http404("no such webhook action")
    except ValidationError as exc:
        messages.error(request, f"Webhook not changed: {_errors(exc)}")
    return redirect("providers:hop_webhook")
