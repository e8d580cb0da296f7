"""Reads for the alerts app: jurisdictions, campaign evidence inside a jurisdiction, and
what an agency may see of an alerted campaign."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import Substr, TruncDate

from robotrace.accounts.choices import US_STATES
from robotrace.alerts.models import Alert, AlertOrigin, AlertSubscription, WebhookEndpoint
from robotrace.ingest.queries import all_reports
from robotrace.outbox import queries as outbox
from robotrace.outbox.queries import Status as DeliveryStatus
from robotrace.tracebacks.queries import completed_outcomes

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation
    from robotrace.campaigns.models import Campaign
    from robotrace.outbox.models import Delivery

NPA_RE = re.compile(r"^[2-9][0-9]{2}$")
# How many caller IDs and callback numbers an alert or campaign view lists.
TOP_NUMBERS = 50


@dataclass(frozen=True)
class Jurisdiction:
    """Where an agency looks: called states, area codes (NPAs of called numbers), or all."""

    all_states: bool = False
    states: tuple[str, ...] = ()
    area_codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, sub: AlertSubscription) -> Jurisdiction:
        return cls(bool(sub.all_states), tuple(sorted(sub.states)), tuple(sorted(sub.area_codes)))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Jurisdiction:
        return cls(bool(data.get("all_states")), tuple(data.get("states") or ()), tuple(data.get("area_codes") or ()))

    def to_json(self) -> dict[str, Any]:
        return {"all_states": self.all_states, "states": list(self.states), "area_codes": list(self.area_codes)}

    def union(self, other: Jurisdiction) -> Jurisdiction:
        return Jurisdiction(
            self.all_states or other.all_states,
            tuple(sorted(set(self.states) | set(other.states))),
            tuple(sorted(set(self.area_codes) | set(other.area_codes))),
        )

    def is_empty(self) -> bool:
        return not (self.all_states or self.states or self.area_codes)

    def q(self) -> Q:
        """CallReport filter for this jurisdiction (never matches everything by accident)."""
        if self.all_states:
            return Q()
        q = Q(pk__in=[])
        if self.states:
            q |= Q(called_state__in=list(self.states))
        for npa in self.area_codes:
            q |= Q(called_number__startswith=f"+1{npa}")
        return q

    def matches(self, state: str, npa: str) -> bool:
        return self.all_states or (bool(state) and state in self.states) or (bool(npa) and npa in self.area_codes)

    @property
    def label(self) -> str:
        parts = []
        if self.all_states:
            parts.append("All states")
        elif self.states:
            parts.append(", ".join(self.states))
        if self.area_codes:
            parts.append("area codes " + ", ".join(self.area_codes))
        return " · ".join(parts) or "(none)"


def npa_state(npa: str) -> str:
    """The US state or territory an area code serves ('' when unknown, non-geographic or
    outside the US), from intake's NANP area-code table so both apps agree."""
    from robotrace.core.phones import AREA_CODES

    area = AREA_CODES.get(npa) if NPA_RE.match(npa) else None
    return area.state if area is not None and area.state in US_STATES else ""


def _reports(campaign_id: int) -> QuerySet[Any]:
    return all_reports(reason="alerts: a campaign's reports inside a jurisdiction").filter(campaign_id=campaign_id)


def jurisdiction_cells(campaign_id: int) -> list[tuple[str, str, int]]:
    """(called state, NPA, reports) cells of one campaign: one grouped query, then every
    subscription is evaluated in Python against the same cells."""
    rows = (
        _reports(campaign_id)
        .annotate(cc=Substr("called_number", 1, 2), npa=Substr("called_number", 3, 3))
        .values("called_state", "cc", "npa")
        .annotate(n=Count("id"))
    )
    return [(r["called_state"] or "", r["npa"] if r["cc"] == "+1" else "", r["n"]) for r in rows]


class Cells:
    """A campaign's (called state, NPA, reports) cells, indexed by state and by NPA so each
    subscription only looks at the cells its jurisdiction can reach."""

    def __init__(self, cells: list[tuple[str, str, int]]):
        self.cells = cells
        self.by_state: dict[str, list[int]] = {}
        self.by_npa: dict[str, list[int]] = {}
        for i, (state, npa, _) in enumerate(cells):
            self.by_state.setdefault(state, []).append(i)
            self.by_npa.setdefault(npa, []).append(i)

    def measure(self, j: Jurisdiction) -> tuple[int, int]:
        """Reports and distinct called states of the campaign inside `j`."""
        if j.all_states:
            picked: Any = range(len(self.cells))
        else:
            picked = set()
            for state in j.states:
                picked.update(self.by_state.get(state, ()))
            for npa in j.area_codes:
                picked.update(self.by_npa.get(npa, ()))
        total = 0
        states: set[str] = set()
        for i in picked:
            state, npa, n = self.cells[i]
            total += n
            # A report without a called state still shows its state through the area code.
            state = state or npa_state(npa)
            if state:
                states.add(state)
        return total, len(states)


def measure(cells: list[tuple[str, str, int]] | Cells, j: Jurisdiction) -> tuple[int, int]:
    """Reports and distinct called states of the campaign inside `j`."""
    return (cells if isinstance(cells, Cells) else Cells(cells)).measure(j)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _fill_days(counted: dict[date, int], *, max_days: int = 120) -> list[dict[str, Any]]:
    """Every day from the first to the last (the last `max_days`), zeros included, so the
    chart's time axis is honest about quiet days."""
    if not counted:
        return []
    last = max(counted)
    day = max(min(counted), last - timedelta(days=max_days - 1))
    out = []
    while day <= last:
        out.append({"day": day.isoformat(), "n": counted.get(day, 0)})
        day += timedelta(days=1)
    return out


def completed_tracebacks(campaign_id: int) -> list[dict[str, Any]]:
    """Completed tracebacks of a campaign and their origins (the same for every agency)."""
    return [
        {
            "ref": t.ref,
            "id": t.id,
            "outcome": t.outcome,
            "outcome_label": t.outcome_label,
            "originating_provider": t.originating_provider,
            "point_of_entry_provider": t.point_of_entry_provider,
            "completed_at": _iso(t.completed_at),
        }
        for t in completed_outcomes(campaign_id)
    ]


def campaign_evidence(campaign: Campaign, j: Jurisdiction, *, tracebacks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the agency is entitled to see of `campaign` inside `j`, as plain JSON.

    Five grouped queries over the campaign's reports in the jurisdiction; `tracebacks` may
    be passed in when several subscriptions are evaluated against the same campaign."""
    reports = _reports(campaign.pk).filter(j.q())
    by_state: dict[str, int] = {}
    total, first, last = 0, None, None
    for r in reports.values("called_state").annotate(n=Count("id"), first=Min("call_started_at"), last=Max("call_started_at")).order_by("-n", "called_state"):
        by_state[r["called_state"] or "??"] = r["n"]
        total += r["n"]
        first = r["first"] if first is None or (r["first"] is not None and r["first"] < first) else first
        last = r["last"] if last is None or (r["last"] is not None and r["last"] > last) else last
    counted = {
        r["day"]: r["n"]
        for r in reports.annotate(day=TruncDate("call_started_at")).values("day").annotate(n=Count("id")).order_by("day")
        if r["day"] is not None
    }
    caller_ids = [
        {"number": r["calling_number_e164"], "reports": r["n"]}
        for r in reports.exclude(calling_number_e164="")
        .values("calling_number_e164")
        .annotate(n=Count("id"))
        .order_by("-n", "calling_number_e164")[:TOP_NUMBERS]
    ]
    callbacks: Counter[str] = Counter()
    # callback_numbers is a JSON list per report: counted here rather than in SQL so the same
    # code runs on SQLite and PostgreSQL.
    for numbers in reports.exclude(callback_numbers=[]).values_list("callback_numbers", flat=True).iterator(chunk_size=2000):
        for number in numbers or []:
            if isinstance(number, str) and number:
                callbacks[number] += 1
    reporter_labels = [
        r["category"]
        for r in reports.exclude(category="").values("category").annotate(n=Count("id")).order_by("-n")[:10]
    ]
    return {
        "campaign": {
            "id": campaign.pk,
            "ref": campaign.ref,
            "name": campaign.name,
            "status": campaign.status,
            "category": campaign.category,
            "category_label": campaign.get_category_display(),
        },
        "jurisdiction": j.to_json(),
        "reports_in_jurisdiction": total,
        "states": by_state,
        "daily": _fill_days(counted),
        "first_seen": _iso(first),
        "last_seen": _iso(last),
        "caller_ids": caller_ids,
        "callback_numbers": [{"number": k, "reports": v} for k, v in sorted(callbacks.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_NUMBERS]],
        "categories": [campaign.category, *[c for c in reporter_labels if c != campaign.category]],
        "tracebacks": completed_tracebacks(campaign.pk) if tracebacks is None else tracebacks,
    }


# --- What an organisation may see ---------------------------------------------------------


def alerts_for(org: Organisation) -> QuerySet[Alert]:
    return Alert.objects.for_org(org).select_related("agency", "campaign", "subscription")


def alert_for(org: Organisation, alert_id: int) -> Alert:
    """Raises Alert.DoesNotExist for alerts of another agency (answered as 404)."""
    return alerts_for(org).get(pk=alert_id)


def subscriptions_for(org: Organisation) -> QuerySet[AlertSubscription]:
    return AlertSubscription.objects.for_org(org).filter(agency=org)


def endpoints_for(org: Organisation) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(org).filter(agency=org)


ABOUT = "alerts.alert"  # how the outbox names what an alert's deliveries are about


def deliveries_for(org: Organisation) -> QuerySet[Delivery]:
    """Alert deliveries (outbox rows) `org` may see."""
    return outbox.deliveries_for(org).filter(object_type=ABOUT)


def deliveries_of(org: Organisation, alert_ids: list[int]) -> QuerySet[Delivery]:
    return outbox.about(org, ABOUT, alert_ids)


def alert_ids_with_delivery_status(org: Organisation, status: str) -> QuerySet[Delivery, Any]:
    return outbox.object_ids_with_status(org, ABOUT, status)


def origins_for(org: Organisation, alert_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """What tracebacks of each alerted campaign found after the alert (alert id -> rows, the
    latest completion first), for the alerts `org` may see."""
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in alert_ids}
    for o in AlertOrigin.objects.for_org(org).filter(alert_id__in=alert_ids):
        out[o.alert_id].append({
            "traceback": o.traceback_ref,
            "outcome": o.outcome,
            "outcome_label": o.outcome_label,
            "originating_provider": o.originating_provider,
            "originating_customer": o.originating_customer,
            "point_of_entry_provider": o.point_of_entry_provider,
            "completed_at": _iso(o.completed_at),
            "recorded_at": _iso(o.recorded_at),
        })
    return out


def alerted_campaign_ids(org: Organisation) -> list[int]:
    """The entitlement source registered with core.entitlements for campaigns: campaigns
    alerted to this agency may be opened by it."""
    if not org.is_agency:
        return []
    return list(Alert.objects.for_org(org).filter(agency=org).values_list("campaign_id", flat=True).distinct())


def entitled_jurisdiction(org: Organisation, campaign_id: int) -> Jurisdiction | None:
    """The union of the jurisdictions under which `campaign_id` was alerted to `org`, or None
    when it never was (the campaign view then answers 404)."""
    snapshots = list(Alert.objects.for_org(org).filter(agency=org, campaign_id=campaign_id).values_list("evidence", flat=True))
    if not snapshots:
        return None
    j = Jurisdiction()
    for ev in snapshots:
        j = j.union(Jurisdiction.from_json((ev or {}).get("jurisdiction") or {}))
    return j


@dataclass
class DeliverySummary:
    delivered: int = 0
    pending: int = 0
    failed: int = 0
    labels: list[str] = field(default_factory=list)


def delivery_summaries(alert_ids: list[int], org: Organisation) -> dict[int, DeliverySummary]:
    out: dict[int, DeliverySummary] = {i: DeliverySummary() for i in alert_ids}
    for d in deliveries_of(org, alert_ids).order_by("id"):
        s = out[d.object_id]  # type: ignore[index]  # deliveries about alerts always name one
        if d.status == DeliveryStatus.DELIVERED:
            s.delivered += 1
        elif d.status == DeliveryStatus.GAVE_UP:
            s.failed += 1
        else:
            s.pending += 1
        s.labels.append(f"{d.get_channel_display()}: {d.get_status_display()}")
    return out
