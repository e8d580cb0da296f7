"""Home-page panel: verification figures for consortium staff."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.accounts.queries import organisation_of
from robotrace.shaken import queries


def consortium_panel(request: HttpRequest) -> dict[str, Any] | None:
    org = organisation_of(request)
    data = queries.overview(org, days=7)
    return {"o": data}
