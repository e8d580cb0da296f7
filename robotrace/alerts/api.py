"""Alerts API: agency keys need the `alerts:read` scope; subscription writes need
`alerts:write` (signed-in agency users pass)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.alerts import queries, services, stix
from robotrace.alerts.models import Alert, AlertSubscription
from robotrace.audit import services as audit
from robotrace.core.pagination import page, page_response
from robotrace.core.problems import ApiProblem

router = Router()

READ = ApiKeyAuth(scope="alerts:read", kinds=("agency", "consortium"))
WRITE = ApiKeyAuth(scope="alerts:write", kinds=("agency",))


class AlertOut(Schema):
    id: int
    ref: str
    agency: str
    campaign_id: int
    campaign_ref: str
    event_kind: str
    subscription: str
    created_at: datetime
    read_at: datetime | None
    url: str
    evidence: dict[str, Any]
    # What tracebacks of the campaign found after the alert (the evidence is as it stood then).
    origins: list[dict[str, Any]] = []


class AlertPage(Schema):
    items: list[AlertOut]
    next: str | None


class SubscriptionIn(Schema):
    name: str
    all_states: bool = False
    states: list[str] = []
    area_codes: list[str] = []
    categories: list[str] = []
    event_kinds: list[str] = []
    min_reports: int = 5
    min_states: int = 1
    send_email: bool = True
    active: bool = True


class SubscriptionOut(SubscriptionIn):
    id: int
    created_at: datetime
    updated_at: datetime


def _alert_out(a: Alert, origins: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": a.pk, "ref": a.ref, "agency": a.agency.slug, "campaign_id": a.campaign_id,
        "campaign_ref": (a.evidence or {}).get("campaign", {}).get("ref", f"C-{a.campaign_id}"),
        "event_kind": a.event_kind, "subscription": a.subscription_name, "created_at": a.created_at,
        "read_at": a.read_at, "url": services.alert_url(a), "evidence": a.evidence or {}, "origins": origins.get(a.pk, []),
    }


def _one_out(request: HttpRequest, a: Alert) -> dict[str, Any]:
    return _alert_out(a, queries.origins_for(principal_of(request).organisation, [a.pk]))


def _sub_out(s: AlertSubscription) -> dict[str, Any]:
    return {f: getattr(s, f) for f in ("id", "name", "all_states", "states", "area_codes", "categories", "event_kinds",
                                       "min_reports", "min_states", "send_email", "active", "created_at", "updated_at")}


def _mine(request: HttpRequest) -> Any:
    p = principal_of(request)
    qs = queries.alerts_for(p.organisation)
    return p, (qs.filter(agency=p.organisation) if p.organisation.is_agency else qs)


def _invalid(exc: ValidationError) -> ApiProblem:
    errors = [{"line": None, "field": f if f != "__all__" else None, "reason": " ".join(m)} for f, m in exc.message_dict.items()]
    return ApiProblem(422, "Invalid subscription", "; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors=errors)


def _writer(request: HttpRequest) -> Any:
    p = principal_of(request)
    if p.user is not None and not p.user.can_write:
        raise ApiProblem(403, "Forbidden", "read-only users cannot change anything")
    return p


@router.get("/alerts/subscriptions", response=list[SubscriptionOut], auth=READ, summary="Your agency's alert subscriptions")
def list_subscriptions(request: HttpRequest) -> list[dict[str, Any]]:
    p = principal_of(request)
    if not p.organisation.is_agency:
        raise ApiProblem(403, "Forbidden", "subscriptions belong to agencies")
    return [_sub_out(s) for s in queries.subscriptions_for(p.organisation)]


@router.post("/alerts/subscriptions", response={201: SubscriptionOut}, auth=WRITE, summary="Create a subscription")
def create_subscription(request: HttpRequest, body: SubscriptionIn) -> Status:
    p = _writer(request)
    try:
        sub = services.create_subscription(actor=p.user, organisation=p.organisation, data=body.dict())
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return Status(201, _sub_out(sub))


def _get_sub(request: HttpRequest, subscription_id: int) -> AlertSubscription:
    p = principal_of(request)
    sub = queries.subscriptions_for(p.organisation).filter(pk=subscription_id).first()
    if sub is None:
        raise ApiProblem(404, "Not found", "no such subscription")
    return sub


@router.get("/alerts/subscriptions/{int:subscription_id}", response=SubscriptionOut, auth=READ, summary="One subscription")
def get_subscription(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    return _sub_out(_get_sub(request, subscription_id))


@router.put("/alerts/subscriptions/{int:subscription_id}", response=SubscriptionOut, auth=WRITE, summary="Replace a subscription")
def put_subscription(request: HttpRequest, subscription_id: int, body: SubscriptionIn) -> dict[str, Any]:
    p = _writer(request)
    sub = _get_sub(request, subscription_id)
    try:
        sub = services.update_subscription(actor=p.user, organisation=p.organisation, subscription_id=sub.pk, data=body.dict())
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return _sub_out(sub)


@router.delete("/alerts/subscriptions/{int:subscription_id}", response={204: None}, auth=WRITE, summary="Delete a subscription (its alerts are kept)")
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status:
    p = _writer(request)
    sub = _get_sub(request, subscription_id)
    services.delete_subscription(actor=p.user, organisation=p.organisation, subscription_id=sub.pk)
    return Status(204, None)


@router.get("/alerts/stix", auth=READ, summary="Your alerts as a STIX 2.1 bundle (TLP:AMBER)")
def alerts_stix(request: HttpRequest, alert: int | None = None) -> HttpResponse:
    p, qs = _mine(request)
    if alert is not None:
        qs = qs.filter(pk=alert)
    alerts = list(qs.order_by("-created_at")[:500])
    body = stix.export_json(alerts)
    audit.record(action="alerts.stix_exported", actor=p.user, actor_org=p.organisation, actor_label=p.label, object_type="alerts.alert",
                 subject_org=p.organisation, request=request, data={"alerts": [a.pk for a in alerts], "via": "api"})
    return HttpResponse(body, content_type="application/stix+json;version=2.1")


@router.get("/alerts", response=AlertPage, auth=READ, summary="Your alerts, newest first (cursor paged)")
def list_alerts(request: HttpRequest, cursor: str | None = None, limit: int = 50, unread: bool = False) -> dict[str, Any]:
    _, qs = _mine(request)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    rows, nxt = page(qs, cursor, limit)
    origins = queries.origins_for(principal_of(request).organisation, [a.pk for a in rows])
    return page_response([_alert_out(a, origins) for a in rows], nxt)


def _get_alert(request: HttpRequest, alert_id: int) -> Alert:
    _, qs = _mine(request)
    alert = qs.filter(pk=alert_id).first()
    if alert is None:
        raise ApiProblem(404, "Not found", "no such alert")
    return alert


@router.get("/alerts/{int:alert_id}", response=AlertOut, auth=READ, summary="One alert with its evidence")
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return _one_out(request, _get_alert(request, alert_id))


@router.post("/alerts/{int:alert_id}/read", response=AlertOut, auth=READ, summary="Mark an alert read")
def read_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    p = principal_of(request)
    if not p.organisation.is_agency:
        raise ApiProblem(403, "Forbidden", "only the alerted agency marks its alerts read")
    alert = _get_alert(request, alert_id)
    return _one_out(request, services.mark_read(actor=p.user, organisation=p.organisation, alert_id=alert.pk))
