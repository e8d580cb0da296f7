"""The ingest hot path: plain Django views under /api/v1/, mounted before Ninja.

`POST /api/v1/reports` streams the request body (never `request.body`) through gzip and the
line decoder into the writer. Ninja would buffer and validate the whole body first, which is
exactly what a multi-gigabyte upload must not do, so this one route lives outside it; the
rest of the ingest API (uploads, rejects, search) is the Ninja router in api.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from robotrace.accounts.services import authenticate_api_key
from robotrace.core.middleware import streams_body
from robotrace.core.problems import problem
from robotrace.ingest import conf, parsers, queries, services
from robotrace.ingest.models import Upload

if TYPE_CHECKING:
    from robotrace.accounts.models import ApiKey

app_name = "ingest_api"
logger = logging.getLogger("robotrace.ingest")


def _key(request: HttpRequest) -> ApiKey | HttpResponse:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    key = authenticate_api_key(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if key is None:
        return problem(401, "Unauthorized", "a valid API key is required: Authorization: Bearer rt_…")
    return key


def _body_reader(request: HttpRequest) -> Callable[..., bytes]:
    # Without Content-Length (chunked transfer) Django's LimitedStream reads nothing; gunicorn
    # marks such input as terminated, so read the WSGI stream itself.
    if not request.META.get("CONTENT_LENGTH") and request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"].read
    return request.read


@csrf_exempt
@streams_body(conf.MAX_UPLOAD_BYTES)
def reports(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = problem(405, "Method not allowed", "POST call reports here; search them with GET /api/v1/reports/search")
        response["Allow"] = "POST"
        return response
    key = _key(request)
    if isinstance(key, HttpResponse):
        return key
    org = key.organisation
    if "ingest" not in key.scopes:
        return problem(403, "Insufficient scope", "this call needs the API key scope 'ingest'")
    if not org.is_reporter:
        return problem(403, "Forbidden", "only reporter organisations post call reports")

    fmt = parsers.CONTENT_TYPES.get((request.content_type or "").lower())
    if fmt is None:
        return problem(
            415,
            "Unsupported media type",
            f"send application/x-ndjson or text/csv, not {request.content_type or 'nothing'!r}",
        )
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        return problem(415, "Unsupported content encoding", f"only gzip is accepted, not {encoding!r}")

    tz_name = request.headers.get("X-Timezone") or request.GET.get("timezone") or ""
    tz = None
    if tz_name:
        try:
            tz = ZoneInfo(tz_name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            return problem(400, "Unknown time zone", f"{tz_name!r} is not an IANA time zone (e.g. America/Chicago)")

    idem = request.headers.get("Idempotency-Key", "").strip()
    if len(idem) > 128:
        return problem(400, "Idempotency-Key too long", "use at most 128 characters")
    if idem:
        earlier = queries.upload_by_idempotency_key(org, idem)
        if earlier is not None:
            return _replay(earlier)

    cap = conf.MAX_UPLOAD_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return problem(400, "Bad Content-Length")
    if declared > cap:
        return problem(413, "Upload too large", f"uploads are limited to {cap:,} bytes")

    chunks = parsers.capped(parsers.read_chunks(_body_reader(request)), cap)
    if encoding in ("gzip", "x-gzip"):
        chunks = parsers.capped(parsers.gunzip(chunks), cap)
    try:
        upload = services.receive(
            organisation=org,
            actor=None,
            api_key=key,
            chunks=chunks,
            fmt=fmt,
            tz=tz,
            idempotency_key=idem,
            request=request,
        )
    except parsers.ReadProblem as exc:
        return problem(exc.status, exc.title, exc.detail, errors=exc.errors)
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key committed first.
        earlier = queries.upload_by_idempotency_key(org, idem) if idem else None
        if earlier is None:
            raise
        return _replay(earlier)
    response = JsonResponse(services.answer(upload), status=202)
    response["Location"] = f"/api/v1/uploads/{upload.id}"
    return response


def _replay(upload: Upload) -> HttpResponse:
    response = JsonResponse(services.answer(upload), status=202)
    response["Idempotent-Replayed"] = "true"
    response["Location"] = f"/api/v1/uploads/{upload.id}"
    return response


def upload_rejects(request: HttpRequest, upload_id: int) -> HttpResponseBase:
    """Every reject of an upload as NDJSON, to the reporter that sent it or the consortium.
    (A signed-in person uses the page link; this is the machine route named in the 202.)"""
    if request.method != "GET":
        return problem(405, "Method not allowed")
    user = getattr(request, "user", None)
    actor = None
    if request.headers.get("Authorization"):
        key = _key(request)
        if isinstance(key, HttpResponse):
            return key
        org = key.organisation
    elif user is not None and user.is_authenticated and user.organisation is not None:
        org, actor = user.organisation, user
    else:
        return problem(401, "Unauthorized", "a valid API key is required: Authorization: Bearer rt_…")
    upload = queries.upload_for(org, upload_id)
    if upload is None or not upload.rejects_path:
        return problem(404, "Not found")
    path_ = queries.rejects_file(upload)
    if path_ is None:
        return problem(404, "Not found", "the rejects file is no longer available")
    services.record_rejects_download(actor=actor, organisation=org, upload=upload, request=request)
    return FileResponse(
        path_.open("rb"), content_type="application/x-ndjson", as_attachment=True, filename=f"upload-{upload.id}-rejects.ndjson"
    )


urlpatterns = [
    path("reports", reports, name="reports"),
    path("uploads/<int:upload_id>/rejects", upload_rejects, name="upload_rejects"),
]
