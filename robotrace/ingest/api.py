"""Ingest API beside the hot path: a reporter's uploads, and report search for the consortium.

`POST /api/v1/reports` itself is a plain Django view (api_urls.py) so it can stream.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.problems import ApiProblem
from robotrace.ingest import queries, services
from robotrace.ingest.models import CallReport

router = Router()

uploads_auth = ApiKeyAuth(scope="ingest", kinds=("reporter", "consortium"))
search_auth = ApiKeyAuth(kinds=("consortium", "reporter"))


class UploadAnswer(Schema):
    """The 202 answer to POST /reports (services.answer)."""

    upload_id: int
    status: str
    lines: int
    accepted: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]]
    rejects_url: str | None


class UploadOut(UploadAnswer):
    reporter: str
    source: str
    format: str
    filename: str
    received_at: datetime


def _upload_out(upload: Any) -> dict[str, Any]:
    out = services.answer(upload)
    out.update(reporter=upload.reporter.slug, source=upload.source, format=upload.format, filename=upload.filename, received_at=upload.received_at)
    return out


@router.get("/uploads", response=list[UploadOut], auth=uploads_auth, summary="Your uploads, newest first")
def list_uploads(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    org = principal_of(request).organisation
    return [_upload_out(u) for u in queries.uploads_for(org)[: max(1, min(limit, 500))]]


@router.get("/uploads/{upload_id}", response=UploadOut, auth=uploads_auth, summary="One upload's counts and first rejects")
def get_upload(request: HttpRequest, upload_id: int) -> dict[str, Any]:
    upload = queries.upload_for(principal_of(request).organisation, upload_id)
    if upload is None:
        raise ApiProblem(404, "Not found")
    return _upload_out(upload)


_POST_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"source_report_id": "a-1", "report_type": "honeypot", '
                                     '"call_started_at": "2026-11-20T14:05:00-05:00", "calling_number": "704-286-1234", '
                                     '"called_number": "+19193324567", "transcript": "... call us back at 833-304-1447"}\n'},
            "application/json-seq": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}, "example": "source_report_id,report_type,call_started_at,calling_number,called_number\n"},
        },
    },
    "parameters": [
        {"name": "Content-Encoding", "in": "header", "schema": {"type": "string", "enum": ["gzip"]}},
        {"name": "X-Timezone", "in": "header", "schema": {"type": "string"}, "description": "IANA zone for times without an offset (or ?timezone=)"},
        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 128}, "description": "a retry with the same key gets the first answer"},
    ],
}  # fmt: skip


@router.post("/reports", response={202: UploadAnswer}, auth=uploads_auth, summary="Post call reports (NDJSON or CSV, optionally gzip)",
             openapi_extra=_POST_DOC)  # fmt: skip
def post_reports(request: HttpRequest) -> Any:
    """Streams the body; each bad line is rejected on its own with {line, field, reason}, the
    accepted lines are stored in one transaction, and 202 means they are durable. 400 bad
    gzip or CSV header, 413 over the size cap, 415 wrong content type (problem+json,
    nothing stored). Served by a plain Django view mounted before this API (see
    ingest/api_urls.py); this entry documents it in the OpenAPI schema."""
    raise ApiProblem(500, "Misrouted", "POST /api/v1/reports is served by ingest.api_urls")


class ReportOut(Schema):
    id: int
    reporter: str
    source_report_id: str
    report_type: str
    call_started_at: datetime
    received_at: datetime
    calling_number: str
    calling_number_e164: str
    called_number: str
    called_state: str
    duration_seconds: int | None
    caller_name: str
    transcript: str
    recording_url: str
    recording_sha256: str
    callback_numbers: list[str]
    category: str
    upstream_provider: str
    identity_header: str
    shaken_attest: str
    shaken_origid: str
    subject: str
    consumer_state: str
    consumer_city: str
    is_robocall: bool | None
    is_calling_number_invalid: bool
    is_called_number_dnc: bool
    campaign_id: int | None
    upload_id: int | None

    @staticmethod
    def resolve_reporter(obj: CallReport) -> str:
        return obj.reporter.slug


class SearchIn(Schema):
    number: str = ""
    since: date | None = None
    until: date | None = None
    state: str = ""
    text: str = ""
    reporter: int | None = None
    report_type: str = ""
    limit: int = 100
    before_id: int | None = None


@router.get("/reports/search", response=list[ReportOut], auth=search_auth, summary="Search call reports")
def search_reports(request: HttpRequest, filters: Query[SearchIn]) -> Any:
    """Consortium: every report; a reporter: its own. Newest call first; page with before_id."""
    org = principal_of(request).organisation
    f = queries.SearchFilters(number=filters.number, since=filters.since, until=filters.until, state=filters.state,
                              text=filters.text, reporter_id=filters.reporter, report_type=filters.report_type)  # fmt: skip
    qs = queries.search(org, f).order_by("-id")
    if filters.before_id:
        qs = qs.filter(id__lt=filters.before_id)
    return list(qs[: max(1, min(filters.limit, 1000))])


@router.get("/reports/{report_id}", response=ReportOut, auth=search_auth, summary="One call report")
def get_report(request: HttpRequest, report_id: int) -> Any:
    report = queries.report_for(principal_of(request).organisation, report_id)
    if report is None:
        raise ApiProblem(404, "Not found")
    return report


class RecordingOut(Schema):
    report_id: int
    recording_sha256: str
    recording_url: str


@router.post("/reports/{report_id}/recording", response={201: RecordingOut}, auth=uploads_auth, summary="Attach a call recording")
def attach_recording(request: HttpRequest, report_id: int, file: File[UploadedFile]) -> Any:
    """Multipart upload (field `file`) of the call's audio. Stored by SHA-256; the hash and a
    download URL go on the report."""
    principal = principal_of(request)
    if not principal.organisation.is_reporter:
        raise ApiProblem(403, "Forbidden", "only the reporter that sent the report attaches its recording")
    try:
        sha = services.attach_recording(organisation=principal.organisation, actor=principal.user, api_key=principal.api_key,
                                        report_id=report_id, chunks=file.chunks(), content_type=file.content_type or "",
                                        request=request)  # fmt: skip
    except LookupError:
        raise ApiProblem(404, "Not found")
    except services.RecordingRefused as exc:
        raise ApiProblem(415 if "audio type" in str(exc) else 413 if "limited" in str(exc) else 400, "Recording refused", str(exc))
    return Status(201, {"report_id": report_id, "recording_sha256": sha, "recording_url": f"/api/v1/reports/{report_id}/recording"})


@router.get("/reports/{report_id}/recording", auth=search_auth, summary="Download a call recording")
def get_recording(request: HttpRequest, report_id: int) -> Any:
    principal = principal_of(request)
    report = queries.report_for(principal.organisation, report_id)
    path = services.recording_path(report) if report is not None else None
    if report is None or path is None:
        raise ApiProblem(404, "Not found")
    services.record_recording_download(actor=principal.user, organisation=principal.organisation, report=report, request=request)
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"report-{report.id}{path.suffix}")
