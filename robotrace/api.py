"""The JSON API under /api/v1/, with its OpenAPI schema at /api/v1/openapi.json and docs at
/api/v1/docs. Each app contributes a Ninja `router` in its own `api.py`."""

from __future__ import annotations

from importlib import import_module

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from robotrace.core.problems import ApiProblem, problem
from robotrace.core.scoping import ScopeError

api = NinjaAPI(
    title="Robotrace API",
    version="1",
    description="Call reports, campaigns, tracebacks, providers, legal requests and alerts.",
    urls_namespace="api",
    docs_url="/docs",
)

# (app module, mount prefix, tag). Routers declare their own paths below the prefix.
ROUTERS = [
    ("accounts", "/", "accounts"),
    ("ingest", "/", "ingest"),
    ("campaigns", "/", "campaigns"),
    ("tracebacks", "/", "tracebacks"),
    ("providers", "/", "providers"),
    # Scorecards and the non-cooperative list are /providers/... routes, tagged as they were.
    ("scorecards", "/", "providers"),
    ("shaken", "/", "shaken"),
    ("legal", "/", "legal"),
    ("alerts", "/", "alerts"),
]

for module, prefix, tag in ROUTERS:
    api.add_router(prefix, import_module(f"robotrace.{module}.api").router, tags=[tag])


@api.exception_handler(ApiProblem)
def _api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return problem(exc.status, exc.title, exc.detail, **exc.extra)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(401, "Unauthorized", "a valid API key is required: Authorization: Bearer rt_…")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"line": None, "field": ".".join(str(p) for p in e.get("loc", [])[1:]) or None, "reason": e.get("msg", "invalid")}
        for e in exc.errors
    ]
    return problem(422, "Invalid request", "the request did not match the schema", errors=errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc.message) if hasattr(exc, "message") else str(exc))


@api.exception_handler(ScopeError)
def _scope(request: HttpRequest, exc: ScopeError) -> HttpResponse:
    return problem(403, "Forbidden")
