"""API authentication for Ninja routers: `Authorization: Bearer rt_<hint>_<random>`.

A missing, unknown or revoked key answers 401; a valid key without the route's scope 403.
A signed-in browser session is accepted too, so every API call can be tried from the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import HttpBearer

from robotrace.accounts.models import ApiKey, Organisation, User
from robotrace.accounts.roles import session_scopes
from robotrace.accounts.services import authenticate_api_key
from robotrace.core.problems import ApiProblem


@dataclass
class Principal:
    """Who is calling: an organisation, through a person or a key."""

    organisation: Organisation
    user: User | None = None
    api_key: ApiKey | None = None
    writing: bool = False  # an unsafe method (POST, PUT, PATCH, DELETE)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return "unknown"

    def has_scope(self, scope: str) -> bool:
        if self.api_key is not None:
            return scope in self.api_key.scopes
        # A browser session carries its person's role: the API allows what the pages allow.
        return self.user is not None and scope in session_scopes(self.user, writing=self.writing)


class ApiKeyAuth(HttpBearer):
    def __init__(self, scope: str | None = None, *, allow_session: bool = True, kinds: tuple[str, ...] = ()):
        super().__init__()
        # str() turns an ApiKey.Scope member into its value, so errors name "legal:read".
        self.scope = str(scope) if scope else None
        self.allow_session = allow_session
        self.kinds = kinds

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if not header and self.allow_session:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.organisation is not None:
                from allauth.mfa.utils import is_mfa_enabled

                if user.needs_mfa and not is_mfa_enabled(user):
                    raise ApiProblem(403, "Second factor required", "enrol an authenticator before using the API")
                writing = request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
                if writing:
                    _check_csrf(request)
                return self._check(request, Principal(organisation=user.organisation, user=user, writing=writing))
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = authenticate_api_key(token)
        if key is None:
            return None
        return self._check(request, Principal(organisation=key.organisation, api_key=key))

    def _check(self, request: HttpRequest, principal: Principal) -> Principal:
        # Named before the checks, so a refusal is audited under the caller's name (the
        # route itself reads request.auth, set only when they pass).
        request.principal = principal  # type: ignore[attr-defined]  # set on the request for the views and audit
        if self.scope and not principal.has_scope(self.scope):
            raise ApiProblem(403, "Insufficient scope", f"this call needs the API key scope {self.scope!r}")
        if self.kinds and principal.organisation.kind not in self.kinds:
            raise ApiProblem(403, "Forbidden", f"this call is for {' or '.join(self.kinds)} organisations")
        return principal


class _ApiCsrf(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        raise ApiProblem(403, "CSRF check failed",
                         f"{reason} A signed-in browser session must send the page's X-CSRFToken header with this call; "
                         "programs should use an API key: Authorization: Bearer rt_…")  # fmt: skip


def _no_view(request: HttpRequest) -> HttpResponse:
    return HttpResponseForbidden()  # never called: the check only inspects the request


def _check_csrf(request: HttpRequest) -> None:
    # The session cookie rides along on any site's form or fetch, so a session write must prove
    # it came from our pages (token, and Origin/Referer on HTTPS), as Django's forms do. Ninja's
    # views are CSRF-exempt; a Bearer key is never sent by a browser on its own and skips this.
    check = _ApiCsrf(_no_view)
    request.csrf_processing_done = False  # type: ignore[attr-defined]  # Django's flag, set by the middleware
    check.process_request(request)
    check.process_view(request, _no_view, (), {})


def principal_of(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined]  # Ninja sets auth on the request it authenticated
