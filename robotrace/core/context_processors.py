from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from robotrace.core.navigation import nav_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"nav_items": nav_for(request), "DEPLOYMENT": settings.DEPLOYMENT}
