from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

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
        return None
