"""Navigation per organisation kind, and home-page panels that apps register.

URL names that an app has not defined yet are skipped, so the layout never breaks while the
platform grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

C, P, R, A = "consortium", "provider", "reporter", "agency"


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    kinds: tuple[str, ...]
    admin_only: bool = False


NAV: list[NavItem] = [
    NavItem("Home", "home", (C, P, R, A)),
    NavItem("Campaigns", "campaigns:list", (C, A)),
    NavItem("Trends", "campaigns:trends", (C,)),
    NavItem("Ecosystem", "campaigns:ecosystem", (C,)),
    NavItem("Tracebacks", "tracebacks:board", (C,)),
    NavItem("Hop inbox", "tracebacks:inbox", (P,)),
    NavItem("Call reports", "ingest:search", (C,)),
    NavItem("Uploads", "ingest:uploads", (R,)),
    NavItem("Call authentication", "shaken:overview", (C,)),
    NavItem("Providers", "providers:list", (C,)),
    NavItem("Scorecard", "providers:my_scorecard", (P,)),
    NavItem("Non-cooperative", "providers:noncooperative", (C, A)),
    NavItem("Legal requests", "legal:queue", (C,)),
    NavItem("Legal requests", "legal:my_requests", (A,)),
    NavItem("Alerts", "alerts:list", (A,)),
    NavItem("Alerts", "alerts:list", (C,)),
    NavItem("Hop webhook", "providers:hop_webhook", (P,), admin_only=True),
    NavItem("Deliveries", "outbox:list", (C,)),
    NavItem("Deliveries", "outbox:list", (P, A), admin_only=True),
    NavItem("People", "accounts:people", (P, R, A), admin_only=True),
    NavItem("API keys", "accounts:api_keys", (P, R, A), admin_only=True),
    NavItem("Admin", "accounts:admin_home", (C,), admin_only=True),
    NavItem("Audit", "audit:list", (C,), admin_only=True),
]


def nav_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.organisation is None:
        return []
    kind = user.organisation.kind
    items = []
    seen: set[str] = set()
    for item in NAV:
        if kind not in item.kinds or (item.admin_only and not user.is_org_admin) or item.url_name in seen:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        seen.add(item.url_name)
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return items


PanelFn = Callable[[HttpRequest], dict[str, Any] | None]


@dataclass(frozen=True)
class HomePanel:
    kinds: tuple[str, ...]
    template: str
    context: PanelFn
    order: int = 50


_PANELS: list[HomePanel] = []


def register_home_panel(*, kinds: tuple[str, ...], template: str, context: PanelFn, order: int = 50) -> None:
    """Apps call this from AppConfig.ready() to put a panel on the home page of some kinds.
    `context` returns None to hide the panel for this request."""
    if any(p.template == template for p in _PANELS):
        return
    _PANELS.append(HomePanel(kinds, template, context, order))


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    kind = user.organisation.kind  # type: ignore[union-attr]  # home panels are drawn for signed-in people of an organisation
    out = []
    for panel in sorted(_PANELS, key=lambda p: p.order):
        if kind in panel.kinds:
            ctx = panel.context(request)
            if ctx is not None:
                out.append({"template": panel.template, "ctx": ctx})
    return out
