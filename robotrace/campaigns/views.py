"""Pages: campaign list and detail (with analyst actions), category trends, ecosystem."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from robotrace.campaigns import ecosystem, queries, services
from robotrace.campaigns.models import Campaign, CampaignEvent, Category, LegalBasis
from robotrace.core import pages
from robotrace.core.access import deny, require_kind


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = queries.visible(_org(request)).filter(pk=pk).first()
    if campaign is None:
        raise Http404("no such campaign")  # never confirm another organisation's rows exist
    return campaign


@require_kind("consortium", "agency")
def campaign_list(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    f = {k: request.GET.get(k, "") for k in ("q", "category", "status", "sort")}
    f["sort"] = f["sort"] if f["sort"] in {*queries.SORTS, "growth"} else "volume"
    rows = queries.campaign_list(org, q=f["q"], category=f["category"], status=f["status"], sort=f["sort"])
    ctx = {
        "campaigns": rows,
        "filters": f,
        "stats": queries.stats(org),
        "categories": [c for c in Category.choices if c[0] != Category.UNKNOWN],
        "statuses": Campaign.Status.choices,
        "sorts": [("volume", "Volume"), ("growth", "Growth (24 h)"), ("recent", "Last seen"), ("new", "Newest"), ("states", "States"), ("caller_ids", "Caller IDs"), ("category", "Category"), ("status", "Status")],
        "surging": queries.new_and_surging(org, limit=5) if org.is_consortium else [],
    }
    return render(request, "campaigns/list.html", ctx)


@require_kind("consortium", "agency")
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    c = _campaign(request, pk)
    series = queries.daily_series(c)
    states = queries.top_values(c, "called_state", limit=60)
    ctx = {
        "c": c,
        "series": series,
        "chart": series,
        "states": states,
        "states_chart": {"labels": [s for s, _ in states[:20]], "data": [n for _, n in states[:20]]},
        "caller_ids": queries.top_values(c, "calling_number_e164"),
        "callbacks": queries.callback_numbers(c),
        "reporters": queries.reporters(c),
        "upstreams": queries.top_values(c, "upstream_provider", limit=10),
        "tracebacks": [],
        "events": CampaignEvent.objects.filter(campaign=c)[:20],
        "changes": queries.changes(c) if org.is_consortium else [],
        "recent": queries.recent_reports(c) if org.is_consortium else [],
        "can_act": org.is_consortium and request.user.can_write,  # type: ignore[union-attr]  # request.user is a signed-in User here
        "categories": [x for x in Category.choices if x[0] != Category.UNKNOWN],
        "bases": LegalBasis.choices,
        "traceback_url": _reverse_or_empty("tracebacks:open_from_campaign", c.pk),
        "evidence_url": _reverse_or_empty("legal:evidence_new"),
        "merge_targets": queries.visible(org).exclude(pk=c.pk).exclude(status=Campaign.Status.MERGED).order_by("-report_count")[:100] if org.is_consortium else [],
        "legal": None,
        **pages.extras("campaigns:detail", org=org, campaign=c),
    }
    return render(request, "campaigns/detail.html", ctx)


def _reverse_or_empty(name: str, *args: Any) -> str:
    # Another app's page: link to it when it exists, without breaking this page if not.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


ACTIONS = {"rename", "recategorise", "merge", "split", "confirm", "close", "reopen"}


@require_POST
@require_kind("consortium", write=True)
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("unknown action")
    org = _org(request)
    c = _campaign(request, pk)
    p = request.POST
    common = {"actor": request.user, "organisation": org, "campaign_id": c.pk}
    try:
        if action == "rename":
            services.rename(**common, name=p.get("name", ""), reason=p.get("reason", ""))
            messages.success(request, "Campaign renamed.")
        elif action == "recategorise":
            services.recategorise(**common, category=p.get("category", ""), reason=p.get("reason", ""))
            messages.success(request, "Category set; the engine will keep it.")
        elif action == "merge":
            into = int(p.get("into") or 0)
            services.merge(**common, into_id=into, reason=p.get("reason", ""))
            messages.success(request, f"C-{c.pk} merged into C-{into}.")
            return redirect("campaigns:detail", pk=into)
        elif action == "split":
            ids = [int(x) for x in p.getlist("report_ids") + p.get("report_ids_text", "").replace(",", " ").split() if x.strip().isdigit()]
            new = services.split(**common, report_ids=ids, name=p.get("name", ""), reason=p.get("reason", ""))
            messages.success(request, f"{len(ids)} reports moved to new campaign {new.ref}.")
            return redirect("campaigns:detail", pk=new.pk)
        elif action == "confirm":
            services.confirm_illegal(**common, legal_basis=p.getlist("legal_basis"), reason=p.get("reason", ""))
            messages.success(request, "Campaign confirmed illegal.")
        elif action == "close":
            services.close(**common, reason=p.get("reason", ""))
            messages.success(request, "Campaign closed.")
        elif action == "reopen":
            services.reopen(**common, reason=p.get("reason", ""))
            messages.success(request, "Campaign reopened.")
    except ValidationError as exc:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(exc, "error_dict") else " ".join(exc.messages)
        messages.error(request, detail)
    except (ValueError, TypeError):
        messages.error(request, "That form had a value that is not a number.")
    except PermissionDenied as exc:
        deny(request, str(exc))
    return redirect("campaigns:detail", pk=c.pk)


@require_kind("consortium")
def trends(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    data = queries.category_trends(org)
    ctx = {"data": data, "chart": {"labels": data["labels"], "series": data["series"]}, "surging": queries.new_and_surging(org, limit=15), "stats": queries.stats(org)}
    return render(request, "campaigns/trends.html", ctx)


@require_kind("consortium")
def ecosystem_page(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    return render(request, "campaigns/ecosystem.html", {"table": ecosystem.provider_campaign_rows(org)})


@require_kind("consortium")
def ecosystem_json(request: HttpRequest) -> JsonResponse:
    org = _org(request)
    try:
        n = max(5, min(int(request.GET.get("campaigns", 40)), 200))
    except ValueError:
        n = 40
    return JsonResponse(ecosystem.cytoscape(ecosystem.build_graph(org, campaigns=n)))


def home_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = _org(request)
    rows = queries.new_and_surging(org, limit=6)
    return {"rows": rows, "stats": queries.stats(org)}
