"""Which records an agency may open beyond those it asked for itself: campaigns alerted to
it, campaigns and tracebacks produced to it. The apps that make those grants (alerts, legal)
sit above the apps whose records they open, so they register a source of ids from their
AppConfig.ready() under the record's model label, and the record's scope_q asks here; one
registry serves every kind of record (docs/development.md, "Layers")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

Source = Callable[["Organisation"], Iterable[int]]

_SOURCES: dict[str, list[Source]] = defaultdict(list)


def register(model: str, source: Source) -> None:
    """`model` is the label of the records the source grants ("campaigns.Campaign")."""
    if source not in _SOURCES[model]:
        _SOURCES[model].append(source)


def ids_for_agency(model: str, org: "Organisation") -> list[int]:
    ids: set[int] = set()
    for source in _SOURCES[model]:
        ids.update(source(org))
    return sorted(ids)
