"""Writes (one transaction each, with audit events) for the alerts app.

Flow: a CampaignEvent commits → `process_event` evaluates every active subscription against
the campaign's reports inside the subscription's jurisdiction → at most one Alert per
(subscription, campaign, event kind), with an evidence snapshot → one outbox delivery per
channel (e-mail with a link only; each active webhook endpoint), written in the same
transaction; the outbox sends, logs and retries them with backoff until delivered or given up.

A traceback of an alerted campaign completes → `process_traceback_event` records what it found
on each of the campaign's alerts (`AlertOrigin`), so the agency sees the origin.

Both events reach alerts as `core.events` subscribers ("alerts"): claimed once, caught up by
core's periodic task when a signal or task was lost.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from robotrace.accounts import queries as accounts
from robotrace.accounts.choices import US_STATES
from robotrace.accounts.roles import require_can_write
from robotrace.alerts import conf
from robotrace.alerts.models import Alert, AlertOrigin, AlertSubscription, WebhookEndpoint
from robotrace.alerts.queries import (
    NPA_RE,
    Cells,
    Jurisdiction,
    campaign_evidence,
    completed_tracebacks,
    jurisdiction_cells,
    measure,
    npa_state,
)
from robotrace.audit import services as audit
from robotrace.campaigns import queries as campaigns
from robotrace.campaigns.choices import Category, EventKind
from robotrace.campaigns.events import STREAM as CAMPAIGN_EVENTS
from robotrace.core import webhooks
from robotrace.core.events import Subscriber
from robotrace.outbox import conf as outbox_conf
from robotrace.outbox import services as outbox
from robotrace.outbox.transports import Endpoint
from robotrace.tracebacks import events as traceback_events
from robotrace.tracebacks import queries as traceback_queries

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User

HANDLER = "alerts"

CAMPAIGN_SUBSCRIBER = Subscriber(
    CAMPAIGN_EVENTS, HANDLER, handle="robotrace.alerts.services.process_event", enqueue="robotrace.alerts.tasks.process_campaign_event"
)
TRACEBACK_SUBSCRIBER = Subscriber(
    traceback_events.STREAM, HANDLER, kinds=(traceback_events.TRACEBACK_COMPLETED,),
    handle="robotrace.alerts.services.process_traceback_event", enqueue="robotrace.alerts.tasks.process_traceback_event",
)


# --- Subscriptions --------------------------------------------------------------------------


def _require_agency(organisation: Organisation) -> None:
    if not organisation.is_agency:
        raise ValidationError({"__all__": "only agencies subscribe to alerts"})


def _clean_list(value: Any, field: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").replace(" ", ",").split(",")]
    if not isinstance(value, list | tuple):
        raise ValidationError({field: "must be a list"})
    out: list[str] = []
    for item in value:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


def clean_subscription(organisation: Organisation, data: dict[str, Any]) -> dict[str, Any]:
    """Validate subscription fields for `organisation`; every error names its field."""
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "give the subscription a name"
    elif len(name) > 120:
        errors["name"] = "at most 120 characters"
    federal = organisation.agency_level == "federal"
    jurisdiction = [s.upper() for s in (organisation.jurisdiction or [])]
    all_states = bool(data.get("all_states"))
    if all_states and not federal:
        errors["all_states"] = "only federal agencies may subscribe to every state"
    states = [s.upper() for s in _clean_list(data.get("states"), "states")]
    bad = [s for s in states if s not in US_STATES]
    if bad:
        errors["states"] = f"not US states or territories: {', '.join(bad)}"
    elif not federal:
        outside = [s for s in states if s not in jurisdiction]
        if outside:
            errors["states"] = f"outside your jurisdiction ({', '.join(jurisdiction) or 'none'}): {', '.join(outside)}"
    area_codes = _clean_list(data.get("area_codes"), "area_codes")
    if not (all_states or states or area_codes):
        # Nothing chosen: the agency's own jurisdiction (federal agencies have none to default to).
        states = list(jurisdiction)
    bad = [a for a in area_codes if not NPA_RE.match(a)]
    if bad:
        errors["area_codes"] = f"area codes are three digits starting 2-9: {', '.join(bad)}"
    elif not federal:
        outside = [a for a in area_codes if npa_state(a) not in jurisdiction]
        if outside:
            errors["area_codes"] = f"not area codes of your jurisdiction ({', '.join(jurisdiction) or 'none'}): {', '.join(outside)}"
    if not (all_states or states or area_codes) and "states" not in errors and "area_codes" not in errors:
        errors["states"] = "choose at least one state or area code"
    categories = _clean_list(data.get("categories"), "categories")
    bad = [c for c in categories if c not in Category.values]
    if bad:
        errors["categories"] = f"unknown categories: {', '.join(bad)}"
    kinds = _clean_list(data.get("event_kinds"), "event_kinds")
    bad = [k for k in kinds if k not in EventKind.values]
    if bad:
        errors["event_kinds"] = f"unknown event kinds: {', '.join(bad)}"
    numbers: dict[str, int] = {}
    for field, default, top in (("min_reports", conf.DEFAULT_MIN_REPORTS, 10_000_000), ("min_states", 1, 60)):
        raw = data.get(field, default)
        try:
            numbers[field] = int(raw if raw not in (None, "") else default)
        except (TypeError, ValueError):
            errors[field] = "must be a whole number"
            continue
        if not 1 <= numbers[field] <= top:
            errors[field] = f"must be between 1 and {top}"
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "all_states": all_states,
        "states": [] if all_states else sorted(states),
        "area_codes": sorted(area_codes),
        "categories": sorted(categories),
        "event_kinds": sorted(kinds),
        "min_reports": numbers["min_reports"],
        "min_states": numbers["min_states"],
        "send_email": bool(data.get("send_email", True)),
        "active": bool(data.get("active", True)),
    }


def create_subscription(*, actor: User | None, organisation: Organisation, data: dict[str, Any]) -> AlertSubscription:
    require_can_write(actor, PermissionDenied)
    _require_agency(organisation)
    fields = clean_subscription(organisation, data)
    with transaction.atomic():
        sub = AlertSubscription.objects.create(agency=organisation, created_by=actor, **fields)
        audit.record(action="alerts.subscription_created", actor=actor, obj=sub, subject_org=organisation, data=fields)
    return sub


def update_subscription(*, actor: User | None, organisation: Organisation, subscription_id: int, data: dict[str, Any]) -> AlertSubscription:
    require_can_write(actor, PermissionDenied)
    _require_agency(organisation)
    fields = clean_subscription(organisation, data)
    with transaction.atomic():
        sub = AlertSubscription.objects.for_org(organisation).select_for_update().get(pk=subscription_id, agency=organisation)
        before = {k: getattr(sub, k) for k in fields}
        for k, v in fields.items():
            setattr(sub, k, v)
        sub.save()
        audit.record(action="alerts.subscription_updated", actor=actor, obj=sub, subject_org=organisation, data={"before": before, "after": fields})
    return sub


def delete_subscription(*, actor: User | None, organisation: Organisation, subscription_id: int) -> None:
    require_can_write(actor, PermissionDenied)
    with transaction.atomic():
        sub = AlertSubscription.objects.for_org(organisation).select_for_update().get(pk=subscription_id, agency=organisation)
        audit.record(action="alerts.subscription_deleted", actor=actor, obj=sub, subject_org=organisation, data={"name": sub.name})
        # Past alerts stay (they are records of what was sent) and keep the name.
        Alert.objects.for_org(organisation).filter(subscription=sub).update(subscription_name=sub.name)
        sub.delete()


# --- Webhook endpoints ----------------------------------------------------------------------


def _check_url(url: str) -> str:
    return webhooks.check_url(url, allow_insecure=conf.WEBHOOK_ALLOW_INSECURE)


@dataclass
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def create_endpoint(*, actor: User | None, organisation: Organisation, url: str, description: str = "") -> CreatedEndpoint:
    require_can_write(actor, PermissionDenied)
    _require_agency(organisation)
    url = _check_url(url)
    secret = webhooks.new_secret()
    with transaction.atomic():
        ep = WebhookEndpoint.objects.create(agency=organisation, created_by=actor, url=url, secret=secret, description=(description or "").strip()[:200])
        audit.record(action="alerts.webhook_created", actor=actor, obj=ep, subject_org=organisation, data={"url": url})
    return CreatedEndpoint(ep, secret)


def rotate_endpoint_secret(*, actor: User | None, organisation: Organisation, endpoint_id: int) -> CreatedEndpoint:
    require_can_write(actor, PermissionDenied)
    secret = webhooks.new_secret()
    with transaction.atomic():
        ep = WebhookEndpoint.objects.for_org(organisation).select_for_update().get(pk=endpoint_id, agency=organisation)
        ep.secret = secret
        ep.secret_rotated_at = timezone.now()
        ep.save(update_fields=["secret", "secret_rotated_at"])
        audit.record(action="alerts.webhook_secret_rotated", actor=actor, obj=ep, subject_org=organisation, data={"url": ep.url})
    return CreatedEndpoint(ep, secret)


def set_endpoint_active(*, actor: User | None, organisation: Organisation, endpoint_id: int, active: bool) -> WebhookEndpoint:
    require_can_write(actor, PermissionDenied)
    with transaction.atomic():
        ep = WebhookEndpoint.objects.for_org(organisation).select_for_update().get(pk=endpoint_id, agency=organisation)
        ep.active = active
        ep.save(update_fields=["active"])
        audit.record(action="alerts.webhook_" + ("enabled" if active else "disabled"), actor=actor, obj=ep, subject_org=organisation, data={"url": ep.url})
    return ep


@dataclass
class PingResult:
    ok: bool
    status: int | None
    error: str


def ping_endpoint(*, actor: User | None, organisation: Organisation, endpoint_id: int) -> PingResult:
    """Send a signed `ping` message now so an agency can check its receiver (no alert data)."""
    ep = WebhookEndpoint.objects.for_org(organisation).get(pk=endpoint_id, agency=organisation)
    body = json.dumps({"type": "ping", "timestamp": timezone.now().isoformat(), "data": {"agency": organisation.slug}}, separators=(",", ":")).encode()
    code, error = _post(ep, body, f"msg_{uuid.uuid4().hex}")
    result = PingResult(not error, code, error)
    with transaction.atomic():
        audit.record(action="alerts.webhook_pinged", actor=actor, obj=ep, subject_org=organisation, outcome="success" if result.ok else "failure",
                     data={"url": ep.url, "status": result.status, "error": result.error})
    return result


def delete_endpoint(*, actor: User | None, organisation: Organisation, endpoint_id: int) -> None:
    require_can_write(actor, PermissionDenied)
    with transaction.atomic():
        ep = WebhookEndpoint.objects.for_org(organisation).select_for_update().get(pk=endpoint_id, agency=organisation)
        audit.record(action="alerts.webhook_deleted", actor=actor, obj=ep, subject_org=organisation, data={"url": ep.url})
        outbox.forget_endpoint(endpoint_kind=ENDPOINT_KIND, endpoint_id=ep.pk, reason="endpoint deleted")
        ep.delete()


# --- Reading alerts -------------------------------------------------------------------------


def mark_read(*, actor: User | None, organisation: Organisation, alert_id: int) -> Alert:
    with transaction.atomic():
        alert = Alert.objects.for_org(organisation).select_for_update().get(pk=alert_id, agency=organisation)
        if alert.read_at is None:
            alert.read_at = timezone.now()
            alert.read_by = actor if actor is not None and actor.is_authenticated else None
            alert.save(update_fields=["read_at", "read_by"])
            audit.record(action="alerts.read", actor=actor, actor_org=organisation, obj=alert, subject_org=organisation)
    return alert


def mark_all_read(*, actor: User | None, organisation: Organisation) -> int:
    with transaction.atomic():
        ids = list(Alert.objects.for_org(organisation).filter(agency=organisation, read_at__isnull=True).values_list("id", flat=True))
        n = Alert.objects.for_org(organisation).filter(id__in=ids).update(read_at=timezone.now(), read_by=actor)
        if n:
            audit.record(action="alerts.read_all", actor=actor, actor_org=organisation, object_type="alerts.alert", subject_org=organisation, data={"alert_ids": ids})
    return n


# --- Matching -------------------------------------------------------------------------------


def subscription_matches(sub: AlertSubscription, *, category: str, kind: str, cells: list[tuple[str, str, int]] | Cells) -> tuple[bool, int, int]:
    """Whether the campaign (its category, the event kind, its jurisdiction cells) crosses
    `sub`. Returns (matches, reports in jurisdiction, states in jurisdiction)."""
    if sub.event_kinds and kind not in sub.event_kinds:
        return False, 0, 0
    if sub.categories and category not in sub.categories:
        return False, 0, 0
    reports, states = measure(cells, Jurisdiction.of(sub))
    return reports >= sub.min_reports and states >= sub.min_states, reports, states


def _recipients(agency: Organisation) -> list[str]:
    return sorted(accounts.member_emails(agency.pk, signing_in=True))


def _create_alert(*, sub: AlertSubscription, campaign: Any, event: dict[str, Any], now: datetime, tracebacks: list[dict[str, Any]]) -> Alert | None:
    """Create the alert and its deliveries; None when this crossing was already alerted.
    `event` is the campaign event's row as claimed (id, campaign_id, kind, at, data)."""
    evidence = campaign_evidence(campaign, Jurisdiction.of(sub), tracebacks=tracebacks)
    evidence["event"] = {"id": event["id"], "kind": event["kind"], "at": event["at"].isoformat(), "data": event["data"]}
    evidence["thresholds"] = {"min_reports": sub.min_reports, "min_states": sub.min_states}
    try:
        with transaction.atomic():  # savepoint: a concurrent worker may have won the race
            alert = Alert.objects.create(
                agency=sub.agency,
                subscription=sub,
                subscription_name=sub.name,
                campaign=campaign,
                event_id=event["id"],
                event_kind=event["kind"],
                created_at=now,
                evidence=evidence,
            )
    except IntegrityError:
        return None
    deliveries = _queue_deliveries(alert, send_email=sub.send_email)
    audit.record(
        action="alerts.alert_created",
        actor_label="alerts engine",
        obj=alert,
        subject_org=sub.agency,
        data={"campaign": campaign.pk, "event": event["id"], "kind": event["kind"], "subscription": sub.pk,
              "reports_in_jurisdiction": evidence["reports_in_jurisdiction"], "deliveries": deliveries},
    )
    return alert


def process_event(*, event_id: int, recheck: bool = False) -> list[Alert]:
    """Evaluate one campaign event against every active subscription, in one transaction
    that claims it for "alerts". Safe to run twice (the unique constraint and the claim make
    it idempotent). `recheck` re-evaluates an event already handled, for campaigns that grew
    into a jurisdiction after their event."""
    now = timezone.now()
    created: list[Alert] = []
    with transaction.atomic():
        event = CAMPAIGN_SUBSCRIBER.claim(event_id, again=recheck)
        if event is None:
            return []
        campaign = campaigns.campaign_for_system(event["campaign_id"], reason="alerts: evaluate a campaign event")
        if campaign is not None and campaign.status != campaigns.Status.MERGED:
            subs = list(AlertSubscription.objects.unscoped(reason="alerts: every agency's active subscriptions").filter(active=True).select_related("agency"))
            already = set(
                Alert.objects.unscoped(reason="alerts: crossings already alerted")
                .filter(campaign=campaign, event_kind=event["kind"], subscription__in=subs)
                .values_list("subscription_id", flat=True)
            )
            subs = [s for s in subs if s.pk not in already and s.agency.status == "active"]
            cells = Cells(jurisdiction_cells(campaign.pk) if subs else [])
            tracebacks: list[dict[str, Any]] | None = None
            for sub in subs:
                ok, _, _ = subscription_matches(sub, category=campaign.category, kind=event["kind"], cells=cells)
                if ok:
                    if tracebacks is None:
                        tracebacks = completed_tracebacks(campaign.pk)
                    alert = _create_alert(sub=sub, campaign=campaign, event=event, now=now, tracebacks=tracebacks)
                    if alert is not None:
                        created.append(alert)
    return created


def unhandled_event_ids(*, limit: int = 500) -> list[int]:
    """CampaignEvents not yet handled by "alerts" (missed signals, crashes), oldest first."""
    return CAMPAIGN_SUBSCRIBER.unhandled_ids(limit=limit)


def catch_up(*, limit: int = 500) -> int:
    """Process every campaign event the signal missed. Returns how many alerts were created."""
    return sum(len(created) for created in CAMPAIGN_SUBSCRIBER.catch_up(limit=limit))


def process_traceback_event(*, event_id: int) -> list[AlertOrigin]:
    """A traceback completed: every alert of its campaign records what it found, so the
    agency sees the origin. The alert, its evidence snapshot and its deliveries stay as they
    were (the snapshot is what was sent). Once per event (claimed for "alerts"); a traceback
    that a late answer reopens and completes again updates the same rows."""
    with transaction.atomic():
        event = TRACEBACK_SUBSCRIBER.claim(event_id)
        if event is None:
            return []
        found = traceback_queries.outcome(event["traceback_id"])
        if found is None or not found.is_completed or found.campaign_id is None:
            return []  # reopened since (its next completion is another event), or no campaign
        now = timezone.now()
        recorded: list[AlertOrigin] = []
        alerts = Alert.objects.unscoped(reason="alerts: alerts of a campaign whose traceback completed").filter(campaign_id=found.campaign_id)
        for alert in alerts.select_related("agency").order_by("id"):
            origin, _ = AlertOrigin.objects.update_or_create(
                alert=alert, traceback_id=found.id,
                defaults={"traceback_ref": found.ref, "outcome": found.outcome, "outcome_label": found.outcome_label[:100],
                          "originating_provider": found.originating_provider[:200], "originating_customer": found.originating_customer[:200],
                          "point_of_entry_provider": found.point_of_entry_provider[:200], "completed_at": found.completed_at, "recorded_at": now},
            )
            audit.record(action="alerts.origin_recorded", actor_label="alerts engine", obj=origin, subject_org=alert.agency,
                         data={"alert": alert.pk, "traceback": found.ref, "outcome": found.outcome, "originating_provider": found.originating_provider_id})
            recorded.append(origin)
    return recorded


def recheck_recent(*, days: int | None = None) -> int:
    """Re-evaluate the latest event of each kind of recently active campaigns: a campaign that
    reached a jurisdiction's threshold after its event still alerts (once)."""
    days = conf.RECHECK_DAYS if days is None else days
    if days <= 0:
        return 0
    since = timezone.now() - timedelta(days=days)
    latest: dict[tuple[int, str], int] = {}
    for pk, campaign_id, kind in CAMPAIGN_EVENTS.rows().filter(at__gte=since).order_by("id").values_list("id", "campaign_id", "kind"):
        latest[(campaign_id, kind)] = pk
    return sum(len(process_event(event_id=pk, recheck=True)) for pk in latest.values())


# --- Delivery (through the outbox) ------------------------------------------------------------

# The outbox asks `endpoint_for` (registered in AlertsConfig.ready) for an endpoint's current
# address and secret before each retry.
ENDPOINT_KIND = "alerts.endpoint"


def endpoint_for(endpoint_id: int) -> Endpoint | None:
    """The resolver: None once the endpoint is deleted or disabled (its deliveries give up)."""
    ep = WebhookEndpoint.objects.unscoped(reason="alerts: a delivery's endpoint").filter(pk=endpoint_id, active=True).first()
    return _endpoint(ep) if ep is not None else None


def _endpoint(ep: WebhookEndpoint) -> Endpoint:
    return Endpoint(ep.url, ep.secret, allow_insecure=conf.WEBHOOK_ALLOW_INSECURE, user_agent="Robotrace-Alerts/1")


def alert_url(alert: Alert) -> str:
    return settings.SITE_URL + reverse("alerts:detail", args=[alert.pk])


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON body POSTed to agency systems (Standard Webhooks `type`/`timestamp`/`data`)."""
    return {
        "type": "alert.created",
        "timestamp": alert.created_at.isoformat(),
        "data": {
            "id": alert.pk,
            "ref": alert.ref,
            "url": alert_url(alert),
            "event_kind": alert.event_kind,
            "subscription": alert.subscription_name,
            "campaign": alert.evidence.get("campaign", {}),
            "evidence": {k: v for k, v in alert.evidence.items() if k != "campaign"},
        },
    }


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body: only a link; no campaign name, numbers, states or transcript leave
    the platform by mail."""
    body = (
        "A new alert is waiting for your agency in Robotrace.\n\n"
        f"Open it (sign-in required): {alert_url(alert)}\n\n"
        "This message deliberately contains no case data.\n"
    )
    return f"Robotrace alert {alert.ref}", body


def _queue_deliveries(alert: Alert, *, send_email: bool) -> int:
    """One outbox delivery per channel, in the alert's transaction: an e-mail to the agency's
    people and a signed POST to each active endpoint. Returns how many."""
    n = 0
    if send_email:
        subject, body = alert_email(alert)
        n += outbox.email(topic="alert.created", organisation_id=alert.agency_id, to=_recipients(alert.agency), subject=subject, body=body,
                          about=alert) is not None  # fmt: skip
    payload = json.loads(json.dumps(webhook_payload(alert), default=str))
    for ep in WebhookEndpoint.objects.for_org(alert.agency).filter(agency=alert.agency, active=True):
        outbox.webhook(topic="alert.created", organisation_id=alert.agency_id, endpoint_kind=ENDPOINT_KIND, endpoint_id=ep.pk,
                       endpoint=_endpoint(ep), payload=payload, about=alert)  # fmt: skip
        n += 1
    return n


def _post(ep: WebhookEndpoint, body: bytes, msg_id: str) -> tuple[int | None, str]:
    code, error = webhooks.post_signed(ep.url, body, ep.secret, msg_id=msg_id, timeout=outbox_conf.WEBHOOK_TIMEOUT_SECONDS,
                                       allow_insecure=conf.WEBHOOK_ALLOW_INSECURE, user_agent="Robotrace-Alerts/1")  # fmt: skip
    if code is not None and error:
        error = f"endpoint answered {code}"
    return code, error
