"""Audit every refusal where all of them pass: the response.

Pages refuse with 403 (core.access, CSRF, scope errors) and hide other organisations' objects
behind 404 (get_object_or_404 over a scoped queryset, in many views); the API refuses with 401,
403 and 404 problem documents answered inside Ninja. Rather than audit in each of those places,
this middleware looks at what was answered. It records:

- every 401 and 403, whoever asked;
- a 404 answered to a signed-in person or an API key (to someone without identity a 404 says
  nothing about anybody's data, and scanners would fill the trail with them).

Actions: `access.denied`/`access.not_found` for pages, `api.unauthenticated`/`api.denied`/
`api.not_found` for the API, bounded per actor by audit.denials. A view that audits its own
refusal (audit.record with outcome "denied" and the request) is not recorded again.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from robotrace.audit import denials

API_PREFIX = "/api/"
PAGE_ACTIONS = {401: "access.denied", 403: "access.denied", 404: "access.not_found"}
API_ACTIONS = {401: "api.unauthenticated", 403: "api.denied", 404: "api.not_found"}


def _problem_reason(response: HttpResponse) -> str:
    """The title and detail of a problem document (the API's refusals say why there)."""
    if not response.get("Content-Type", "").startswith("application/problem+json") or response.streaming:
        return ""
    try:
        doc = json.loads(response.content[:16384])
    except ValueError:
        return ""
    if not isinstance(doc, dict):
        return ""
    return ": ".join(str(doc[k]) for k in ("title", "detail") if doc.get(k))


class DenialAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status in (401, 403, 404) and not getattr(request, "audit_denial_recorded", False):
            self._audit(request, response, status)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Django turns these into 403/404 pages after us; keep what the view said.
        if isinstance(exception, (PermissionDenied, Http404)):
            request.audit_denial_reason = str(exception)  # type: ignore[attr-defined]  # a marker on this request object

    def _audit(self, request: HttpRequest, response: HttpResponse, status: int) -> None:
        is_api = request.path.startswith(API_PREFIX)
        if status == 404:
            user = getattr(request, "user", None)
            identified = (user is not None and user.is_authenticated) or getattr(request, "principal", None) is not None
            if not identified:
                return
        reason = getattr(request, "audit_denial_reason", "") or (_problem_reason(response) if is_api else "")
        action = (API_ACTIONS if is_api else PAGE_ACTIONS)[status]
        denials.record_denial(request, action=action, status=status, reason=reason or response.reason_phrase)
