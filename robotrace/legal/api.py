"""Legal API: agencies file requests, upload the signed PDF, exchange messages and read
production metadata with keys scoped legal:read / legal:write; consortium staff read all.

Another agency's request answers 404, never 403, so ids cannot be probed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.pagination import page, page_response
from robotrace.core.problems import ApiProblem
from robotrace.legal import queries, services
from robotrace.legal.models import EvidencePackage, LegalMessage, LegalRequest
from robotrace.legal.uploads import UploadRejected, check_pdf

router = Router()

read_auth = ApiKeyAuth(scope="legal:read", kinds=("agency", "consortium"))
write_auth = ApiKeyAuth(scope="legal:write", kinds=("agency",))
message_auth = ApiKeyAuth(scope="legal:write", kinds=("agency", "consortium"))


def _refuse(exc: services.LegalError) -> ApiProblem:
    titles = {400: "Invalid request", 403: "Forbidden", 404: "Not found", 409: "Conflict", 410: "Gone"}
    status = 422 if exc.status == 400 and exc.errors else exc.status
    extra: dict[str, Any] = {"errors": exc.errors} if exc.errors else {}
    return ApiProblem(status, titles.get(exc.status, "Refused"), str(exc), **extra)


def _get(request: HttpRequest, pk: int) -> LegalRequest:
    obj = queries.requests_for(principal_of(request).organisation).filter(pk=pk).first()
    if obj is None:
        raise ApiProblem(404, "Not found", f"no legal request {pk}")
    return obj


def request_json(r: LegalRequest, *, staff: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": r.pk,
        "ref": r.ref,
        "type": r.type,
        "status": r.status,
        "due_state": r.due_state or "on_time",
        "issuing_authority": r.issuing_authority,
        "legal_basis": r.legal_basis,
        "case_number": r.case_number,
        "date_signed": r.date_signed.isoformat(),
        "due_date": r.due_date.isoformat(),
        "ndo": r.ndo,
        "ndo_ends_on": r.ndo_ends_on.isoformat() if r.ndo_ends_on else None,
        "records_from": r.records_from.isoformat() if r.records_from else None,
        "records_to": r.records_to.isoformat() if r.records_to else None,
        "decision_note": r.decision_note,
        "duplicate_of": r.duplicate_of_id,
        "created_at": r.created_at.isoformat(),
        "produced_at": r.produced_at.isoformat() if r.produced_at else None,
        "targets": [
            {"id": t.pk, "kind": t.kind, "value": t.value, "date_from": t.date_from.isoformat() if t.date_from else None,
             "date_to": t.date_to.isoformat() if t.date_to else None, "decision": t.decision}
            for t in r.targets.all()
        ],
        "documents": [{"id": d.pk, "name": d.original_name, "size": d.size, "sha256": d.sha256} for d in r.documents.all()],
    }
    if staff:
        body["agency"] = {"id": r.agency_id, "name": r.agency.name}
        body["assigned_to"] = r.assigned_to.email if r.assigned_to else None
        body["related_request_ids"] = r.related_request_ids
    return body


class TargetIn(Schema):
    kind: str = "phone"
    value: str
    date_from: date | None = None
    date_to: date | None = None


class RequestIn(Schema):
    type: str
    issuing_authority: str
    legal_basis: str
    case_number: str
    date_signed: date
    due_date: date
    ndo: bool = False
    ndo_ends_on: date | None = None
    records_from: date | None = None
    records_to: date | None = None
    description: str = ""
    targets: list[TargetIn]


class MessageIn(Schema):
    body: str


@router.get("/legal/requests", auth=read_auth)
def list_requests(request: HttpRequest, cursor: str | None = None, limit: int = 100, status: str | None = None) -> dict[str, Any]:
    org = principal_of(request).organisation
    qs = queries.requests_for(org).prefetch_related("targets", "documents")
    if status:
        qs = qs.filter(status=status)
    rows, nxt = page(qs, cursor, limit)
    return page_response([request_json(r, staff=org.is_consortium) for r in rows], nxt)


@router.post("/legal/requests", auth=write_auth, response={201: dict[str, Any]})
def create_request(request: HttpRequest, payload: RequestIn) -> Any:
    principal = principal_of(request)
    try:
        req = services.file_request(
            actor=principal.user,
            organisation=principal.organisation,
            api_key=principal.api_key,
            data=services.NewRequest(
                type=payload.type, issuing_authority=payload.issuing_authority, legal_basis=payload.legal_basis,
                case_number=payload.case_number, date_signed=payload.date_signed, due_date=payload.due_date,
                ndo=payload.ndo, ndo_ends_on=payload.ndo_ends_on, records_from=payload.records_from,
                records_to=payload.records_to, description=payload.description,
                targets=[{**t.dict(), "line": i} for i, t in enumerate(payload.targets, start=1)],
            ),
            http_request=request,
        )
    except services.LegalError as exc:
        raise _refuse(exc) from exc
    return Status(201, request_json(req, staff=False))


@router.get("/legal/requests/{pk}", auth=read_auth)
def get_request(request: HttpRequest, pk: int) -> dict[str, Any]:
    return request_json(_get(request, pk), staff=principal_of(request).organisation.is_consortium)


@router.post("/legal/requests/{pk}/documents", auth=write_auth, response={201: dict[str, Any]})
def upload_document(request: HttpRequest, pk: int, file: UploadedFile = File(...)) -> Any:  # noqa: B008
    principal = principal_of(request)
    req = _get(request, pk)
    try:
        checked = check_pdf(file.file, file.name or "document.pdf")  # type: ignore[arg-type]  # an upload always has its file
        doc = services.attach_document(actor=principal.user, organisation=principal.organisation, request=req, checked=checked, api_key=principal.api_key)
    except UploadRejected as exc:
        raise ApiProblem(422, "Invalid document", str(exc), errors=[{"line": None, "field": "file", "reason": str(exc)}]) from exc
    except services.LegalError as exc:
        raise _refuse(exc) from exc
    body = {"id": doc.pk, "name": doc.original_name, "size": doc.size, "sha256": doc.sha256, "pages": doc.pages}
    return Status(201, body)


def message_json(m: LegalMessage) -> dict[str, Any]:
    return {"id": m.pk, "author": m.author_label, "role": m.author_role, "body": m.body, "created_at": m.created_at.isoformat()}


@router.get("/legal/requests/{pk}/messages", auth=read_auth)
def list_messages(request: HttpRequest, pk: int) -> dict[str, Any]:
    req = _get(request, pk)
    return {"items": [message_json(m) for m in req.messages.all()]}


@router.post("/legal/requests/{pk}/messages", auth=message_auth, response={201: dict[str, Any]})
def post_message(request: HttpRequest, pk: int, payload: MessageIn) -> Any:
    principal = principal_of(request)
    req = _get(request, pk)
    try:
        m = services.post_message(actor=principal.user, organisation=principal.organisation, request=req, body=payload.body, api_key=principal.api_key)
    except services.LegalError as exc:
        raise _refuse(exc) from exc
    return Status(201, message_json(m))


@router.get("/legal/requests/{pk}/productions", auth=read_auth)
def list_productions(request: HttpRequest, pk: int) -> dict[str, Any]:
    """Metadata only: the file itself is downloaded from the portal after a fresh login."""
    req = _get(request, pk)
    return {
        "items": [
            {
                "id": p.pk, "ref": p.ref, "created_at": p.created_at.isoformat(), "expires_at": p.expires_at.isoformat(),
                "expired": p.is_expired, "size": p.size, "sha256": p.sha256, "files": (p.manifest or {}).get("files", {}),
                "download_count": p.download_count, "download_page": reverse("legal:production", args=[p.pk]),
            }
            for p in req.productions.all()
        ]
    }


@router.get("/legal/evidence-packages", auth=read_auth)
def list_packages(request: HttpRequest) -> dict[str, Any]:
    org = principal_of(request).organisation
    qs = queries.packages_for(org)
    if org.is_agency:
        qs = qs.filter(status=EvidencePackage.Status.DONE)
    return {
        "items": [
            {"id": p.pk, "ref": p.ref, "title": p.title, "status": p.status, "progress": p.progress, "campaign_id": p.campaign_id,
             "sha256": p.sha256, "files": (p.manifest or {}).get("files", {}), "page": reverse("legal:evidence_detail", args=[p.pk])}
            for p in qs[:200]
        ]
    }


@router.get("/legal/evidence-packages/{pk}", auth=read_auth)
def get_package(request: HttpRequest, pk: int) -> dict[str, Any]:
    org = principal_of(request).organisation
    p = queries.packages_for(org).filter(pk=pk).first()
    if p is None or (org.is_agency and p.status != EvidencePackage.Status.DONE):
        raise ApiProblem(404, "Not found", f"no evidence package {pk}")
    return {"id": p.pk, "ref": p.ref, "title": p.title, "status": p.status, "progress": p.progress, "step": p.step,
            "sha256": p.sha256, "files": (p.manifest or {}).get("files", {}), "counts": (p.manifest or {}).get("counts", {})}
