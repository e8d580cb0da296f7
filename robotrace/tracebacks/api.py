"""Traceback API: providers read and answer their own hop requests (scope traceback:respond);
consortium staff list and open tracebacks; agencies read the tracebacks they are entitled to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.filters import filter_given
from robotrace.core.pagination import page, page_response
from robotrace.core.problems import ApiProblem
from robotrace.tracebacks import queries, services
from robotrace.tracebacks.models import Hop, Traceback

router = Router()

respond_auth = ApiKeyAuth(scope="traceback:respond", kinds=("provider",))
read_auth = ApiKeyAuth(scope="traceback:read", kinds=("consortium", "agency"))
staff_auth = ApiKeyAuth(kinds=("consortium",))


def _refuse(exc: services.TracebackError) -> ApiProblem:
    errors = [{"line": None, "field": exc.field, "reason": exc.message}] if exc.field else None
    titles = {404: "Not found", 409: "Conflict", 403: "Forbidden", 413: "Too large"}
    extra: dict[str, Any] = {"errors": errors} if errors else {}
    return ApiProblem(exc.status, titles.get(exc.status, "Refused"), exc.message, **extra)


def hop_json(hop: Hop) -> dict[str, Any]:
    """A provider's view of its own hop: the call, who named it, its clock and its answer."""
    return {
        "id": hop.id,
        **queries.hop_view(hop),
        "clock_starts_at": hop.clock_starts_at.isoformat(),
        "answer": None if not hop.response else {
            "response": hop.response,
            "upstream": hop.upstream_detail,
            "upstream_provider_id": hop.upstream_provider_id,
            "customer": hop.customer,
            "customer_action": hop.customer_action,
            "no_record_reason": hop.no_record_reason,
            "attestation_seen": hop.attestation_seen,
            "answered_at": hop.answered_at.isoformat() if hop.answered_at else None,
        },
        "evidence": [{"id": e.id, "kind": e.kind, "filename": e.filename, "size": e.size, "sha256": e.sha256} for e in hop.evidence.all()],
    }


def traceback_json(tb: Traceback, *, full: bool = True, chain: list[Hop] | None = None) -> dict[str, Any]:
    """`chain`: the hops in `queries.chain` order when the caller already holds them."""
    out: dict[str, Any] = {
        "id": tb.id,
        "ref": tb.ref,
        "kind": tb.kind,
        "source": tb.source,
        "status": tb.status,
        "outcome": tb.outcome,
        "priority": tb.priority,
        "campaign_id": tb.campaign_id,
        "sample_report_id": tb.sample_report_id,
        "call": {"started_at": tb.call_started_at.isoformat(), "calling_number": tb.calling_number, "called_number": tb.called_number},
        "originating_provider": tb.originating_provider.name if tb.originating_provider else None,
        "originating_provider_id": tb.originating_provider_id,
        "originating_customer": tb.originating_customer,
        "point_of_entry_provider_id": tb.point_of_entry_provider_id,
        "non_responsive_provider_id": tb.non_responsive_provider_id,
        "shaken": {"signer_id": tb.shaken_signer_id, "attest": tb.shaken_attest, "mismatch": tb.shaken_mismatch, "detail": tb.shaken_mismatch_detail},
        "hop_count": tb.hop_count,
        "created_at": tb.created_at.isoformat(),
        "completed_at": tb.completed_at.isoformat() if tb.completed_at else None,
    }
    if full:
        out["hops"] = [
            {"sequence": h.sequence, "provider_id": h.provider_id, "provider": h.provider.name, "status": h.status,
             "response": h.response, "direct_signer_request": h.is_direct_signer_request, "due_at": h.due_at.isoformat(),
             "answered_at": h.answered_at.isoformat() if h.answered_at else None}
            for h in (chain if chain is not None else queries.chain(tb))
        ]
    return out


@router.get("/hops", auth=respond_auth)
def list_hops(request: HttpRequest, status: str = "open", cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    """The calling provider's hop requests (open ones by default; status=all for every one)."""
    org = principal_of(request).organisation
    qs = queries.hops_for_provider(org, open_only=status == "open").prefetch_related("evidence")
    if status not in ("open", "all"):
        if status not in Hop.Status.values:
            raise ApiProblem(422, "Invalid request", f"status must be open, all or one of {', '.join(Hop.Status.values)}")
        qs = qs.filter(status=status)
    rows, nxt = page(qs, cursor, limit)
    return page_response([hop_json(h) for h in rows], nxt)


@router.get("/hops/{hop_id}", auth=respond_auth)
def get_hop(request: HttpRequest, hop_id: int) -> dict[str, Any]:
    hop = queries.own_hop(principal_of(request).organisation, hop_id)
    if hop is None:
        raise ApiProblem(404, "Not found", "no such hop request")
    return hop_json(hop)


class CustomerIn(Schema):
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    account_id: str | None = None
    contact_name: str | None = None
    website: str | None = None
    notes: str | None = None


class ResponseIn(Schema):
    response: str
    upstream_provider_id: int | None = None
    upstream: str = ""
    customer: dict[str, Any] | None = None
    customer_action: str = ""
    no_record_reason: str = ""
    attestation_seen: str = ""
    notes: str = ""


@router.post("/hops/{hop_id}/response", auth=respond_auth)
def respond(request: HttpRequest, hop_id: int, payload: ResponseIn) -> dict[str, Any]:
    """Answer a hop: upstream, originated (customer + action), foreign_upstream, no_record, refused.
    Send an `Idempotency-Key` header to make retries safe."""
    principal = principal_of(request)
    try:
        hop = services.answer_hop(
            actor=principal.user, organisation=principal.organisation, hop_id=hop_id, actor_label=principal.label,
            idempotency_key=request.headers.get("Idempotency-Key", ""), **payload.dict(),
        )
    except services.TracebackError as exc:
        raise _refuse(exc) from exc
    return hop_json(hop)  # answer_hop returns the hop with its traceback, provider and named_by


@router.post("/hops/{hop_id}/evidence", auth=respond_auth)
def upload_evidence(request: HttpRequest, hop_id: int, file: UploadedFile = File(...), kind: str = Form("other")) -> dict[str, Any]:  # noqa: B008
    principal = principal_of(request)
    if queries.own_hop(principal.organisation, hop_id) is None:
        raise ApiProblem(404, "Not found", "no such hop request")
    if file.size and file.size > services.conf.EVIDENCE_MAX_BYTES:
        raise _refuse(services.TracebackError(f"evidence file {file.name!r} is {file.size} bytes; the limit is {services.conf.EVIDENCE_MAX_BYTES}", status=413, field="file"))
    try:
        ev = services.attach_evidence(
            actor=principal.user, organisation=principal.organisation, hop_id=hop_id, filename=file.name or "",
            content=file.read(), content_type=file.content_type or "", kind=kind, actor_label=principal.label,
        )
    except services.TracebackError as exc:
        raise _refuse(exc) from exc
    return {"id": ev.id, "kind": ev.kind, "filename": ev.filename, "size": ev.size, "sha256": ev.sha256}


@router.get("/tracebacks", auth=read_auth)
def list_tracebacks(request: HttpRequest, status: str = "", outcome: str = "", campaign_id: int | None = None,
                    cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    org = principal_of(request).organisation
    qs = filter_given(queries.tracebacks_for(org).select_related("originating_provider"), status=status, outcome=outcome, campaign_id=campaign_id)
    rows, nxt = page(qs, cursor, limit)
    return page_response([traceback_json(t, full=False) for t in rows], nxt)


@router.get("/tracebacks/{tb_id}", auth=read_auth)
def get_traceback(request: HttpRequest, tb_id: int) -> dict[str, Any]:
    tb = queries.tracebacks_for(principal_of(request).organisation).filter(id=tb_id).first()
    if tb is None:
        raise ApiProblem(404, "Not found", "no such traceback")
    return traceback_json(tb)


class OpenIn(Schema):
    report_id: int | None = None
    campaign_id: int | None = None
    samples: int = 1
    callback_number: str = ""
    call_started_at: datetime | None = None
    calling_number: str = ""
    called_number: str = ""
    transcript: str = ""
    priority: str = "normal"


@router.post("/tracebacks", auth=staff_auth)
def open_tracebacks(request: HttpRequest, payload: OpenIn) -> dict[str, Any]:
    """Open tracebacks: from a report, a campaign (N samples), a callback number (trace-forward)
    or a sample call given in full."""
    principal = principal_of(request)
    kw: dict[str, Any] = {"actor": principal.user, "organisation": principal.organisation, "actor_label": principal.label}
    try:
        if payload.callback_number:
            tbs = [services.open_trace_forward(callback_number=payload.callback_number, report_id=payload.report_id, campaign_id=payload.campaign_id, **kw)]
        elif payload.report_id:
            tbs = [services.open_traceback(report_id=payload.report_id, priority=payload.priority, **kw)]
        elif payload.campaign_id:
            tbs = services.open_from_campaign(campaign_id=payload.campaign_id, samples=payload.samples, **kw)
        elif payload.call_started_at and payload.called_number:
            if payload.call_started_at.tzinfo is None:
                raise services.TracebackError("call_started_at needs a UTC offset", field="call_started_at")
            sample = services.SampleCall(call_started_at=payload.call_started_at, calling_number=payload.calling_number,
                                         called_number=payload.called_number, transcript=payload.transcript)
            tbs = [services.open_traceback(sample=sample, priority=payload.priority, **kw)]
        else:
            raise services.TracebackError("give report_id, campaign_id, callback_number, or call_started_at + called_number", field="report_id")
    except services.TracebackError as exc:
        raise _refuse(exc) from exc
    # Just opened: the hops services.open_traceback created are in hand, no need to read them back.
    return {"items": [traceback_json(t, chain=getattr(t, "opened_chain", None)) for t in tbs]}
