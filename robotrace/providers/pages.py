"""What apps above the registry add to its pages (scorecards: the cooperation figures and
the flags), registered from their AppConfig.ready(): the registry never imports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation
    from robotrace.providers.models import Provider

DetailContext = Callable[["Organisation", "Provider"], dict[str, Any]]
ListContext = Callable[["Organisation", list["Provider"]], dict[str, Any]]

_DETAIL: list[DetailContext] = []
_LIST: list[ListContext] = []


def register(*, detail: DetailContext | None = None, listing: ListContext | None = None) -> None:
    """`detail(org, provider)` adds to a provider's page; `listing(org, providers)` to a page
    of the registry list."""
    if detail is not None and detail not in _DETAIL:
        _DETAIL.append(detail)
    if listing is not None and listing not in _LIST:
        _LIST.append(listing)


def detail_context(org: Organisation, provider: Provider) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fn in _DETAIL:
        out.update(fn(org, provider))
    return out


def list_context(org: Organisation, providers: list[Provider]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fn in _LIST:
        out.update(fn(org, providers))
    return out
