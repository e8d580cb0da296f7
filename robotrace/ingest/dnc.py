"""The do-not-call hook: a table of numbers on a DNC list and the intake-time flag.

Intake sets `is_called_number_dnc` on a report when its called number is in `DncNumber`.
The national registry itself is not public; an operator with access loads it (or a state
list) through `load_numbers`, from any iterable of numbers, e.g. `numbers_from_file`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import transaction

from robotrace.core import phones
from robotrace.ingest.models import DncNumber
from robotrace.ingest.schema import CALLED_NUMBER_INDEX, DNC_INDEX

_IN_CHUNK = 900  # stay under every SQLite build's bound-parameter limit


def numbers_from_file(path: str | Path) -> Iterator[str]:
    """One number per line, or a CSV whose first column is the number (header ignored)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            value = line.split(",", 1)[0].strip().strip('"')
            if value:
                yield value


def load_numbers(numbers: Iterable[str], *, source: str = "national", replace: bool = False, batch: int = 10_000) -> int:
    """Load numbers (any format; invalid ones are skipped) and return how many were added."""
    added = 0
    with transaction.atomic():
        if replace:
            DncNumber.objects.filter(source=source).delete()
        pending: list[DncNumber] = []
        for raw in numbers:
            e164 = phones.normalise(raw)
            if e164:
                pending.append(DncNumber(e164=e164, source=source))
            if len(pending) >= batch:
                added += len(DncNumber.objects.bulk_create(pending, ignore_conflicts=True))
                pending = []
        if pending:
            added += len(DncNumber.objects.bulk_create(pending, ignore_conflicts=True))
    return added


class DncCheck:
    """Per upload: does nothing (one cheap query) while no list is loaded."""

    def __init__(self) -> None:
        self.enabled = DncNumber.objects.exists()

    def apply(self, rows: list[tuple[Any, ...]]) -> int:
        if not self.enabled or not rows:
            return 0
        called = sorted({row[CALLED_NUMBER_INDEX] for row in rows if row[CALLED_NUMBER_INDEX]})
        hits: set[str] = set()
        for i in range(0, len(called), _IN_CHUNK):
            hits.update(DncNumber.objects.filter(e164__in=called[i : i + _IN_CHUNK]).values_list("e164", flat=True))
        if not hits:
            return 0
        flagged = 0
        for i, row in enumerate(rows):
            if row[CALLED_NUMBER_INDEX] in hits:
                rows[i] = row[:DNC_INDEX] + (True,) + row[DNC_INDEX + 1 :]
                flagged += 1
        return flagged
