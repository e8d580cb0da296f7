"""Pages of one app that show what apps above it keep: a campaign's tracebacks and the legal
requests naming it, a registry record's scorecard and flags. The app above registers a
function for the page from its AppConfig.ready(); the page's own app asks for extras() and
never imports it, so apps depend one way (docs/development.md, "Layers").

Pages are named "<namespace>:<url name>"; each function takes the keyword arguments the
page documents and returns template context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Extra = Callable[..., dict[str, Any]]

_EXTRAS: dict[str, list[Extra]] = defaultdict(list)


def register(page: str, fn: Extra) -> None:
    if fn not in _EXTRAS[page]:
        _EXTRAS[page].append(fn)


def extras(page: str, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fn in _EXTRAS[page]:
        out.update(fn(**kwargs))
    return out
