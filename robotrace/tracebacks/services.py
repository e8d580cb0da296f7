"""Writes (one transaction each, with audit events) for the tracebacks app.

Every function takes keyword arguments only, the acting person (`actor`, None for system or
API-key work with `actor_label` saying who) and the organisation acting. Refusals raise
`TracebackError` before anything is written, so a refused answer changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from robotrace.accounts import queries as accounts
from robotrace.accounts.roles import require_can_write
from robotrace.audit import services as audit
from robotrace.campaigns import queries as campaigns
from robotrace.core import phones
from robotrace.core.db import write_turn
from robotrace.ingest.queries import all_reports
from robotrace.providers import queries as registry
from robotrace.shaken.facade import SignerInfo, verified_signer_for_report
from robotrace.tracebacks import clock, conf, events, notifications
from robotrace.tracebacks.models import (
    Hop,
    HopEvidence,
    NumberBlock,
    Traceback,
    TracebackEvent,
    TracebackRequest,
)

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User
    from robotrace.providers.models import Provider

OPEN_HOP_STATES = (Hop.Status.REQUESTED, Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE)
CUSTOMER_FIELDS = {"name": 200, "address": 300, "phone": 20, "email": 200, "account_id": 100, "contact_name": 120, "website": 200, "notes": 500}


class TracebackError(Exception):
    """A refusal: `status` is the HTTP status an API answers with, `field` what was wrong."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass
class SampleCall:
    call_started_at: datetime
    calling_number: str
    called_number: str
    call_timezone: str = "UTC"
    transcript: str = ""
    recording_sha256: str = ""
    identity_header: str = ""
    report_id: int | None = None
    reporter_id: int | None = None
    callback_numbers: list[str] | None = None


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _label(actor: User | None, actor_label: str) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.email
    return actor_label or "system"


def consortium_org() -> Organisation | None:
    return accounts.consortium()


def _require_consortium(organisation: Organisation | None) -> None:
    if organisation is None or not organisation.is_consortium:
        raise TracebackError("only consortium staff may open tracebacks", status=403)


def _require_writer(actor: User | None) -> None:
    require_can_write(actor, lambda message: TracebackError(message, status=403))


_BATCH = threading.local()


@contextmanager
def _batched_events() -> Iterator[None]:
    """Timeline rows written by `_event` inside the block are inserted together (one INSERT)
    when it ends, and the audit events recorded by `_audit` are appended after them, in
    order, still inside the caller's transaction.

    One INSERT instead of one per row; and the audit chain's head row, which every audited
    transaction locks until it commits, is locked for the transaction's last statements
    only (on PostgreSQL the other writers queue on it)."""
    if getattr(_BATCH, "rows", None) is not None:  # nested: the outer block writes them
        yield
        return
    _BATCH.rows, _BATCH.audits = [], []
    try:
        yield
        rows, audits = _BATCH.rows, _BATCH.audits
    finally:
        _BATCH.rows = _BATCH.audits = None
    if rows:
        TracebackEvent.objects.bulk_create(rows)
        for row in rows:
            _announce(row)
    for kwargs in audits:
        audit.record(**kwargs)


def _audit(**kwargs: Any) -> None:
    """`audit.record`, at the end of the enclosing `_batched_events` block if there is one."""
    batch = getattr(_BATCH, "audits", None)
    if batch is not None:
        batch.append(kwargs)
    else:
        audit.record(**kwargs)


def _event(tb: Traceback, kind: str, message: str, *, hop: Hop | None = None, at: datetime | None = None) -> None:
    row = TracebackEvent(traceback=tb, hop=hop, kind=kind, message=message[:400], at=_now(at))
    batch = getattr(_BATCH, "rows", None)
    if batch is not None:
        batch.append(row)
    else:
        row.save()
        _announce(row)


def _announce(row: TracebackEvent) -> None:
    """A hop answered or a traceback completed: the row is the durable event (tracebacks.events)."""
    if row.kind in events.STREAM.kinds:
        events.STREAM.announce(row.pk, traceback_id=row.traceback_id, hop_id=row.hop_id, kind=row.kind)


def _one(qs: QuerySet[Any]) -> Any:
    """The first row of an id lookup without the model's default ORDER BY: `first()` would
    order a hop by its traceback's creation time, which costs a join for one row."""
    return next(iter(qs.order_by()[:1]), None)


# --- number blocks -----------------------------------------------------------------------


def provider_for_number(number: str) -> Provider | None:
    """The provider holding `number` by the longest matching number-block prefix."""
    nat = phones.national(number)
    if len(nat) < 3:
        return None
    prefixes = [nat[:n] for n in range(min(len(nat), 10), 2, -1)]
    blocks = {b.prefix: b for b in NumberBlock.objects.filter(prefix__in=prefixes).select_related("provider")}
    for prefix in prefixes:
        if prefix in blocks:
            provider = blocks[prefix].provider
            if provider.status == registry.Status.MERGED and provider.merged_into_id:
                return provider.merged_into
            return provider
    return None


def import_number_blocks(*, actor: User | None, text: str, source: str = "") -> dict[str, int]:
    """Import `prefix,provider` rows (provider by id, SPC, OCN, FRN or name). All or nothing:
    any bad line refuses the whole file, naming the line and field."""
    from robotrace.providers.services import find_provider

    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    prefix_col = next((c for c in ("prefix", "npa_nxx", "npanxx", "block") if c in fields), None)
    provider_col = next((c for c in ("provider", "provider_id", "spc", "ocn", "frn", "provider_name") if c in fields), None)
    if prefix_col is None or provider_col is None:
        raise TracebackError("the header needs a prefix column (prefix or npa_nxx) and a provider column (provider, spc, ocn...)", field="header")
    rows: list[tuple[str, Provider]] = []
    cache: dict[str, Provider | None] = {}
    for lineno, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        prefix = phones.digits(row.get(prefix_col, ""))
        if prefix.startswith("1"):
            prefix = prefix[1:]  # the NANP country code; no area code starts with 1
        if not 3 <= len(prefix) <= 10:
            raise TracebackError(f"line {lineno}: {prefix_col} {row.get(prefix_col)!r} is not 3 to 10 digits of a NANP number", field=prefix_col)
        ref = row.get(provider_col, "")
        if ref not in cache:
            found = registry.provider(int(ref)) if ref.isdigit() and provider_col in ("provider", "provider_id") else None
            cache[ref] = found or find_provider(text=ref)
        provider = cache[ref]
        if provider is None:
            raise TracebackError(f"line {lineno}: {provider_col} {ref!r} is not a provider in the registry", field=provider_col)
        rows.append((prefix, provider))
    created = updated = 0
    with transaction.atomic():
        existing = {b.prefix: b for b in NumberBlock.objects.filter(prefix__in=[p for p, _ in rows])}
        new = []
        for prefix, provider in rows:
            block = existing.get(prefix)
            if block is None:
                new.append(NumberBlock(prefix=prefix, provider=provider, source=source[:100]))
                existing[prefix] = new[-1]
                created += 1
            elif block.provider_id != provider.id:
                block.provider = provider
                block.source = source[:100]
                if block.pk:
                    block.save(update_fields=["provider", "source", "imported_at"])
                updated += 1
        NumberBlock.objects.bulk_create(new, batch_size=1000)
        audit.record(action="tracebacks.number_blocks_imported", actor=actor, object_type="tracebacks.numberblock", data={"created": created, "updated": updated, "source": source})
    return {"rows": len(rows), "created": created, "updated": updated}


# --- opening -----------------------------------------------------------------------------


def _sample_from_report(report_id: int) -> tuple[SampleCall, Any]:
    report = all_reports(reason="traceback sample lookup").filter(id=report_id).first()
    if report is None:
        raise TracebackError(f"call report {report_id} does not exist", status=404, field="report_id")
    sample = SampleCall(
        call_started_at=report.call_started_at,
        calling_number=report.calling_number_e164 or report.calling_number,
        called_number=report.called_number,
        transcript=report.transcript,
        recording_sha256=report.recording_sha256,
        identity_header=report.identity_header,
        report_id=report.id,
        reporter_id=report.reporter_id,
        callback_numbers=list(report.callback_numbers or []),
    )
    return sample, report


def terminating_provider_for(sample: SampleCall) -> Provider | None:
    """The reporting carrier's registry record, or the holder of the called number."""
    if sample.reporter_id:
        provider = registry.for_organisation_id(sample.reporter_id)
        if provider is not None:
            return provider
    return provider_for_number(sample.called_number)


def _verified_signer(report_id: int | None) -> SignerInfo | None:
    # A fault here raises: swallowed, it would open tracebacks without the signer, and on
    # PostgreSQL the failed query has already spoiled the surrounding transaction.
    return verified_signer_for_report(report_id) if report_id else None


def _open_hop(
    tb: Traceback,
    provider: Provider,
    *,
    sequence: int,
    named_by: Provider | None,
    now: datetime,
    direct: bool = False,
) -> Hop:
    start, due = clock.due_at(provider, now)
    hop = Hop.objects.create(
        traceback=tb,
        sequence=sequence,
        provider=provider,
        named_by=named_by,
        is_direct_signer_request=direct,
        received_at=now,
        clock_starts_at=start,
        due_at=due,
    )
    what = "direct request to the STIR/SHAKEN signer" if direct else f"hop {sequence} requested"
    _event(tb, "hop.requested", f"{what}: {provider.name} (due {due:%Y-%m-%d %H:%M} UTC)", hop=hop, at=now)
    notifications.queue(hop, kind="requested")
    return hop


def open_traceback(
    *,
    actor: User | None,
    organisation: Organisation | None,
    report_id: int | None = None,
    sample: SampleCall | None = None,
    campaign_id: int | None = None,
    source: str = "",
    priority: str = Traceback.Priority.NORMAL,
    legal_basis: list[str] | None = None,
    first_provider: Provider | None = None,
    requested_by_agency: Organisation | None = None,
    now: datetime | None = None,
    actor_label: str = "",
) -> Traceback:
    """Open a traceback on one sample call and send the first hop to the terminating provider."""
    _require_consortium(organisation)
    _require_writer(actor)
    now = _now(now)
    report = None
    if report_id is not None:
        sample, report = _sample_from_report(report_id)
        if campaign_id is None and report.campaign_id:
            campaign_id = report.campaign_id
    if sample is None:
        raise TracebackError("give a report or a sample call", field="report_id")
    called = phones.valid(sample.called_number)
    if not called:
        raise TracebackError(f"called number {sample.called_number!r} is not a valid number", field="called_number")
    if priority not in Traceback.Priority.values:
        raise TracebackError(f"priority must be one of {', '.join(Traceback.Priority.values)}", field="priority")
    provider = first_provider or terminating_provider_for(sample)
    if provider is None:
        raise TracebackError(
            f"no terminating provider is known for {called}: import its number block or open from a carrier's report",
            field="called_number",
        )
    legal = list(legal_basis or [])
    campaign = None
    if campaign_id is not None:
        campaign = campaigns.campaign_for_system(campaign_id, reason="traceback opening")
        if campaign is not None and not legal:
            legal = list(campaign.legal_basis or [])
    signer = _verified_signer(sample.report_id)
    with write_turn(), transaction.atomic(), _batched_events():
        tb = Traceback.objects.create(
            source=source or (Traceback.Source.REPORT if report_id else Traceback.Source.MANUAL),
            priority=priority,
            campaign=campaign,
            sample_report_id=sample.report_id,
            call_started_at=sample.call_started_at,
            call_timezone=sample.call_timezone or "UTC",
            calling_number=sample.calling_number[:40],
            called_number=called,
            transcript=sample.transcript,
            recording_sha256=sample.recording_sha256,
            identity_header=sample.identity_header,
            legal_basis=legal,
            opened_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            requested_by_agency=requested_by_agency,
            created_at=now,
            hop_count=1,
        )
        _event(tb, "traceback.opened", f"opened by {_label(actor, actor_label)} ({tb.get_source_display().lower()})", at=now)
        opened = [_open_hop(tb, provider, sequence=1, named_by=None, now=now)]
        # Only a fully verified PASSporT names its signer; an unverified one proves nothing.
        if signer is not None and getattr(signer, "verified", True) and signer.provider_id:
            signer_provider = registry.provider(signer.provider_id)
            if signer_provider is not None:
                tb.shaken_signer = signer_provider
                tb.shaken_attest = str(getattr(signer, "attest", "") or "")[:1]
                tb.shaken_origid = str(getattr(signer, "origid", "") or "")[:100]
                tb.save(update_fields=["shaken_signer", "shaken_attest", "shaken_origid"])
                if signer_provider.id != provider.id:
                    opened.append(_open_hop(tb, signer_provider, sequence=0, named_by=None, now=now, direct=True))
        _audit(
            action="traceback.opened",
            actor=actor,
            actor_org=organisation,
            actor_label=actor_label,
            obj=tb,
            data={"source": tb.source, "report_id": sample.report_id, "campaign_id": campaign_id, "first_provider": provider.id},
        )
    # The hops just opened, in `queries.chain` order (the path, then the parallel signer
    # request), so the API can answer without reading them back. A snapshot of this moment.
    tb.opened_chain = opened
    return tb


def open_from_campaign(
    *,
    actor: User | None,
    organisation: Organisation | None,
    campaign_id: int,
    samples: int = 1,
    now: datetime | None = None,
    actor_label: str = "",
    exclude_traced: bool = True,
) -> list[Traceback]:
    """Open up to `samples` tracebacks on a campaign's calls, the freshest (under 10 days) first."""
    _require_consortium(organisation)
    _require_writer(actor)
    now = _now(now)
    campaign = campaigns.campaign_for_system(campaign_id, reason="traceback opening")
    if campaign is None:
        raise TracebackError(f"campaign {campaign_id} does not exist", status=404, field="campaign_id")
    if samples < 1 or samples > 50:
        raise TracebackError("samples must be between 1 and 50", field="samples")
    traced = set(
        Traceback.objects.unscoped(reason="avoid tracing the same call twice").filter(campaign_id=campaign_id).values_list("sample_report_id", flat=True)
    ) if exclude_traced else set()
    qs = all_reports(reason="traceback samples").filter(campaign_id=campaign_id).exclude(called_number="")
    fresh = qs.filter(call_started_at__gte=now - timedelta(days=conf.FRESH_SAMPLE_DAYS)).order_by("-call_started_at")
    stale = qs.filter(call_started_at__lt=now - timedelta(days=conf.FRESH_SAMPLE_DAYS)).order_by("-call_started_at")
    opened: list[Traceback] = []
    reasons: list[str] = []
    for pool in (fresh, stale):
        for report in pool.only("id")[: samples * 20]:
            if len(opened) >= samples:
                break
            if report.id in traced:
                continue
            try:
                opened.append(
                    open_traceback(actor=actor, organisation=organisation, report_id=report.id, campaign_id=campaign_id,
                                   source=Traceback.Source.CAMPAIGN, now=now, actor_label=actor_label)
                )
                traced.add(report.id)
            except TracebackError as exc:
                reasons.append(exc.message)
    if not opened and reasons:
        raise TracebackError(f"no sample of campaign {campaign.ref} could be traced: {reasons[0]}", field="campaign_id")
    if not opened:
        raise TracebackError(f"campaign {campaign.ref} has no untraced call reports with a called number", field="campaign_id")
    return opened


def open_trace_forward(
    *,
    actor: User | None,
    organisation: Organisation | None,
    callback_number: str,
    report_id: int | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
    actor_label: str = "",
) -> Traceback:
    """Callback scams: ask the provider holding the callback number who its customer is."""
    _require_consortium(organisation)
    _require_writer(actor)
    number = phones.valid(callback_number)
    if not number:
        raise TracebackError(f"callback number {callback_number!r} is not a valid number", field="callback_number")
    holder = provider_for_number(number)
    if holder is None:
        raise TracebackError(f"no provider is known to hold {number}: import its number block", field="callback_number")
    now = _now(now)
    if report_id is not None:
        sample, _ = _sample_from_report(report_id)
    else:
        sample = SampleCall(call_started_at=now, calling_number=number, called_number=number)
    with transaction.atomic():
        tb = open_traceback(
            actor=actor, organisation=organisation, sample=sample, campaign_id=campaign_id, first_provider=holder,
            source=Traceback.Source.REPORT if report_id else Traceback.Source.MANUAL, now=now, actor_label=actor_label,
        )
        tb.kind = Traceback.Kind.TRACE_FORWARD
        tb.callback_number = number
        tb.save(update_fields=["kind", "callback_number"])
        _event(tb, "trace_forward", f"trace-forward: asking {holder.name} who holds {number}", at=now)
    return tb


# --- agency requests ---------------------------------------------------------------------


def submit_request(
    *, actor: User, organisation: Organisation, call_started_at: datetime, calling_number: str, called_number: str,
    transcript: str = "", reason: str = "", call_timezone: str = "UTC",
) -> TracebackRequest:
    if not organisation.is_agency:
        raise TracebackError("only agencies file traceback requests", status=403)
    _require_writer(actor)
    if not phones.valid(called_number):
        raise TracebackError(f"called number {called_number!r} is not a valid number", field="called_number")
    if not phones.digits(calling_number):
        raise TracebackError("calling number is required", field="calling_number")
    if call_started_at > timezone.now() + timedelta(minutes=5):
        raise TracebackError("the call time is in the future", field="call_started_at")
    with transaction.atomic():
        req = TracebackRequest.objects.create(
            agency=organisation, submitted_by=actor, call_started_at=call_started_at, call_timezone=call_timezone,
            calling_number=calling_number[:40], called_number=phones.valid(called_number), transcript=transcript, reason=reason,
        )
        audit.record(action="traceback_request.submitted", actor=actor, obj=req, subject_org=organisation)
    return req


def decide_request(
    *, actor: User, organisation: Organisation, request_id: int, accept: bool, note: str = "", now: datetime | None = None,
) -> TracebackRequest:
    _require_consortium(organisation)
    _require_writer(actor)
    with transaction.atomic():
        req = TracebackRequest.objects.for_org(organisation).select_for_update().filter(id=request_id).first()
        if req is None:
            raise TracebackError("no such request", status=404)
        if req.status != TracebackRequest.Status.SUBMITTED:
            raise TracebackError(f"this request was already {req.get_status_display().lower()}", status=409)
        req.status = TracebackRequest.Status.ACCEPTED if accept else TracebackRequest.Status.DECLINED
        req.decided_at = _now(now)
        req.decision_note = note[:300]
        if accept:
            sample = SampleCall(
                call_started_at=req.call_started_at, call_timezone=req.call_timezone, calling_number=req.calling_number,
                called_number=req.called_number, transcript=req.transcript,
            )
            req.traceback = open_traceback(
                actor=actor, organisation=organisation, sample=sample, source=Traceback.Source.AGENCY_REQUEST,
                requested_by_agency=req.agency, now=now,
            )
        req.save()
        audit.record(action=f"traceback_request.{req.status}", actor=actor, obj=req, subject_org=req.agency, data={"note": note})
    return req


# --- answering ---------------------------------------------------------------------------


def _clean_customer(customer: Any) -> dict[str, str]:
    if customer in (None, "", {}):
        return {}
    if not isinstance(customer, dict):
        raise TracebackError("customer must be an object with name, address, phone, email, account_id", field="customer")
    unknown = sorted(set(customer) - set(CUSTOMER_FIELDS))
    if unknown:
        raise TracebackError(f"customer has unknown fields: {', '.join(unknown)}", field=f"customer.{unknown[0]}")
    clean: dict[str, str] = {}
    for key, value in customer.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise TracebackError(f"customer.{key} must be text", field=f"customer.{key}")
        value = value.strip()
        if len(value) > CUSTOMER_FIELDS[key]:
            raise TracebackError(f"customer.{key} is longer than {CUSTOMER_FIELDS[key]} characters", field=f"customer.{key}")
        clean[key] = value
    if clean and not clean.get("name"):
        raise TracebackError("customer.name is required when a customer is given", field="customer.name")
    if clean.get("email") and ("@" not in clean["email"] or " " in clean["email"]):
        raise TracebackError(f"customer.email {clean['email']!r} is not an e-mail address", field="customer.email")
    if clean.get("phone") and not phones.normalise(clean["phone"]):
        raise TracebackError(f"customer.phone {clean['phone']!r} is not a telephone number", field="customer.phone")
    return clean


# What a named upstream provider is used for: its status, the next hop's clock (its zone and
# business hours) and the request's webhook and e-mail. The registry's other columns (RMD
# filing, identifiers) are loaded only if something asks for them.
_UPSTREAM_COLUMNS = ("name", "country", "status", "merged_into", "organisation", "timezone", "business_hours_start",
                     "business_hours_end", "business_days", "webhook_url", "webhook_secret", "contact_email", "fallback_contact_email")


def _registry_provider(provider_id: int) -> Provider:
    """A registry provider named by id (a merged one stands for the provider it merged into)."""
    provider = registry.provider(provider_id, only=_UPSTREAM_COLUMNS)
    if provider is None:
        raise TracebackError(f"upstream provider {provider_id} is not in the registry", field="upstream_provider_id")
    if provider.status == registry.Status.MERGED and provider.merged_into_id:
        provider = provider.merged_into or provider
    return provider


def _resolve_upstream(*, actor: User | None, hop: Hop, upstream_provider_id: int | None, upstream: str) -> Provider:
    from robotrace.providers.services import find_or_create_pending

    if upstream_provider_id is not None:
        return _registry_provider(upstream_provider_id)
    if not (upstream or "").strip():
        raise TracebackError("name the upstream provider (upstream_provider_id or upstream)", field="upstream")
    return find_or_create_pending(actor=actor, text=upstream.strip()[:200], named_by=hop.provider)


# What an answer changes on its hop (saving only these keeps the UPDATE short).
_ANSWER_FIELDS = ["status", "response", "answered_at", "upstream_provider", "upstream_detail", "customer", "customer_action",
                  "no_record_reason", "attestation_seen", "notes", "answered_by_label", "idempotency_key"]


def _answer_columns() -> list[str]:
    """What answering reads: the hop, its traceback without the bulky evidence of the call
    (transcript, Identity header...), and only the names and ownership of the providers. The
    query is compiled on every answer, and its cost grows with every column (131 in full);
    a field left out is still loaded on first use, so this only ever costs speed."""
    bulky = {"transcript", "identity_header", "recording_sha256", "legal_basis", "shaken_origid"}
    return [
        *(f.name for f in Hop._meta.concrete_fields),
        *(f"traceback__{f.name}" for f in Traceback._meta.concrete_fields if f.name not in bulky),
        "provider__name", "provider__organisation", "provider__country", "provider__status",
        "provider__organisation__name", "provider__organisation__kind", "provider__organisation__status",
        "named_by__name",
    ]


_ANSWER_COLUMNS = _answer_columns()


def answer_hop(
    *,
    actor: User | None,
    organisation: Organisation,
    hop_id: int,
    response: str,
    upstream_provider_id: int | None = None,
    upstream: str = "",
    customer: Any = None,
    customer_action: str = "",
    no_record_reason: str = "",
    attestation_seen: str = "",
    notes: str = "",
    idempotency_key: str = "",
    now: datetime | None = None,
    actor_label: str = "",
) -> Hop:
    """Record a provider's answer to its own hop and move the traceback on.

    The returned hop carries its traceback, provider and `named_by`, so a caller can show it
    without reading it again."""
    _require_writer(actor)
    now = _now(now)
    if response not in Hop.Response.values:
        raise TracebackError(f"response must be one of {', '.join(Hop.Response.values)}", field="response")
    if attestation_seen and attestation_seen.upper() not in ("A", "B", "C"):
        raise TracebackError("attestation_seen must be A, B or C", field="attestation_seen")
    if customer_action and customer_action not in ("warned", "suspended", "terminated"):
        raise TracebackError("customer_action must be warned, suspended or terminated", field="customer_action")
    clean_customer = _clean_customer(customer)
    if response == Hop.Response.NO_RECORD and not no_record_reason.strip():
        raise TracebackError("say why there is no record (no_record_reason)", field="no_record_reason")
    if len(idempotency_key) > 128:
        raise TracebackError("Idempotency-Key is longer than 128 characters", field="idempotency_key")
    names_upstream = response in (Hop.Response.UPSTREAM, Hop.Response.FOREIGN_UPSTREAM)
    # A registry provider named by id is read before the transaction: the registry is not
    # what the hop's lock protects, and on SQLite everything inside holds the one write lock.
    # Its refusal waits until the hop is known to be the caller's (a 404 comes first).
    named: Provider | None = None
    named_error: TracebackError | None = None
    if names_upstream and upstream_provider_id is not None:
        try:
            named = _registry_provider(upstream_provider_id)
        except TracebackError as exc:
            named_error = exc
    with write_turn(), transaction.atomic(), _batched_events():
        # The hop and its traceback in one locked read (their rows only, not the providers').
        hop = _one(
            Hop.objects.unscoped(reason="answer lookup, ownership checked below")
            .select_related("provider__organisation", "traceback", "named_by")
            .only(*_ANSWER_COLUMNS)
            .select_for_update(of=("self", "traceback"))
            .filter(id=hop_id)
        )
        if hop is None or not (organisation.is_consortium or hop.provider.organisation_id == organisation.id):
            raise TracebackError("no such hop request", status=404)
        if idempotency_key and hop.idempotency_key == idempotency_key:
            return hop  # a retry of an answer we already recorded
        if hop.status not in OPEN_HOP_STATES:
            raise TracebackError(f"this hop is closed ({hop.get_status_display().lower()}); it cannot be answered again", status=409)
        tb = hop.traceback
        if tb.status == Traceback.Status.CANCELLED:
            raise TracebackError("this traceback was cancelled", status=409)
        upstream_provider: Provider | None = None
        if names_upstream and (upstream_provider_id is not None or upstream.strip()):
            if named_error is not None:
                raise named_error
            upstream_provider = named or _resolve_upstream(actor=actor, hop=hop, upstream_provider_id=None, upstream=upstream)
            if upstream_provider.id == hop.provider_id:
                raise TracebackError("a provider cannot name itself as its upstream", field="upstream")
            chain = set(
                Hop.objects.unscoped(reason="loop check within one traceback").filter(traceback_id=tb.id)
                .filter(Q(is_direct_signer_request=False) | Q(named_by__isnull=False)).order_by().values_list("provider_id", flat=True)
            )
            if upstream_provider.id in chain and response == Hop.Response.UPSTREAM:
                raise TracebackError(f"{upstream_provider.name} is already in this call's path: naming it would make a loop", field="upstream")
            if response == Hop.Response.UPSTREAM and upstream_provider.is_foreign:
                response = Hop.Response.FOREIGN_UPSTREAM  # this provider is the US point of entry
        elif response == Hop.Response.UPSTREAM:
            raise TracebackError("name the upstream provider (upstream_provider_id or upstream)", field="upstream")
        was_late = hop.status in (Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE)
        hop.status = Hop.Status.ANSWERED
        hop.response = response
        hop.answered_at = now
        hop.upstream_provider = upstream_provider
        hop.upstream_detail = (upstream or (upstream_provider.name if upstream_provider else ""))[:200]
        hop.customer = clean_customer if response == Hop.Response.ORIGINATED else {}
        hop.customer_action = customer_action if response == Hop.Response.ORIGINATED else ""
        hop.no_record_reason = no_record_reason.strip()[:200] if response == Hop.Response.NO_RECORD else ""
        hop.attestation_seen = attestation_seen.upper()[:1]
        hop.notes = notes[:5000]
        hop.answered_by_label = _label(actor, actor_label)[:200]
        hop.idempotency_key = idempotency_key
        hop.save(update_fields=_ANSWER_FIELDS)
        _event(tb, "hop.answered", f"{hop.provider.name} answered: {hop.get_response_display()}"
               + (f" → {upstream_provider.name}" if upstream_provider else "") + (" (late)" if was_late else ""), hop=hop, at=now)
        _audit(
            action="hop.answered", actor=actor, actor_org=organisation, actor_label=actor_label, obj=hop,
            subject_org=hop.provider.organisation,
            data={"traceback": tb.id, "response": response, "upstream": upstream_provider.id if upstream_provider else None, "late": was_late},
        )
        if hop.is_direct_signer_request and hop.named_by_id is None:
            _event(tb, "signer.answered", f"STIR/SHAKEN signer {hop.provider.name} answered the direct request: {hop.get_response_display()}", hop=hop, at=now)
        else:
            _advance(tb, hop, now=now, actor=actor)
    return hop


# What moving a chain on changes on its traceback (saving only these keeps the UPDATE short).
_PROGRESS_FIELDS = ["status", "outcome", "completed_at", "hop_count", "originating_provider", "originating_customer",
                    "point_of_entry_provider", "non_responsive_provider", "shaken_mismatch", "shaken_mismatch_detail"]


def _advance(tb: Traceback, hop: Hop, *, now: datetime, actor: User | None) -> None:
    """After a chain hop's answer: open the next hop or settle the outcome."""
    if tb.status == Traceback.Status.COMPLETED and tb.outcome == Traceback.Outcome.NON_RESPONSIVE:
        # A late answer from the provider that stopped the chain resumes it.
        tb.status = Traceback.Status.IN_PROGRESS
        tb.outcome = Traceback.Outcome.IN_PROGRESS
        tb.non_responsive_provider = None
        tb.completed_at = None
        _event(tb, "traceback.resumed", f"resumed by {hop.provider.name}'s late answer", hop=hop, at=now)
    elif tb.status != Traceback.Status.IN_PROGRESS:
        tb.save(update_fields=_PROGRESS_FIELDS)
        return
    if hop.response == Hop.Response.UPSTREAM and hop.upstream_provider is not None:
        upstream = hop.upstream_provider
        # The STIR/SHAKEN signer may already hold a direct request: it joins the chain.
        direct = (
            tb.hops.filter(provider=upstream, is_direct_signer_request=True, named_by__isnull=True).first()
            if tb.shaken_signer_id is not None  # only a verified signer gets a direct request
            else None
        )
        next_seq = hop.sequence + 1
        tb.hop_count = next_seq
        if direct is not None:
            Hop.objects.unscoped(reason="signer joins chain").filter(id=direct.id).update(named_by=hop.provider, sequence=next_seq)
            direct.refresh_from_db()
            _event(tb, "signer.joined", f"the chain reached the STIR/SHAKEN signer {upstream.name}", hop=direct, at=now)
            tb.save(update_fields=_PROGRESS_FIELDS)
            if direct.status == Hop.Status.ANSWERED:
                _advance(tb, direct, now=now, actor=actor)
            return
        tb.save(update_fields=_PROGRESS_FIELDS)
        _open_hop(tb, upstream, sequence=next_seq, named_by=hop.provider, now=now)
        return
    if hop.response == Hop.Response.ORIGINATED:
        tb.originating_provider = hop.provider
        tb.originating_customer = hop.customer
        tb.outcome = Traceback.Outcome.ORIGIN_AND_CUSTOMER if hop.customer.get("name") else Traceback.Outcome.ORIGIN_ONLY
    elif hop.response == Hop.Response.FOREIGN_UPSTREAM:
        tb.point_of_entry_provider = hop.provider
        tb.outcome = Traceback.Outcome.FOREIGN_ORIGIN
    elif hop.response == Hop.Response.NO_RECORD:
        tb.outcome = Traceback.Outcome.NO_RECORD
    elif hop.response == Hop.Response.REFUSED:
        tb.outcome = Traceback.Outcome.REFUSED
        tb.non_responsive_provider = hop.provider
    _complete(tb, now=now)


def _complete(tb: Traceback, *, now: datetime) -> None:
    tb.status = Traceback.Status.COMPLETED
    tb.completed_at = now
    _check_signer(tb)
    tb.save(update_fields=_PROGRESS_FIELDS)
    # Open parallel requests (the signer's, if unanswered) are no longer needed.
    Hop.objects.unscoped(reason="close parallel requests").filter(traceback=tb, status__in=OPEN_HOP_STATES).exclude(
        outcome_stop_guard(tb)
    ).update(status=Hop.Status.CANCELLED)
    _event(tb, "traceback.completed", f"completed: {tb.get_outcome_display()}", at=now)
    _audit(action="traceback.completed", obj=tb, data={"outcome": tb.outcome, "origin": tb.originating_provider_id})


def outcome_stop_guard(tb: Traceback) -> Q:
    # The hop that stopped a chain as non-responsive stays open so a late answer can resume it.
    if tb.outcome == Traceback.Outcome.NON_RESPONSIVE and tb.non_responsive_provider_id:
        return Q(provider_id=tb.non_responsive_provider_id, is_direct_signer_request=False)
    return Q(pk__in=[])


def _check_signer(tb: Traceback) -> None:
    """Compare the chain's origin with the STIR/SHAKEN signer; flag a downstream signer that
    attested A/B on a call it did not originate."""
    if tb.shaken_signer_id is None:
        return
    origin = tb.originating_provider_id or tb.point_of_entry_provider_id
    if origin is None or origin == tb.shaken_signer_id:
        tb.shaken_mismatch = False
        return
    tb.shaken_mismatch = True
    signer_name = tb.shaken_signer.name if tb.shaken_signer else str(tb.shaken_signer_id)
    origin_name = (tb.originating_provider or tb.point_of_entry_provider).name  # type: ignore[union-attr]  # one of them is set (origin is not None above)
    tb.shaken_mismatch_detail = f"signed by {signer_name} (attestation {tb.shaken_attest or '?'}) but the chain ends at {origin_name}"[:300]
    if tb.shaken_attest in ("A", "B"):
        Hop.objects.unscoped(reason="flag downstream attestation").filter(traceback=tb, provider_id=tb.shaken_signer_id).update(attestation_flagged=True)
        _event(tb, "shaken.flag", f"{signer_name} attested {tb.shaken_attest} on a call it did not originate")


def cancel_traceback(*, actor: User, organisation: Organisation, traceback_id: int, reason: str, now: datetime | None = None) -> Traceback:
    _require_consortium(organisation)
    _require_writer(actor)
    if not reason.strip():
        raise TracebackError("give a reason", field="reason")
    now = _now(now)
    with transaction.atomic():
        tb = Traceback.objects.for_org(organisation).select_for_update().filter(id=traceback_id).first()
        if tb is None:
            raise TracebackError("no such traceback", status=404)
        if tb.status != Traceback.Status.IN_PROGRESS:
            raise TracebackError("only a traceback in progress can be cancelled", status=409)
        tb.status = Traceback.Status.CANCELLED
        tb.completed_at = now
        tb.save()
        tb.hops.filter(status__in=OPEN_HOP_STATES).update(status=Hop.Status.CANCELLED)
        _event(tb, "traceback.cancelled", f"cancelled by {actor.email}: {reason}", at=now)
        audit.record(action="traceback.cancelled", actor=actor, obj=tb, data={"reason": reason})
    return tb


# --- evidence ----------------------------------------------------------------------------


def attach_evidence(
    *,
    actor: User | None,
    organisation: Organisation,
    hop_id: int,
    filename: str,
    content: bytes,
    content_type: str = "",
    kind: str = HopEvidence.Kind.OTHER,
    actor_label: str = "",
) -> HopEvidence:
    _require_writer(actor)
    name = Path(filename or "").name
    ext = Path(name).suffix.lower()
    if ext not in conf.EVIDENCE_TYPES:
        raise TracebackError(f"evidence file {name!r}: type {ext or '(none)'} is not accepted; use {', '.join(conf.EVIDENCE_TYPES)}", field="file")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in conf.EVIDENCE_TYPES[ext] and ctype != "application/octet-stream":
        raise TracebackError(f"evidence file {name!r}: content type {ctype} does not match {ext}", field="file")
    if not content:
        raise TracebackError(f"evidence file {name!r} is empty", field="file")
    if len(content) > conf.EVIDENCE_MAX_BYTES:
        raise TracebackError(f"evidence file {name!r} is {len(content)} bytes; the limit is {conf.EVIDENCE_MAX_BYTES}", status=413, field="file")
    if ext in (".txt", ".csv", ".log", ".json"):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TracebackError(f"evidence file {name!r} is not UTF-8 text", field="file") from exc
    if kind not in HopEvidence.Kind.values:
        raise TracebackError(f"kind must be one of {', '.join(HopEvidence.Kind.values)}", field="kind")
    with transaction.atomic():
        hop = Hop.objects.for_org(organisation).filter(id=hop_id).first()
        if hop is None:
            raise TracebackError("no such hop request", status=404)
        if hop.status == Hop.Status.CANCELLED:
            raise TracebackError("this hop was cancelled", status=409)
        digest = hashlib.sha256(content).hexdigest()
        ev = HopEvidence(hop=hop, kind=kind, filename=name[:200], content_type=ctype or "application/octet-stream",
                         size=len(content), sha256=digest, uploaded_by_label=_label(actor, actor_label)[:200])
        ev.file.save(f"{uuid.uuid4().hex}{ext}", ContentFile(content), save=False)
        ev.save()
        _event(hop.traceback, "hop.evidence", f"{hop.provider.name} attached {kind} evidence ({len(content)} bytes)", hop=hop)
        audit.record(action="hop.evidence_attached", actor=actor, actor_org=organisation, actor_label=actor_label, obj=ev,
                     subject_org=hop.provider.organisation, data={"hop": hop.id, "sha256": digest, "size": len(content)})
    return ev
