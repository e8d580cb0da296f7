"""Which campaigns an agency may open. Other apps register providers of campaign ids
(alerts delivered to the agency, productions made to it) from their AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

_SOURCES: list[Callable[["Organisation"], Iterable[int]]] = []


def register(source: Callable[["Organisation"], Iterable[int]]) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def campaign_ids_for_agency(org: "Organisation") -> list[int]:
    ids: set[int] = set()
    for source in _SOURCES:
        ids.update(source(org))
    return sorted(ids)
