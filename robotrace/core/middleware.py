from __future__ import annotations

import logging
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.cache import patch_cache_control

from robotrace.core.scoping import ScopeError

logger = logging.getLogger(__name__)


class ScopeErrorMiddleware:
    """A scope error is a bug, but it must fail closed: answer 403, never the data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ScopeError):
            logger.error("scope error on %s: %s", request.path, exception)
            return HttpResponseForbidden("Forbidden")
        if isinstance(exception, OperationalError) and "database is locked" in str(exception):
            # SQLite's one writer was busy for longer than its busy timeout: nothing was
            # written (the transaction rolled back), so the same request later will do.
            logger.warning("database busy on %s", request.path)
            response = HttpResponse("The database is busy; nothing was stored. Try again in a few seconds.",
                                    status=503, content_type="text/plain; charset=utf-8")  # fmt: skip
            response["Retry-After"] = "5"
            return response
        return None


def streams_body(max_bytes: int) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Mark a view that reads its body as a stream and enforces its own cap (`max_bytes`) while
    reading: BodyLimitMiddleware then lets an authenticated request through up to that cap."""

    def mark(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]  # a marker the body limit reads off the view
        return view

    return mark


class BodyLimitMiddleware:
    """Refuse an oversized body from its Content-Length, before anything reads it.

    Django spools multipart files to disk as soon as anyone touches `request.POST` (the CSRF
    check does, before the login redirect), so without this an anonymous POST could write
    hundreds of megabytes to the temporary folder. Anonymous requests (no session, no
    Authorization header) may send `REQUEST_MAX_BYTES_ANONYMOUS`, a login form's worth;
    signed-in people and API keys `REQUEST_MAX_BYTES`; views marked with `streams_body` their
    own larger cap. A body without a Content-Length is never read by Django's request parsing
    (it sees an empty body), so the header is the whole question here. Runs after the session
    and authentication middleware (to know who is asking) and before the CSRF check (the first
    reader of the body).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., HttpResponse], args: object, kwargs: object) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _too_large(400, "The Content-Length header is not a number.")
        if length <= settings.REQUEST_MAX_BYTES_ANONYMOUS:
            return None
        user = getattr(request, "user", None)
        if not request.headers.get("Authorization") and not (user is not None and user.is_authenticated):
            return _too_large(413, f"Sign in before sending more than {settings.REQUEST_MAX_BYTES_ANONYMOUS:,} bytes.")
        cap = max(getattr(view, "max_body_bytes", 0), settings.REQUEST_MAX_BYTES)
        if length > cap:
            return _too_large(413, f"Requests are limited to {cap:,} bytes.")
        return None


def _too_large(status: int, detail: str) -> HttpResponse:
    response = HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
    # The body was not read: the connection cannot be reused for another request.
    response["Connection"] = "close"
    return response


# Browser features no page of ours uses; a script injected despite the Content-Security-Policy
# cannot ask for them either.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response, and `Cache-Control: no-store` on every response
    to a signed-in person or an API key: their pages and files hold case data that must not
    stay in a shared or back-button cache. (The Content-Security-Policy itself comes from
    django-csp's middleware, configured in settings.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "Authorization" in request.headers:
            patch_cache_control(response, no_store=True)
        return response


class CSPMiddleware(_CSPMiddleware):
    """django-csp's middleware, with the policy text built once rather than per response.

    django-csp rebuilds the header from the settings on every answer (a copy and sort of each
    directive), though the text only changes with a nonce or a view's own override; on the
    API hot path that was a tenth of a millisecond per request. Responses with either still
    go through django-csp itself; the plain case sets the same headers, under the same
    exemption and prefix checks, from a text kept per settings object (a test's
    override_settings makes a new one)."""

    _built: dict[bool, tuple[object, str]] = {}

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:  # type: ignore[override]  # django-csp types it with HttpResponseBase
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, f"_csp_{part}{suffix}", None) is not None for part in ("config", "update", "replace") for suffix in ("", "_ro")
        ) or (response.status_code in (404, 500) and settings.DEBUG):
            return super().process_response(request, response)  # type: ignore[return-value]  # the response it was given
        for report_only, header, exempt in ((False, HEADER, "_csp_exempt"), (True, HEADER_REPORT_ONLY, "_csp_exempt_ro")):
            policy = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY", None)
            hit = self._built.get(report_only)
            if hit is None or hit[0] is not policy:
                hit = self._built[report_only] = (policy, build_policy(report_only=report_only))
            prefixes = (policy or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if hit[1] and header not in response and getattr(response, exempt, False) is False and not request.path_info.startswith(tuple(prefixes)):
                response[header] = hit[1]
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]  # django-csp's marker
        return response
