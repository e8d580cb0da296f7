from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from robotrace.core.problems import problem


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return problem(403, "Forbidden", str(exception or ""))
    return render(request, "errors/403.html", {"reason": str(exception or "")}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return problem(404, "Not found")
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return problem(500, "Server error")
    return render(request, "errors/500.html", status=500)
