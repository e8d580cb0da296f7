"""CSV cells a spreadsheet will not run as formulas (CSV injection).

Caller names, transcripts and provider names are chosen by the people we trace, and the CSV
files we hand to agencies are opened in spreadsheets. A text cell that starts with a formula
character gets a leading apostrophe, which spreadsheets show as text. Numbers stay as they are,
E.164 numbers included (`+15551234567` can only ever evaluate to itself): our files are read by
machines too, and a number with an apostrophe in front is no longer the number. We write this
rule rather than use defusedcsv because that library prefixes `+1555…`, every phone number we
export.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "|", "%")
_NUMBER = re.compile(r"[+-]?[0-9][0-9,.]*")


def cell(value: Any) -> Any:
    """`value` unchanged unless it is text a spreadsheet would read as a formula."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(_TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Writer:
    def __init__(self, inner: Any):
        self._inner = inner

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._inner.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f: Any, **fmtparams: Any) -> _Writer:
    """`csv.writer` whose every cell passes through `cell`."""
    return _Writer(csv.writer(f, **fmtparams))
