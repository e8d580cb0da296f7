"""Telephone numbers: E.164 normalisation, NANP area code → state, and the spoofing signal.

Other apps import this module (`normalise`, `check`, `state_for`, `invalid_reason`,
`extract_callback_numbers`). It is on the ingest hot path, so North American numbers take a
hand-written fast path over a table of assigned area codes (data/nanp_area_codes.csv) and
only numbers outside the NANP go through the `phonenumbers` library. Results are cached:
robocall campaigns present the same few numbers millions of times.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import msgspec
import phonenumbers

DATA_FILE = Path(__file__).parent / "data" / "nanp_area_codes.csv"


@dataclass(frozen=True, slots=True)
class AreaCode:
    npa: str
    region: str  # ISO 3166 region: US, CA, PR, GU, JM...
    state: str  # US state / territory or Canadian province; "" for toll-free and non-geographic


def _load() -> dict[str, AreaCode]:
    out: dict[str, AreaCode] = {}
    with DATA_FILE.open(newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            out[row["npa"]] = AreaCode(row["npa"], row["region"], row["state"])
    return out


AREA_CODES: dict[str, AreaCode] = _load()
TOLL_FREE_NPAS = frozenset({"800", "833", "844", "855", "866", "877", "888"})

_NON_DIGITS = re.compile(r"\D")


class Checked(msgspec.Struct, frozen=True, gc=False):
    """What intake needs to know about one number as presented.

    A msgspec Struct built in C and, with `gc=False`, never tracked by the garbage collector:
    the check cache keeps 65,536 of these, and as tracked objects (a NamedTuple is a tuple
    subclass, which CPython never untracks) every full collection in a server worker walked
    them all, several times a minute under load."""

    e164: str  # "" when the text is not a telephone number at all
    reason: str  # why the number cannot be a real, assignable caller; "" when it can
    state: str  # from the NANP area code; "" outside the US/Canada or for toll-free

    @property
    def valid(self) -> bool:
        return bool(self.e164) and not self.reason


def nanp_reason(ten: str) -> str:
    """Why a 10-digit NANP number (NPA NXX XXXX) cannot be assigned to a subscriber; "" if it can."""
    npa, nxx, line = ten[:3], ten[3:6], ten[6:]
    if npa[0] in "01":
        return "area code starts with 0 or 1"
    if npa[1:] == "11":
        return "area code is an N11 service code"
    if npa not in AREA_CODES:
        return "area code is not assigned"
    if nxx[0] in "01":
        return "exchange starts with 0 or 1"
    if nxx[1:] == "11":
        return "exchange is an N11 service code"
    if nxx == "555" and line.startswith("01"):
        return "555-01XX is reserved for fiction"
    if nxx in ("958", "959"):
        return "exchange is reserved for carrier testing"
    if ten[3:] == "0000000" or len(set(ten)) == 1:
        return "number is a placeholder"
    return ""


# The fast path's tables. An assigned area code that nanp_reason cannot refuse for its own
# digits (it never starts with 0/1 and is never N11) → its state; and every exchange (NXX)
# nanp_reason accepts outright: not starting with 0/1, not N11, not 958/959, and not 555
# (whose line number decides, so it takes the slow path).
_CLEAN_NPA_STATE: dict[str, str] = {npa: a.state for npa, a in AREA_CODES.items() if npa[0] not in "01" and npa[1:] != "11"}
_CLEAN_NXX = frozenset(str(n) for n in range(200, 1000) if n % 100 != 11 and n not in (555, 958, 959))


@lru_cache(maxsize=65_536)
def check(raw: str) -> Checked:
    """Normalise a number as presented to E.164 and say whether it could be a real caller."""
    n = len(raw)
    if (n == 12 and raw[:2] == "+1" and raw[2:].isdigit()) or (n == 10 and raw.isdigit()):
        # Already E.164 NANP, or ten bare digits: the common cases, no parsing needed.
        ten = raw[-10:]
        state = _CLEAN_NPA_STATE.get(ten[:3])
        # Most numbers are plainly assignable: two lookups instead of nanp_reason's string
        # slicing (the only other refusal, ten equal digits, is one comparison).
        if state is not None and ten[3:6] in _CLEAN_NXX and ten != ten[0] * 10:
            return Checked("+1" + ten, "", state)
        area = AREA_CODES.get(ten[:3])
        return Checked("+1" + ten, nanp_reason(ten), area.state if area else "")
    text = raw.strip()
    if not text:
        return Checked("", "no number", "")
    digits = _NON_DIGITS.sub("", text)
    international = text.startswith("+") or digits.startswith("011")
    if digits.startswith("011"):
        digits = digits[3:]
    if not digits:
        return Checked("", "not a telephone number", "")
    if digits[0] == "1" and len(digits) == 11:
        ten = digits[1:]
    elif len(digits) == 10 and not international:
        ten = digits
    elif international and digits[0] != "1":
        return _international(digits)
    else:
        return Checked("", "not a 10-digit North American number", "")
    reason = nanp_reason(ten)
    area = AREA_CODES.get(ten[:3])
    return Checked("+1" + ten, reason, area.state if area else "")


def _international(digits: str) -> Checked:
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return Checked("", "not a telephone number", "")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        return Checked(e164, "not a valid number in its country's numbering plan", "")
    return Checked(e164, "", "")


def normalise(raw: str) -> str:
    """E.164 form of a number as presented, or "" when it is not a telephone number."""
    return check(raw).e164


def invalid_reason(raw: str) -> str:
    """Why this number cannot be a real caller (a spoofing signal), or ""."""
    return check(raw).reason


def state_for(raw: str) -> str:
    """Two-letter state/province of a NANP number's area code ("" when unknown)."""
    return check(raw).state


def is_toll_free(e164: str) -> bool:
    return e164.startswith("+1") and e164[2:5] in TOLL_FREE_NPAS


# --- Callback numbers in transcripts ---------------------------------------------------------

_WRITTEN = re.compile(r"(?<![\d+])(?:\+?1[\s.\-]*)?\(?([2-9]\d{2})\)?[\s.\-]*([2-9]\d{2})[\s.\-]*(\d{4})(?!\d)")
_WORD_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_TOKENS = re.compile(r"[a-z]+|\d+")


def _spoken_runs(text: str) -> list[str]:
    """Runs of digits read out in words ("eight three three, three oh four...") or mixed."""
    runs: list[str] = []
    current: list[str] = []
    repeat = 1
    for token in _TOKENS.findall(text.lower()):
        if token.isdigit() and len(token) > 1:
            # Written digit groups ("877-926-4613") are the _WRITTEN pattern's job; joining them
            # with spoken digits around them invents numbers ("…4613 two" → 779-264-6132).
            if current:
                runs.append("".join(current))
            current, repeat = [], 1
        elif token.isdigit():
            current.append(token * repeat)
            repeat = 1
        elif token in _WORD_DIGITS:
            current.append(_WORD_DIGITS[token] * repeat)
            repeat = 1
        elif token in _REPEAT:
            repeat = _REPEAT[token]
        elif token == "hundred" and current:
            current.append("00")  # "one eight hundred ..." = 1-800
        else:
            if current:
                runs.append("".join(current))
            current, repeat = [], 1
    if current:
        runs.append("".join(current))
    return [run for run in runs if len(run) >= 10]


@lru_cache(maxsize=4_096)
def _extract(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for m in _WRITTEN.finditer(text):
        checked = check("".join(m.groups()))
        if checked.valid and checked.e164 not in found:
            found.append(checked.e164)
    for run in _spoken_runs(text):
        # A run may have a stray digit before the number ("press 1, 8 3 3 ..."): try every
        # 11-digit window that starts with 1, then every 10-digit window.
        candidates = [run[i : i + 11] for i in range(len(run) - 10) if run[i] == "1"]
        candidates += [run[i : i + 10] for i in range(len(run) - 9)]
        for candidate in candidates:
            checked = check(candidate)
            if checked.valid and checked.e164 not in found:
                found.append(checked.e164)
                break
    return tuple(found)


def extract_callback_numbers(text: str) -> list[str]:
    """Valid NANP numbers a transcript asks the listener to call, in E.164, first seen first."""
    return list(callback_numbers_in(text))


def callback_numbers_in(text: str) -> tuple[str, ...]:
    """extract_callback_numbers as the cached tuple itself (intake's hot path: no copy)."""
    if not text or len(text) < 10:
        return ()
    return _extract(text)


# --- States ----------------------------------------------------------------------------------

STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "virgin islands": "VI", "u.s. virgin islands": "VI", "american samoa": "AS", "northern mariana islands": "MP",
}  # fmt: skip


def state_code(value: str) -> str:
    """Two-letter code from a code or a full state name ("North Carolina" → "NC"); "" if unknown."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return STATE_NAMES.get(text.lower(), "")
