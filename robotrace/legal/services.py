"""Writes (one transaction each, with audit events) for the legal app.

Every function takes the acting user (None for API keys and system work) and the acting
organisation, checks that this organisation may do it, and records an audit event in the
same transaction as the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from robotrace.accounts import queries as accounts
from robotrace.accounts.roles import require_can_write
from robotrace.audit import services as audit
from robotrace.campaigns import queries as campaign_queries
from robotrace.core import phones
from robotrace.legal import conf
from robotrace.legal.models import (
    EvidencePackage,
    LegalDocument,
    LegalMessage,
    LegalRequest,
    LegalTarget,
    PreservationHold,
    Production,
)
from robotrace.legal.uploads import CheckedPdf, store_bytes
from robotrace.outbox import services as outbox

if TYPE_CHECKING:
    from robotrace.accounts.models import ApiKey, Organisation, User

S = LegalRequest.Status


class LegalError(ValueError):
    """Refused input or action. `errors` name the field (and line) at fault."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, status: int = 400):
        super().__init__(message)
        self.errors = errors or []
        self.status = status


class NotAllowed(LegalError):
    def __init__(self, message: str):
        super().__init__(message, status=403)


# Which review states may follow which. Anything else is refused.
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.IN_REVIEW, S.CLARIFICATION, S.NARROWED, S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
    S.IN_REVIEW: {S.CLARIFICATION, S.NARROWED, S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
    S.CLARIFICATION: {S.IN_REVIEW, S.NARROWED, S.ACCEPTED, S.REJECTED, S.WITHDRAWN},
    S.NARROWED: {S.ACCEPTED, S.REJECTED, S.WITHDRAWN, S.PRODUCED},
    S.ACCEPTED: {S.PRODUCED, S.WITHDRAWN},
    S.PRODUCED: {S.PRODUCED},  # a supplementary production
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
}

SAME_APPROVER = "an emergency disclosure needs a second approval from a different person"

DECISIONS = {"accept": S.ACCEPTED, "clarify": S.CLARIFICATION, "narrow": S.NARROWED, "reject": S.REJECTED}


def _require_consortium(org: Organisation, actor: User | None = None) -> None:
    if not org.is_consortium:
        raise NotAllowed("only consortium staff may do this")
    if actor is not None and not actor.can_write:
        raise NotAllowed("read-only users cannot change legal requests")


def _require_own_agency(org: Organisation, req: LegalRequest) -> None:
    if not (org.is_agency and req.agency_id == org.id):
        raise NotAllowed("only the requesting agency may do this")


def _link(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _notify(emails: list[str], subject: str, link: str, *, organisation_id: int | None = None, about: Any = None) -> None:
    """E-mail carries only that something happened and a link; the content stays behind login.
    Written to the outbox in the caller's transaction (`organisation_id`: the recipients'
    organisation, None for consortium staff), sent after its commit and retried until delivered."""
    body = f"{subject}\n\nSign in to read it: {link}\n\nThis message contains no case details by design."
    outbox.email(topic="legal.notice", organisation_id=organisation_id, to=emails, subject=subject, body=body, about=about)


def _consortium_emails(req: LegalRequest) -> list[str]:
    if req.assigned_to_id:
        return [req.assigned_to.email]  # type: ignore[union-attr]  # the id is set, so the row is there
    return accounts.admin_emails_of_kind("consortium")


def _agency_emails(req: LegalRequest) -> list[str]:
    if req.filed_by_id:
        return [req.filed_by.email]  # type: ignore[union-attr]  # the id is set, so the row is there
    return accounts.member_emails(req.agency_id, admins_only=True)


# --- intake -------------------------------------------------------------------------------------

_KIND_ALIASES = {"c": "campaign", "tb": "traceback", "p": "provider"}


def parse_targets_text(text: str) -> list[dict[str, Any]]:
    """One target per line: `+1 919 555 0100`, `C-12`, `TB-000034`, `P-7`, or `phone 919…`,
    each optionally followed by a date range `2026-01-01..2026-03-31`. Errors name the line."""
    out: list[dict[str, Any]] = []
    for lineno, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        date_from = date_to = None
        m = re.search(r"\s+(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to)\s*(\d{4}-\d{2}-\d{2})$", line)
        if m:
            date_from, date_to = m.group(1), m.group(2)
            line = line[: m.start()].strip()
        kind = None
        km = re.match(r"^(phone|campaign|traceback|provider)\s*[:\s]\s*(.+)$", line, re.IGNORECASE)
        if km:
            kind, value = km.group(1).lower(), km.group(2).strip()
        else:
            pm = re.match(r"^(C|TB|P)-?(\d+)$", line, re.IGNORECASE)
            if pm:
                kind, value = _KIND_ALIASES[pm.group(1).lower()], pm.group(2)
            else:
                kind, value = "phone", line
        out.append({"kind": kind, "value": value, "date_from": date_from, "date_to": date_to, "line": lineno})
    return out


def _parse_date(value: Any, *, field: str, line: int | None = None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise LegalError(f"{field}: {value!r} is not a date (YYYY-MM-DD)", errors=[{"line": line, "field": field, "reason": "not a date (YYYY-MM-DD)"}]) from exc


def _clean_targets(targets: list[dict[str, Any]]) -> list[LegalTarget]:
    cleaned: list[LegalTarget] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, t in enumerate(targets, start=1):
        line = t.get("line", index)
        kind = str(t.get("kind") or "phone").lower()
        value = str(t.get("value") or "").strip()
        target = LegalTarget(kind=kind)
        try:
            target.date_from = _parse_date(t.get("date_from"), field="date_from", line=line)
            target.date_to = _parse_date(t.get("date_to"), field="date_to", line=line)
        except LegalError as exc:
            errors.extend(exc.errors)
            continue
        if target.date_from and target.date_to and target.date_from > target.date_to:
            errors.append({"line": line, "field": "date_to", "reason": "the range ends before it starts"})
            continue
        if kind == LegalTarget.Kind.PHONE:
            try:
                target.phone_e164 = phones.parse(value)
            except phones.BadNumber as exc:
                errors.append({"line": line, "field": "phone", "reason": str(exc)})
                continue
        elif kind in (LegalTarget.Kind.CAMPAIGN, LegalTarget.Kind.TRACEBACK, LegalTarget.Kind.PROVIDER):
            digits = re.sub(r"^(C|TB|P)-?", "", value, flags=re.IGNORECASE).lstrip("0") or "0"
            if not digits.isdigit() or int(digits) <= 0:
                errors.append({"line": line, "field": kind, "reason": f"{value!r} is not a {kind} id"})
                continue
            setattr(target, f"{kind}_id", int(digits))
        else:
            errors.append({"line": line, "field": "kind", "reason": f"unknown target kind {kind!r} (phone, campaign, traceback, provider)"})
            continue
        if target.key in seen:
            continue  # the same target twice adds nothing
        seen.add(target.key)
        cleaned.append(target)
    if errors:
        raise LegalError("some targets are invalid", errors=errors)
    if not cleaned:
        raise LegalError("name at least one target", errors=[{"line": None, "field": "targets", "reason": "at least one target is required"}])
    return cleaned


def normalise_case_number(case_number: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", case_number.upper())


def _due_at(due: date, org: Organisation) -> datetime:
    """The end of the due day in the agency's own time zone."""
    try:
        tz = ZoneInfo(org.timezone or "America/New_York")
    except Exception:
        tz = ZoneInfo("America/New_York")
    return datetime.combine(due, time(23, 59, 59), tzinfo=tz)


@dataclass
class NewRequest:
    type: str
    issuing_authority: str
    legal_basis: str
    case_number: str
    date_signed: Any
    due_date: Any
    targets: list[dict[str, Any]]
    ndo: bool = False
    ndo_ends_on: Any = None
    records_from: Any = None
    records_to: Any = None
    description: str = ""


def _validate(data: NewRequest) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []

    def err(field: str, reason: str) -> None:
        errors.append({"line": None, "field": field, "reason": reason})

    if data.type not in LegalRequest.Type.values:
        err("type", f"must be one of {', '.join(LegalRequest.Type.values)}")
    for f, n in (("issuing_authority", 200), ("legal_basis", 300), ("case_number", 80)):
        v = (getattr(data, f) or "").strip()
        if not v:
            err(f, "required")
        elif len(v) > n:
            err(f, f"at most {n} characters")
    dates: dict[str, date | None] = {}
    for f in ("date_signed", "due_date", "ndo_ends_on", "records_from", "records_to"):
        try:
            dates[f] = _parse_date(getattr(data, f), field=f)
        except LegalError as exc:
            errors.extend(exc.errors)
            dates[f] = None
    today = timezone.localdate()
    signed, due, ndo_ends, records_from, records_to = (dates[f] for f in ("date_signed", "due_date", "ndo_ends_on", "records_from", "records_to"))
    if signed is None and not any(e["field"] == "date_signed" for e in errors):
        err("date_signed", "required")
    elif signed and signed > today:
        err("date_signed", "cannot be in the future")
    if due is None and not any(e["field"] == "due_date" for e in errors):
        err("due_date", "required")
    elif due and signed and due < signed:
        err("due_date", "is before the date the process was signed")
    if data.ndo and ndo_ends and ndo_ends < today:
        err("ndo_ends_on", "the non-disclosure order has already ended")
    if records_from and records_to and records_from > records_to:
        err("records_to", "the records range ends before it starts")
    targets: list[LegalTarget] = []
    try:
        targets = _clean_targets(data.targets)
    except LegalError as exc:
        errors.extend(exc.errors)
    if errors:
        raise LegalError("the request has errors", errors=errors)
    return {"dates": dates, "targets": targets}


def find_duplicates(*, agency: Organisation, case_number_key: str, target_keys: set[str], exclude_id: int | None = None) -> tuple[LegalRequest | None, list[int]]:
    """(likely duplicate: same agency, case number and targets; other requests sharing a target)."""
    qs = LegalRequest.objects.for_org(agency).exclude(status=S.WITHDRAWN)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    duplicate = None
    for other in qs.filter(case_number_key=case_number_key).order_by("created_at", "id").prefetch_related("targets"):
        if {t.key for t in other.targets.all()} == target_keys:
            duplicate = other
            break
    # Related: any request (of any agency; only staff see these links) naming a same target.
    related_q = Q()
    for key in target_keys:
        kind, raw = key.split(":", 1)
        field = {"phone": "phone_e164", "campaign": "campaign_id", "traceback": "traceback_id", "provider": "provider_id"}[kind]
        related_q |= Q(kind=kind, **{field: raw})
    related: list[int] = []
    if related_q:
        ids = LegalTarget.objects.unscoped(reason="duplicate search across agencies (staff view only)").filter(related_q)
        if exclude_id:
            ids = ids.exclude(request_id=exclude_id)
        related = sorted(set(ids.values_list("request_id", flat=True)))
    return duplicate, related


def file_request(
    *,
    actor: User | None,
    organisation: Organisation,
    data: NewRequest,
    document: CheckedPdf | None = None,
    api_key: ApiKey | None = None,
    http_request: Any = None,
) -> LegalRequest:
    if not organisation.is_agency:
        raise NotAllowed("only agencies file legal requests")
    if organisation.status != "active":
        raise NotAllowed("this agency is not active (pending verification or suspended)")
    if actor is not None and (actor.organisation_id != organisation.id or actor.approval != "approved" or not actor.can_write):
        raise NotAllowed("only approved agency users with write access may file requests")
    clean = _validate(data)
    dates, targets = clean["dates"], clean["targets"]
    key = normalise_case_number(data.case_number)
    stored: list[str] = []
    try:
        req = _file_request(actor=actor, organisation=organisation, data=data, dates=dates, targets=targets, key=key, document=document, api_key=api_key, http_request=http_request, stored=stored)
    except Exception:
        # Nothing half-written: a stored PDF goes when its rows do not commit.
        from robotrace.legal.uploads import full_path

        for path in stored:
            full_path(path).unlink(missing_ok=True)
        raise
    return req


def _file_request(
    *, actor: User | None, organisation: Organisation, data: NewRequest, dates: dict[str, Any], targets: list[LegalTarget],
    key: str, document: CheckedPdf | None, api_key: ApiKey | None, http_request: Any, stored: list[str],
) -> LegalRequest:
    with transaction.atomic():
        req = LegalRequest.objects.create(
            agency=organisation,
            filed_by=actor,
            filed_via_key=api_key,
            type=data.type,
            issuing_authority=data.issuing_authority.strip(),
            legal_basis=data.legal_basis.strip(),
            case_number=data.case_number.strip(),
            case_number_key=key,
            date_signed=dates["date_signed"],
            due_date=dates["due_date"],
            due_at=_due_at(dates["due_date"], organisation),
            ndo=bool(data.ndo),
            ndo_ends_on=dates["ndo_ends_on"] if data.ndo else None,
            records_from=dates["records_from"],
            records_to=dates["records_to"],
            description=(data.description or "").strip(),
            priority=LegalRequest.Priority.EMERGENCY if data.type == LegalRequest.Type.EMERGENCY else LegalRequest.Priority.NORMAL,
        )
        for t in targets:
            t.request = req
        LegalTarget.objects.bulk_create(targets)
        duplicate, related = find_duplicates(
            agency=organisation, case_number_key=key, target_keys={t.key for t in targets}, exclude_id=req.pk
        )
        req.duplicate_of = duplicate
        req.related_request_ids = related
        req.save(update_fields=["duplicate_of", "related_request_ids"])
        audit.record(
            action="legal.request.filed",
            actor=actor,
            actor_org=organisation,
            actor_label="" if actor else (f"api-key:{api_key.prefix}" if api_key else ""),
            obj=req,
            subject_org=organisation,
            data={"type": req.type, "case_number": req.case_number, "targets": len(targets), "duplicate_of": duplicate.pk if duplicate else None},
            request=http_request,
        )
        if document is not None:
            doc = attach_document(actor=actor, organisation=organisation, request=req, checked=document, api_key=api_key)
            stored.append(doc.stored_name)
        if req.type == LegalRequest.Type.PRESERVATION:
            _create_holds(actor=actor, req=req, targets=targets)
        _notify(
            _consortium_emails(req),
            f"New legal request {req.ref}" + (" (EMERGENCY)" if req.is_emergency else ""),
            _link("legal:detail", req.pk),
            about=req,
        )
    return req


def attach_document(
    *, actor: User | None, organisation: Organisation, request: LegalRequest, checked: CheckedPdf, api_key: ApiKey | None = None
) -> LegalDocument:
    _require_own_agency(organisation, request)
    require_can_write(actor, NotAllowed)
    if not request.is_open:
        raise LegalError(f"{request.ref} is {request.get_status_display().lower()}; documents can no longer be added", status=409)
    with transaction.atomic():
        stored = store_bytes(checked.data, suffix=".pdf")
        try:
            doc = LegalDocument.objects.create(
                request=request,
                stored_name=stored,
                original_name=checked.original_name,
                size=checked.size,
                sha256=checked.sha256,
                pages=checked.pages,
                uploaded_by=actor,
            )
            audit.record(
                action="legal.document.uploaded",
                actor=actor,
                actor_org=organisation,
                actor_label="" if actor else (f"api-key:{api_key.prefix}" if api_key else ""),
                obj=doc,
                subject_org=request.agency,
                data={"request": request.pk, "sha256": checked.sha256, "size": checked.size, "name": checked.original_name},
            )
        except Exception:
            # Nothing half-written: the file goes if the row does not commit.
            from robotrace.legal.uploads import full_path

            full_path(stored).unlink(missing_ok=True)
            raise
    return doc


# --- messages -----------------------------------------------------------------------------------


def post_message(*, actor: User | None, organisation: Organisation, request: LegalRequest, body: str, api_key: ApiKey | None = None) -> LegalMessage:
    require_can_write(actor, NotAllowed)
    body = (body or "").strip()
    if not body:
        raise LegalError("the message is empty", errors=[{"line": None, "field": "body", "reason": "required"}])
    if len(body) > 10_000:
        raise LegalError("the message is too long", errors=[{"line": None, "field": "body", "reason": "at most 10000 characters"}])
    if organisation.is_consortium:
        _require_consortium(organisation, actor)
        role = LegalMessage.Role.CONSORTIUM
    else:
        _require_own_agency(organisation, request)
        role = LegalMessage.Role.AGENCY
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        msg = LegalMessage.objects.create(
            request=req,
            author=actor,
            author_label=actor.get_full_name() or actor.email if actor else (f"{organisation.name} (API)"),
            author_role=role,
            body=body,
        )
        audit.record(action="legal.message.posted", actor=actor, actor_org=organisation, obj=msg, subject_org=req.agency, data={"request": req.pk, "role": role})
        if role == LegalMessage.Role.AGENCY and req.status == S.CLARIFICATION:
            # The agency's answer puts the request back in front of the reviewer.
            _set_status(req, S.IN_REVIEW, actor=actor, organisation=organisation, note="agency replied to the clarification request")
        link = _link("legal:detail", req.pk)
        if role == LegalMessage.Role.AGENCY:
            _notify(_consortium_emails(req), f"New message on legal request {req.ref}", link, about=req)
        else:
            _notify(_agency_emails(req), f"You have a new message about your legal request {req.ref}", link, organisation_id=req.agency_id, about=req)
    request.refresh_from_db()
    return msg


# --- review -------------------------------------------------------------------------------------


def _set_status(req: LegalRequest, to: str, *, actor: User | None, organisation: Organisation, note: str = "") -> None:
    if to not in TRANSITIONS.get(req.status, set()):
        raise LegalError(
            f"{req.ref} cannot go from {req.get_status_display().lower()} to {LegalRequest.Status(to).label.lower()}",
            status=409,
        )
    before = req.status
    req.status = to
    if to in (S.ACCEPTED, S.NARROWED, S.REJECTED, S.CLARIFICATION):
        req.decided_by = actor
        req.decided_at = timezone.now()
    if to == S.PRODUCED and req.produced_at is None:
        req.produced_at = timezone.now()
    if not req.is_open:
        req.due_state = LegalRequest.DueState.ON_TIME
    req.save()
    audit.record(
        action="legal.request.status",
        actor=actor,
        actor_org=organisation,
        obj=req,
        subject_org=req.agency,
        data={"from": before, "to": to, "note": note[:500]},
    )


def assign(*, actor: User, organisation: Organisation, request: LegalRequest, assignee: User | None) -> LegalRequest:
    _require_consortium(organisation, actor)
    if assignee is not None and (assignee.organisation_id != organisation.id or not assignee.can_write):
        raise LegalError("requests can only be assigned to consortium staff with write access", errors=[{"line": None, "field": "assignee", "reason": "not consortium staff"}])
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        req.assigned_to = assignee
        req.save(update_fields=["assigned_to", "updated_at"])
        audit.record(action="legal.request.assigned", actor=actor, obj=req, subject_org=req.agency, data={"assignee": assignee.email if assignee else None})
        if req.status == S.RECEIVED and assignee is not None:
            _set_status(req, S.IN_REVIEW, actor=actor, organisation=organisation, note="assigned for review")
    return req


def decide(
    *,
    actor: User,
    organisation: Organisation,
    request: LegalRequest,
    decision: str,
    note: str = "",
    target_decisions: dict[int, str] | None = None,
) -> LegalRequest:
    """accept / clarify / narrow (with a note) / reject (with a reason).

    An emergency disclosure is accepted only when a second, different person approves it;
    the first acceptance records the first approval and leaves the request in review."""
    _require_consortium(organisation, actor)
    if decision not in DECISIONS:
        raise LegalError(f"unknown decision {decision!r}", errors=[{"line": None, "field": "decision", "reason": "accept, clarify, narrow or reject"}])
    note = (note or "").strip()
    if decision in ("narrow", "reject", "clarify") and not note:
        what = {"narrow": "what was narrowed and why", "reject": "the reason for rejection", "clarify": "what needs clarifying"}[decision]
        raise LegalError(f"say {what}", errors=[{"line": None, "field": "note", "reason": f"required: {what}"}])
    approvals = LegalRequest.objects.for_org(organisation).filter(pk=request.pk).values("first_approved_by_id", "second_approved_by_id").first() or {}
    if decision == "accept" and request.is_emergency and approvals.get("first_approved_by_id") == actor.pk and approvals.get("second_approved_by_id") is None:
        # Audited in its own transaction: the refusal must survive the exception.
        with transaction.atomic():
            audit.record(action="legal.emergency.second_approval", outcome="denied", actor=actor, obj=request, subject_org=request.agency, data={"reason": "same person as the first approval"})
        raise NotAllowed(SAME_APPROVER)
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        to = DECISIONS[decision]
        if to not in TRANSITIONS.get(req.status, set()):
            raise LegalError(f"{req.ref} cannot go from {req.get_status_display().lower()} to {to.label.lower()}", status=409)
        if target_decisions:
            _apply_target_decisions(req, target_decisions, actor=actor)
        if decision == "accept":
            # Targets nobody ruled on are produced when the request is accepted as a whole.
            req.targets.filter(decision=LegalTarget.Decision.PENDING).update(decision=LegalTarget.Decision.PRODUCE)
            if req.is_emergency:
                if req.first_approved_by_id is None:
                    req.first_approved_by = actor
                    req.first_approved_at = timezone.now()
                    req.save(update_fields=["first_approved_by", "first_approved_at", "updated_at"])
                    audit.record(action="legal.emergency.first_approval", actor=actor, obj=req, subject_org=req.agency, data={"note": note[:500]})
                    if req.status == S.RECEIVED:
                        _set_status(req, S.IN_REVIEW, actor=actor, organisation=organisation, note="first emergency approval")
                    return req
                if req.first_approved_by_id == actor.pk:
                    raise NotAllowed(SAME_APPROVER)
                req.second_approved_by = actor
                req.second_approved_at = timezone.now()
                audit.record(action="legal.emergency.second_approval", actor=actor, obj=req, subject_org=req.agency, data={"first": req.first_approved_by_id})
        if decision == "narrow" and not target_decisions:
            req.targets.filter(decision=LegalTarget.Decision.PENDING).update(decision=LegalTarget.Decision.PRODUCE)
        if decision == "reject":
            req.targets.update(decision=LegalTarget.Decision.DO_NOT_PRODUCE)
        req.decision_note = note
        _set_status(req, to, actor=actor, organisation=organisation, note=note)
        link = _link("legal:detail", req.pk)
        _notify(_agency_emails(req), f"Your legal request {req.ref} was updated", link, organisation_id=req.agency_id, about=req)
    return req


def _apply_target_decisions(req: LegalRequest, decisions: dict[int, str], *, actor: User) -> None:
    valid = {LegalTarget.Decision.PRODUCE, LegalTarget.Decision.DO_NOT_PRODUCE, LegalTarget.Decision.PENDING}
    targets = {t.pk: t for t in req.targets.all()}
    for tid, value in decisions.items():
        if tid not in targets:
            raise LegalError(f"target {tid} is not part of {req.ref}", errors=[{"line": None, "field": f"target_{tid}", "reason": "not in this request"}])
        if value not in valid:
            raise LegalError(f"target {tid}: {value!r} is not a decision", errors=[{"line": None, "field": f"target_{tid}", "reason": "produce or do_not_produce"}])
        t = targets[tid]
        if t.decision != value:
            t.decision = value
            t.save(update_fields=["decision"])
    audit.record(action="legal.targets.decided", actor=actor, obj=req, subject_org=req.agency, data={"decisions": {str(k): v for k, v in sorted(decisions.items())}})


def set_target_decisions(*, actor: User, organisation: Organisation, request: LegalRequest, decisions: dict[int, str]) -> LegalRequest:
    _require_consortium(organisation, actor)
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        if not req.is_open and req.status != S.PRODUCED:
            raise LegalError(f"{req.ref} is closed", status=409)
        _apply_target_decisions(req, decisions, actor=actor)
    return req


def withdraw(*, actor: User | None, organisation: Organisation, request: LegalRequest, reason: str = "") -> LegalRequest:
    _require_own_agency(organisation, request)
    require_can_write(actor, NotAllowed)
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        _set_status(req, S.WITHDRAWN, actor=actor, organisation=organisation, note=reason or "withdrawn by the agency")
        _notify(_consortium_emails(req), f"Legal request {req.ref} was withdrawn", _link("legal:detail", req.pk), about=req)
    return req


# --- preservation holds -------------------------------------------------------------------------


def _create_holds(*, actor: User | None, req: LegalRequest, targets: list[LegalTarget]) -> list[PreservationHold]:
    expires = timezone.now() + timedelta(days=conf.PRESERVATION_DAYS)
    holds = []
    for t in targets:
        object_key = t.phone_e164 if t.kind == "phone" else str(getattr(t, f"{t.kind}_id"))
        holds.append(
            PreservationHold.objects.create(
                agency=req.agency, request=req, kind=t.kind, object_key=object_key,
                date_from=t.date_from or req.records_from, date_to=t.date_to or req.records_to, expires_at=expires,
            )
        )
    audit.record(action="legal.hold.created", actor=actor, actor_org=req.agency, obj=req, subject_org=req.agency, data={"holds": len(holds), "expires_at": expires.isoformat()})
    return holds


def renew_hold(*, actor: User | None, organisation: Organisation, hold: PreservationHold) -> PreservationHold:
    if not (organisation.is_consortium or (organisation.is_agency and hold.agency_id == organisation.id)):
        raise NotAllowed("only the requesting agency or staff may renew a hold")
    require_can_write(actor, NotAllowed)
    with transaction.atomic():
        h = PreservationHold.objects.for_org(organisation).select_for_update().get(pk=hold.pk)
        if h.released_at is not None:
            raise LegalError("a released hold cannot be renewed", status=409)
        base = max(h.expires_at, timezone.now())
        h.expires_at = base + timedelta(days=conf.PRESERVATION_DAYS)
        h.renewals += 1
        h.reminded_at = None
        h.save()
        audit.record(action="legal.hold.renewed", actor=actor, actor_org=organisation, obj=h, subject_org=h.agency, data={"expires_at": h.expires_at.isoformat(), "renewals": h.renewals})
    return h


def release_hold(*, actor: User, organisation: Organisation, hold: PreservationHold, reason: str) -> PreservationHold:
    _require_consortium(organisation, actor)
    if not (reason or "").strip():
        raise LegalError("say why the hold is released", errors=[{"line": None, "field": "reason", "reason": "required"}])
    with transaction.atomic():
        h = PreservationHold.objects.for_org(organisation).select_for_update().get(pk=hold.pk)
        h.released_at = timezone.now()
        h.released_by = actor
        h.save()
        audit.record(action="legal.hold.released", actor=actor, obj=h, subject_org=h.agency, data={"reason": reason[:500]})
    return h


# --- productions --------------------------------------------------------------------------------


def create_production(*, actor: User, organisation: Organisation, request: LegalRequest) -> Production:
    """Assemble the response zip from platform data for the targets marked produce."""
    from robotrace.legal.production import assemble

    _require_consortium(organisation, actor)
    with transaction.atomic():
        req = LegalRequest.objects.for_org(organisation).select_for_update().get(pk=request.pk)
        if req.status not in (S.ACCEPTED, S.NARROWED, S.PRODUCED):
            raise LegalError(f"{req.ref} must be accepted or narrowed before it is produced", status=409)
        targets = list(req.targets.filter(decision=LegalTarget.Decision.PRODUCE).order_by("id"))
        if not targets:
            raise LegalError(f"{req.ref} has no target marked produce", status=409)
        built = assemble(req, targets, prepared_by=f"{actor.get_full_name() or actor.email}, {organisation.name}")
        path = store_bytes(built.data, suffix=".zip", subdir="productions")
        try:
            prod = Production.objects.create(
                request=req,
                zip_path=path,
                size=len(built.data),
                sha256=built.sha256,
                manifest=built.manifest,
                traceback_ids=built.traceback_ids,
                campaign_ids=built.campaign_ids,
                created_by=actor,
                expires_at=timezone.now() + timedelta(days=conf.PRODUCTION_TTL_DAYS),
            )
            audit.record(action="legal.production.created", actor=actor, obj=prod, subject_org=req.agency, data={"request": req.pk, "sha256": built.sha256, "files": built.manifest.get("files", {})})
            _set_status(req, S.PRODUCED, actor=actor, organisation=organisation, note=f"production {prod.ref}")
        except Exception:
            from robotrace.legal.uploads import full_path

            full_path(path).unlink(missing_ok=True)
            raise
        _notify(_agency_emails(req), f"A production is ready for your legal request {req.ref}", _link("legal:detail", req.pk),
                organisation_id=req.agency_id, about=req)
    return prod


class Gone(LegalError):
    def __init__(self, message: str):
        super().__init__(message, status=410)


def record_download(*, actor: User, organisation: Organisation, production: Production, http_request: Any = None) -> Production:
    """Count and audit one download; refuse an expired link with Gone."""
    expired = None
    with transaction.atomic():
        prod = Production.objects.for_org(organisation).select_for_update().get(pk=production.pk)
        if prod.is_expired or prod.purged_at is not None or not prod.zip_path:
            # The refusal is recorded and committed; the caller answers 410.
            audit.record(action="legal.production.download", outcome="denied", actor=actor, obj=prod, subject_org=prod.request.agency, data={"reason": "expired"}, request=http_request)
            expired = prod
    if expired is not None:
        raise Gone(f"{expired.ref} expired on {expired.expires_at:%Y-%m-%d}; ask the consortium for a new production")
    with transaction.atomic():
        prod = Production.objects.for_org(organisation).select_for_update().get(pk=production.pk)
        prod.download_count += 1
        prod.last_downloaded_at = timezone.now()
        prod.save(update_fields=["download_count", "last_downloaded_at"])
        audit.record(action="legal.production.download", actor=actor, obj=prod, subject_org=prod.request.agency, data={"sha256": prod.sha256, "count": prod.download_count}, request=http_request)
    return prod


# --- evidence packages --------------------------------------------------------------------------


def start_evidence_package(
    *,
    actor: User,
    organisation: Organisation,
    campaign_id: int | None,
    traceback_ids: list[int] | None = None,
    produced_to: Organisation | None = None,
    request: LegalRequest | None = None,
    title: str = "",
) -> EvidencePackage:
    _require_consortium(organisation, actor)
    traceback_ids = sorted({int(i) for i in (traceback_ids or [])})
    if not campaign_id and not traceback_ids:
        raise LegalError("choose a campaign or tracebacks", errors=[{"line": None, "field": "campaign", "reason": "required"}])
    if campaign_id:
        campaign = campaign_queries.campaign(organisation, campaign_id)
        if campaign is None:
            raise LegalError(f"campaign C-{campaign_id} does not exist", errors=[{"line": None, "field": "campaign", "reason": "no such campaign"}])
        title = title or f"Evidence package: {campaign.ref} {campaign.name}"
    else:
        title = title or f"Evidence package: {len(traceback_ids)} tracebacks"
    if produced_to is not None and not produced_to.is_agency:
        raise LegalError("packages are produced to agencies", errors=[{"line": None, "field": "produced_to", "reason": "not an agency"}])
    if request is not None and produced_to is not None and request.agency_id != produced_to.id:
        raise LegalError("the package must go to the agency that filed the request", errors=[{"line": None, "field": "produced_to", "reason": "differs from the request's agency"}])
    if request is not None and produced_to is None:
        produced_to = request.agency
    with transaction.atomic():
        pkg = EvidencePackage.objects.create(
            title=title[:200], campaign_id=campaign_id or None, traceback_ids=traceback_ids,
            produced_to=produced_to, request=request, created_by=actor,
        )
        audit.record(action="legal.evidence.requested", actor=actor, obj=pkg, subject_org=produced_to, data={"campaign": campaign_id, "tracebacks": traceback_ids})

        def _enqueue() -> None:
            from robotrace.legal.tasks import build_evidence_package_task

            build_evidence_package_task(pkg.pk)

        transaction.on_commit(_enqueue)
    return pkg


def build_evidence_package(package_id: int) -> EvidencePackage:
    """Build the zip (system work, run by the Huey task). Progress is written as it goes,
    outside the final transaction, so the page polling it sees each step."""
    from robotrace.legal.evidence import build

    qs = EvidencePackage.objects.unscoped(reason="evidence package builder")
    # Claim the row: only one worker builds a package.
    claimed = qs.filter(pk=package_id, status__in=[EvidencePackage.Status.QUEUED, EvidencePackage.Status.FAILED]).update(
        status=EvidencePackage.Status.RUNNING, progress=1, step="Starting", error=""
    )
    pkg = qs.get(pk=package_id)
    if not claimed:
        return pkg

    def progress(pct: int, step: str) -> None:
        qs.filter(pk=package_id).update(progress=max(1, min(99, pct)), step=step[:120])

    try:
        built = build(campaign_id=pkg.campaign_id, traceback_ids=list(pkg.traceback_ids), progress=progress)
    except Exception as exc:
        qs.filter(pk=package_id).update(status=EvidencePackage.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], step="Failed")
        with transaction.atomic():
            audit.record(action="legal.evidence.failed", actor_label="system", object_type="legal.evidencepackage", object_id=package_id, outcome="failure", data={"error": str(exc)[:500]})
        raise
    path = store_bytes(built.data, suffix=".zip", subdir="evidence")
    with transaction.atomic():
        pkg = qs.select_for_update().get(pk=package_id)
        pkg.zip_path = path
        pkg.size = len(built.data)
        pkg.sha256 = built.sha256
        pkg.manifest = built.manifest
        pkg.included_traceback_ids = built.traceback_ids
        pkg.status = EvidencePackage.Status.DONE
        pkg.progress = 100
        pkg.step = "Ready"
        pkg.finished_at = timezone.now()
        pkg.save()
        audit.record(action="legal.evidence.built", actor_label="system", obj=pkg, subject_org=pkg.produced_to, data={"sha256": built.sha256, "files": built.manifest.get("files", {})})
        if pkg.produced_to_id:
            emails = accounts.member_emails(pkg.produced_to_id)
            _notify(emails, "An evidence package is ready for your agency", _link("legal:evidence_detail", pkg.pk),
                    organisation_id=pkg.produced_to_id, about=pkg)
    return pkg


def record_package_download(*, actor: User, organisation: Organisation, package: EvidencePackage, http_request: Any = None) -> EvidencePackage:
    with transaction.atomic():
        pkg = EvidencePackage.objects.for_org(organisation).select_for_update().get(pk=package.pk)
        if pkg.status != EvidencePackage.Status.DONE or not pkg.zip_path:
            raise LegalError(f"{pkg.ref} is not ready", status=409)
        pkg.download_count += 1
        pkg.save(update_fields=["download_count"])
        audit.record(action="legal.evidence.download", actor=actor, obj=pkg, subject_org=pkg.produced_to, data={"sha256": pkg.sha256}, request=http_request)
    return pkg


# --- sweeps -------------------------------------------------------------------------------------

OPEN_STATES = [S.RECEIVED, S.IN_REVIEW, S.CLARIFICATION, S.NARROWED, S.ACCEPTED]


def sweep_due(*, now: datetime | None = None) -> dict[str, int]:
    """Mark open requests due soon / overdue. Each row is claimed with a conditional UPDATE,
    so two sweepers never both audit (or e-mail about) the same change."""
    now = now or timezone.now()
    soon = now + timedelta(hours=conf.DUE_SOON_HOURS)
    qs = LegalRequest.objects.unscoped(reason="due-date sweeper")
    counts = {"overdue": 0, "due_soon": 0}
    for state, cond in (
        (LegalRequest.DueState.OVERDUE, Q(due_at__lte=now)),
        (LegalRequest.DueState.DUE_SOON, Q(due_at__gt=now, due_at__lte=soon)),
    ):
        candidates = list(qs.filter(cond, status__in=OPEN_STATES).exclude(due_state=state).values_list("pk", "due_state"))
        for pk, previous in candidates:
            with transaction.atomic():
                changed = qs.filter(pk=pk, due_state=previous, status__in=OPEN_STATES).update(due_state=state)
                if changed != 1:
                    continue  # another sweeper got there first
                req = qs.select_related("agency", "assigned_to").get(pk=pk)
                audit.record(action=f"legal.request.{state}", actor_label="system", obj=req, subject_org=req.agency, data={"due_at": req.due_at.isoformat()})
                _notify(_consortium_emails(req), f"Legal request {req.ref} is {LegalRequest.DueState(state).label.lower()}", _link("legal:detail", pk),
                        about=req)
                counts[state] += 1
    return counts


def sweep_holds(*, now: datetime | None = None) -> int:
    """Remind agencies of holds that run out soon (once per hold period)."""
    now = now or timezone.now()
    qs = PreservationHold.objects.unscoped(reason="hold reminder sweeper")
    due = list(qs.filter(released_at__isnull=True, reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + timedelta(days=conf.HOLD_REMINDER_DAYS)).values_list("pk", flat=True))
    sent = 0
    for pk in due:
        with transaction.atomic():
            if qs.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now) != 1:
                continue
            hold = qs.select_related("agency", "request").get(pk=pk)
            audit.record(action="legal.hold.reminder", actor_label="system", obj=hold, subject_org=hold.agency, data={"expires_at": hold.expires_at.isoformat()})
            if hold.request_id:
                _notify(_agency_emails(hold.request), f"A preservation hold for {hold.request.ref} expires soon", _link("legal:detail", hold.request_id),
                        organisation_id=hold.agency_id, about=hold)
            sent += 1
    return sent


def purge_expired_productions(*, now: datetime | None = None) -> int:
    """Remove files of expired productions, except while a hold covers the request: the hold
    overrides every automatic deletion (the link still answers 410)."""
    from robotrace.legal.queries import is_held
    from robotrace.legal.uploads import full_path

    now = now or timezone.now()
    qs = Production.objects.unscoped(reason="expired production purge")
    purged = 0
    for prod in qs.filter(expires_at__lte=now, purged_at__isnull=True).select_related("request"):
        if is_held("legal_request", prod.request_id):
            continue
        with transaction.atomic():
            if qs.filter(pk=prod.pk, purged_at__isnull=True).update(purged_at=now) != 1:
                continue
            full_path(prod.zip_path).unlink(missing_ok=True)
            audit.record(action="legal.production.purged", actor_label="system", obj=prod, subject_org=prod.request.agency, data={"sha256": prod.sha256})
            purged += 1
    return purged
