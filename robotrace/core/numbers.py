"""Telephone number spellings the engines compare: E.164, 10-digit, punctuated. Cheap pure
functions for hot paths; intake's full check (validity, state, spoofing) is `ingest.phone`."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D+")


def digits(value: str) -> str:
    return _NON_DIGITS.sub("", value or "")


def national(value: str) -> str:
    """The 10-digit NANP number for any common spelling ('+1 (919) 555-0101', '19195550101',
    '919.555.0101'); other numbers keep all their digits."""
    d = digits(value)
    if len(d) == 11 and d.startswith("1"):
        return d[1:]
    return d


def e164(value: str) -> str:
    """E.164 for NANP numbers; '+' and the digits for anything else that looks international."""
    raw = (value or "").strip()
    d = digits(raw)
    if len(d) == 10:
        return "+1" + d
    if len(d) == 11 and d.startswith("1"):
        return "+" + d
    if raw.startswith("+") and 8 <= len(d) <= 15:
        return "+" + d
    return ""


def same_number(a: str, b: str) -> bool:
    na, nb = national(a), national(b)
    return bool(na) and na == nb
