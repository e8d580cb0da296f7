from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from robotrace.accounts import queries as accounts
from robotrace.accounts.choices import US_STATES
from robotrace.alerts import queries, services, stix
from robotrace.alerts.models import Alert, AlertSubscription, WebhookEndpoint
from robotrace.audit import services as audit
from robotrace.campaigns import queries as campaign_queries
from robotrace.campaigns.choices import Category, EventKind
from robotrace.core.access import require_kind
from robotrace.core.views import webhook_secret_page
from robotrace.outbox import services as outbox
from robotrace.outbox.queries import Status as DeliveryStatus

AGENCY = ("agency",)
BOTH = ("agency", "consortium")


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


# --- Home panels ----------------------------------------------------------------------------


def home_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = _org(request)
    qs = queries.alerts_for(org).filter(agency=org)
    return {
        "alerts": list(qs.order_by(F("read_at").asc(nulls_first=True), "-created_at")[:5]),
        "unread": qs.filter(read_at__isnull=True).count(),
        "subscriptions": queries.subscriptions_for(org).filter(active=True).count(),
    }


def home_panel_consortium(request: HttpRequest) -> dict[str, Any] | None:
    org = _org(request)
    deliveries = queries.deliveries_for(org)
    return {
        "alerts": list(queries.alerts_for(org)[:5]),
        "retrying": deliveries.filter(status=DeliveryStatus.RETRYING).count(),
        "gave_up": deliveries.filter(status=DeliveryStatus.GAVE_UP).count(),
    }


# --- Alerts ---------------------------------------------------------------------------------


@require_kind(*BOTH)
def alert_list(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.alerts_for(org)
    agencies: list[Any] = []
    status = request.GET.get("status", "")
    if org.is_agency:
        qs = qs.filter(agency=org)
        if status == "unread":
            qs = qs.filter(read_at__isnull=True)
        qs = qs.order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")
    else:
        agencies = list(accounts.organisations_of_kind("agency"))
        agency = request.GET.get("agency", "")
        if agency.isdigit():
            qs = qs.filter(agency_id=int(agency))
        if status in ("retrying", "gave_up", "delivered", "pending"):
            qs = qs.filter(pk__in=queries.alert_ids_with_delivery_status(org, status))
        qs = qs.order_by("-created_at", "-id")
    pager = Paginator(qs, 50).get_page(request.GET.get("page"))
    alerts = list(pager.object_list)
    summaries = queries.delivery_summaries([a.pk for a in alerts], org)
    rows = [{"alert": a, "delivery": summaries.get(a.pk)} for a in alerts]
    base = queries.alerts_for(org).filter(agency=org) if org.is_agency else queries.alerts_for(org)
    stats = base.aggregate(total=Count("id"), unread=Count("id", filter=Q(read_at__isnull=True)), campaigns=Count("campaign", distinct=True))
    failing = queries.deliveries_for(org).filter(status__in=[DeliveryStatus.RETRYING, DeliveryStatus.GAVE_UP]).count()
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(request, "alerts/list.html", {"rows": rows, "stats": stats, "failing": failing, "agencies": agencies, "pager": pager,
                                                 "query": keep.urlencode(), "status": status, "agency_filter": request.GET.get("agency", "")})


def _get_alert(request: HttpRequest, alert_id: int) -> Alert:
    try:
        return queries.alert_for(_org(request), alert_id)
    except Alert.DoesNotExist as exc:
        raise Http404("no such alert") from exc


@require_kind(*BOTH)
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    org = _org(request)
    alert = _get_alert(request, alert_id)
    if org.is_agency and alert.read_at is None:
        # Opening an alert is reading it (audited by mark_read).
        alert = services.mark_read(actor=request.user, organisation=org, alert_id=alert.pk)  # type: ignore[arg-type]  # request.user is a signed-in User here
    deliveries = list(queries.deliveries_of(org, [alert.pk]).order_by("id").prefetch_related("attempt_log"))
    ev = alert.evidence or {}
    return render(request, "alerts/detail.html", {
        "alert": alert, "ev": ev, "deliveries": deliveries, "origins": queries.origins_for(org, [alert.pk])[alert.pk],
        "jurisdiction": queries.Jurisdiction.from_json(ev.get("jurisdiction") or {}),
        "daily_json": json.dumps(ev.get("daily") or []),
        "states_json": json.dumps(ev.get("states") or {}),
    })


@require_kind(*AGENCY, write=True)
@require_POST
def alert_read(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        services.mark_read(actor=request.user, organisation=_org(request), alert_id=alert_id)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except Alert.DoesNotExist as exc:
        raise Http404("no such alert") from exc
    next_url = request.POST.get("next", "")
    return redirect(next_url if next_url.startswith("/alerts/") else "alerts:list")


@require_kind(*AGENCY, write=True)
@require_POST
def alert_read_all(request: HttpRequest) -> HttpResponse:
    n = services.mark_all_read(actor=request.user, organisation=_org(request))  # type: ignore[arg-type]  # request.user is a signed-in User here
    messages.success(request, f"{n} alert(s) marked read.")
    return redirect("alerts:list")


@require_kind("consortium", write=True)
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    org = _org(request)
    if not queries.deliveries_for(org).filter(pk=delivery_id).exists():
        raise Http404("no such delivery")  # this page retries alert deliveries only
    d = outbox.retry_now(actor=request.user, organisation=org, delivery_id=delivery_id)  # type: ignore[arg-type]  # request.user is a signed-in User here
    outbox.attempt(delivery_id=d.pk)
    messages.success(request, "Delivery attempted again.")
    return redirect("alerts:detail", alert_id=d.object_id)


# --- The agency's view of an alerted campaign -----------------------------------------------


@require_kind(*AGENCY)
def campaign_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    org = _org(request)
    j = queries.entitled_jurisdiction(org, campaign_id)
    if j is None:
        raise Http404("no such campaign")
    campaign = campaign_queries.campaign(org, campaign_id)
    if campaign is None:
        raise Http404("no such campaign")
    ev = queries.campaign_evidence(campaign, j)
    audit.record(action="alerts.campaign_viewed", actor=request.user, obj=campaign, subject_org=org, request=request,  # type: ignore[arg-type]  # request.user is a signed-in User here
                 data={"jurisdiction": j.to_json()})
    alerts = list(queries.alerts_for(org).filter(agency=org, campaign_id=campaign_id))
    return render(request, "alerts/campaign.html", {
        "campaign": campaign, "ev": ev, "jurisdiction": j, "alerts": alerts,
        "daily_json": json.dumps(ev["daily"]), "states_json": json.dumps(ev["states"]),
    })


# --- STIX -----------------------------------------------------------------------------------


@require_kind(*BOTH)
@require_GET
def export_stix(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.alerts_for(org)
    if org.is_agency:
        qs = qs.filter(agency=org)
    if request.GET.get("alert", "").isdigit():
        qs = qs.filter(pk=int(request.GET["alert"]))
    alerts = list(qs.order_by("-created_at")[:500])
    body = stix.export_json(alerts)
    audit.record(action="alerts.stix_exported", actor=request.user, actor_org=org, object_type="alerts.alert", subject_org=org,  # type: ignore[arg-type]  # request.user is a signed-in User here
                 request=request, data={"alerts": [a.pk for a in alerts]})
    resp = HttpResponse(body, content_type="application/stix+json;version=2.1")
    resp["Content-Disposition"] = 'attachment; filename="robotrace-alerts.stix.json"'
    return resp


@require_GET
def stix_schema(request: HttpRequest) -> JsonResponse:
    """The JSON schema the extension definition points at (no data; public)."""
    return JsonResponse(stix.PHONE_SCHEMA)


# --- Subscriptions and webhook endpoints ----------------------------------------------------


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=120)
    all_states = forms.BooleanField(required=False, label="Every state and territory")
    states = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    area_codes = forms.CharField(required=False, help_text="Comma-separated, e.g. 919, 704", max_length=400)
    categories = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked = every category")
    event_kinds = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked = every kind")
    min_reports = forms.IntegerField(min_value=1, initial=5, label="Minimum reports in the jurisdiction")
    min_states = forms.IntegerField(min_value=1, initial=1, label="Minimum called states in the jurisdiction")
    send_email = forms.BooleanField(required=False, initial=True, label="E-mail a link to our people")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, org: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        federal = org.agency_level == "federal"
        states = US_STATES if federal else [s for s in US_STATES if s in (org.jurisdiction or [])]
        cast(forms.ChoiceField, self.fields["states"]).choices = [(s, s) for s in states]
        cast(forms.ChoiceField, self.fields["categories"]).choices = Category.choices
        cast(forms.ChoiceField, self.fields["event_kinds"]).choices = EventKind.choices
        if not federal:
            del self.fields["all_states"]


def _sub_initial(sub: AlertSubscription | None, org: Any) -> dict[str, Any]:
    if sub is None:
        return {"states": list(org.jurisdiction or []), "min_reports": services.conf.DEFAULT_MIN_REPORTS, "min_states": 1,
                "send_email": True, "active": True}
    return {"name": sub.name, "all_states": sub.all_states, "states": sub.states, "area_codes": ", ".join(sub.area_codes),
            "categories": sub.categories, "event_kinds": sub.event_kinds, "min_reports": sub.min_reports,
            "min_states": sub.min_states, "send_email": sub.send_email, "active": sub.active}


@require_kind(*AGENCY)
def subscriptions(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    subs = list(queries.subscriptions_for(org).annotate(n_alerts=Count("alerts")))
    endpoints = list(queries.endpoints_for(org))
    ep_form = forms.Form()
    return render(request, "alerts/subscriptions.html", {"subs": subs, "endpoints": endpoints, "ep_form": ep_form,
                                                          "form": SubscriptionForm(org=org, initial=_sub_initial(None, org))})


def _save_subscription(request: HttpRequest, sub: AlertSubscription | None) -> HttpResponse:
    org = _org(request)
    form = SubscriptionForm(request.POST or None, org=org, initial=_sub_initial(sub, org))
    if request.method == "POST" and form.is_valid():
        try:
            if sub is None:
                sub = services.create_subscription(actor=request.user, organisation=org, data=form.cleaned_data)  # type: ignore[arg-type]  # request.user is a signed-in User here
                messages.success(request, f"Subscription “{sub.name}” created.")
            else:
                sub = services.update_subscription(actor=request.user, organisation=org, subscription_id=sub.pk, data=form.cleaned_data)  # type: ignore[arg-type]  # request.user is a signed-in User here
                messages.success(request, f"Subscription “{sub.name}” saved.")
            return redirect("alerts:subscriptions")
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
    return render(request, "alerts/subscription_form.html", {"form": form, "sub": sub}, status=400 if request.method == "POST" else 200)


@require_kind(*AGENCY, write=True)
def subscription_new(request: HttpRequest) -> HttpResponse:
    return _save_subscription(request, None)


def _get_sub(request: HttpRequest, subscription_id: int) -> AlertSubscription:
    sub = queries.subscriptions_for(_org(request)).filter(pk=subscription_id).first()
    if sub is None:
        raise Http404("no such subscription")
    return sub


@require_kind(*AGENCY, write=True)
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    return _save_subscription(request, _get_sub(request, subscription_id))


@require_kind(*AGENCY, write=True)
@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    sub = _get_sub(request, subscription_id)
    services.delete_subscription(actor=request.user, organisation=_org(request), subscription_id=sub.pk)  # type: ignore[arg-type]  # request.user is a signed-in User here
    messages.success(request, f"Subscription “{sub.name}” deleted; its past alerts are kept.")
    return redirect("alerts:subscriptions")


def _get_endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    ep = queries.endpoints_for(_org(request)).filter(pk=endpoint_id).first()
    if ep is None:
        raise Http404("no such webhook endpoint")
    return ep


def _secret_page(request: HttpRequest, created: services.CreatedEndpoint, verb: str) -> HttpResponse:
    return webhook_secret_page(request, url=created.endpoint.url, secret=created.secret, verb=verb, purpose="alerts",
                               done_url=reverse("alerts:subscriptions"))  # fmt: skip


@require_kind(*AGENCY, write=True)
@require_POST
def webhook_new(request: HttpRequest) -> HttpResponse:
    try:
        created = services.create_endpoint(actor=request.user, organisation=_org(request),  # type: ignore[arg-type]  # request.user is a signed-in User here
                                           url=request.POST.get("url", ""), description=request.POST.get("description", ""))
    except ValidationError as exc:
        for field, errs in exc.message_dict.items():
            messages.error(request, f"Webhook {field}: {' '.join(errs)}")
        return redirect("alerts:subscriptions")
    return _secret_page(request, created, "created")


@require_kind(*AGENCY, write=True)
@require_POST
def webhook_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    ep = _get_endpoint(request, endpoint_id)
    created = services.rotate_endpoint_secret(actor=request.user, organisation=_org(request), endpoint_id=ep.pk)  # type: ignore[arg-type]  # request.user is a signed-in User here
    return _secret_page(request, created, "rotated")


@require_kind(*AGENCY, write=True)
@require_POST
def webhook_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    ep = _get_endpoint(request, endpoint_id)
    services.set_endpoint_active(actor=request.user, organisation=_org(request), endpoint_id=ep.pk, active=not ep.active)  # type: ignore[arg-type]  # request.user is a signed-in User here
    return redirect("alerts:subscriptions")


@require_kind(*AGENCY, write=True)
@require_POST
def webhook_ping(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    ep = _get_endpoint(request, endpoint_id)
    result = services.ping_endpoint(actor=request.user, organisation=_org(request), endpoint_id=ep.pk)  # type: ignore[arg-type]  # request.user is a signed-in User here
    if result.ok:
        messages.success(request, f"Test message delivered to {ep.url} (HTTP {result.status}).")
    else:
        messages.error(request, f"Test message to {ep.url} failed: {result.error}")
    return redirect("alerts:subscriptions")


@require_kind(*AGENCY, write=True)
@require_POST
def webhook_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    ep = _get_endpoint(request, endpoint_id)
    services.delete_endpoint(actor=request.user, organisation=_org(request), endpoint_id=ep.pk)  # type: ignore[arg-type]  # request.user is a signed-in User here
    messages.success(request, f"Webhook {ep.url} deleted.")
    return redirect("alerts:subscriptions")
