"""Telephone numbers, one set of rules for every app: E.164 normalisation, NANP validity and
area code → state, national spellings, and callback numbers in transcripts.

Three strengths of "a number", each for its own question:

- `normalise(raw)`: the E.164 form of anything shaped like a telephone number, assignable or
  not ("" when it is not a number at all). A spoofed caller ID or a legal target is still that
  number even when no subscriber could hold it.
- `check(raw)`: that form plus why it cannot be a real, assignable line (`reason`) and the
  state of its area code. `valid(raw)` is the E.164 form only when the number could be real:
  for numbers the platform acts on (the called number a traceback starts from, a callback
  number traced forward).
- `parse(raw)`: `normalise` for form fields, raising `BadNumber` with the reason.

It is on the ingest hot path, so North American numbers take a hand-written fast path over a
table of area codes in service (data/nanp_area_codes.csv, written by data/make_nanp.py from
the pinned `phonenumbers` release) and only numbers outside the NANP go through the
`phonenumbers` library. Results are cached: robocall campaigns present the same few numbers
millions of times.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import msgspec
import phonenumbers

DATA_FILE = Path(__file__).parent / "data" / "nanp_area_codes.csv"


class BadNumber(ValueError):
    pass


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
    """E.164 form of a number as presented, assignable or not; "" when it is not a telephone number."""
    return check(raw or "").e164


def valid(raw: str) -> str:
    """E.164 form of a number that could be a real, assignable line; "" otherwise."""
    checked = check(raw or "")
    return checked.e164 if checked.valid else ""


def parse(raw: str) -> str:
    """E.164 form of a number typed into a form, assignable or not; `BadNumber` saying why not."""
    text = (raw or "").strip()
    if not text:
        raise BadNumber("empty phone number")
    checked = check(text)
    if not checked.e164:
        raise BadNumber(f"{text!r} is not a phone number ({checked.reason})")
    return checked.e164


def normalise_all(numbers: Iterable[str]) -> list[str]:
    """Each distinct number in E.164, first seen first; what is not a number is left out."""
    out: list[str] = []
    for raw in numbers or ():
        e164 = normalise(str(raw))
        if e164 and e164 not in out:
            out.append(e164)
    return out


def invalid_reason(raw: str) -> str:
    """Why this number cannot be a real caller (a spoofing signal), or ""."""
    return check(raw).reason


def state_for(raw: str) -> str:
    """Two-letter state/province of a NANP number's area code ("" when unknown)."""
    return check(raw).state


def is_toll_free(e164: str) -> bool:
    return e164.startswith("+1") and e164[2:5] in TOLL_FREE_NPAS


# --- National spellings ----------------------------------------------------------------------


def digits(value: str) -> str:
    return _NON_DIGITS.sub("", value or "")


def national(value: str) -> str:
    """The 10-digit NANP number for any common spelling ('+1 (919) 555-0101', '19195550101',
    '919.555.0101'), the key call records and number blocks are compared by; other numbers
    keep all their digits."""
    d = digits(value)
    if len(d) == 11 and d.startswith("1"):
        return d[1:]
    return d


def format_national(value: str) -> str:
    """'(919) 555-0101' for a NANP number in any common spelling; anything else unchanged."""
    n = national(value)
    if len(n) != 10:
        return value
    return f"({n[:3]}) {n[3:6]}-{n[6:]}"


# --- Callback numbers in transcripts ---------------------------------------------------------

_WRITTEN = re.compile(r"(?<![\d+])(?:\+?1[\s.\-]*)?\(?([2-9]\d{2})\)?[\s.\-]*([2-9]\d{2})[\s.\-]*(\d{4})(?!\d)")
_WORD_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_TOKENS = re.compile(r"[a-z]+|\d+")
# A spoken number is a run of at least six tokens _spoken_runs keeps together (one digit word
# or single digit each, "double"/"triple", "hundred"): fewer never make ten digits ("nine
# hundred hundred hundred hundred" is nine). Most transcripts have no such run, and this one
# search is several times cheaper than tokenising them.
_SPOKEN_TOKEN = (
    r"(?:(?<![a-z])(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple|hundred)(?![a-z])"
    r"|(?<!\d)\d(?!\d))"
)
_SPOKEN_RUN = re.compile(_SPOKEN_TOKEN + r"(?:[^a-z\d]*" + _SPOKEN_TOKEN + r"){5,}")


def _spoken_runs(text: str) -> list[str]:
    """Runs of digits read out in words ("eight three three, three oh four...") or mixed."""
    lower = text.lower()
    if not _SPOKEN_RUN.search(lower):
        return []
    runs: list[str] = []
    current: list[str] = []
    repeat = 1
    for token in _TOKENS.findall(lower):
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
def _extract(text: str, written_as_given: bool) -> tuple[str, ...]:
    found: list[str] = []
    for m in _WRITTEN.finditer(text):
        checked = check("".join(m.groups()))
        if (checked.valid or written_as_given) and checked.e164 not in found:
            found.append(checked.e164)
    for run in _spoken_runs(text):
        # A run may have a stray digit before the number ("press 1, 8 3 3 ..."): try every
        # 11-digit window that starts with 1, then every 10-digit window. Only an assignable
        # number tells which window is the number.
        candidates = [run[i : i + 11] for i in range(len(run) - 10) if run[i] == "1"]
        candidates += [run[i : i + 10] for i in range(len(run) - 9)]
        for candidate in candidates:
            checked = check(candidate)
            if checked.valid and checked.e164 not in found:
                found.append(checked.e164)
                break
    return tuple(found)


def callback_numbers_in(text: str, *, written_as_given: bool = False) -> tuple[str, ...]:
    """Numbers a transcript asks the listener to call, written or spoken, in E.164, first seen
    first (the cached tuple itself: intake's hot path makes no copy).

    Only numbers that could be real lines, unless `written_as_given`: then a number written
    out in full is kept as written even when no subscriber could hold it (555-01XX...), which
    is what the campaign engine links reports by (the script's own number, whatever it is)."""
    if not text or len(text) < 10:
        return ()
    return _extract(text, written_as_given)


def extract_callback_numbers(text: str) -> list[str]:
    """callback_numbers_in as a list of numbers that could be real lines."""
    return list(callback_numbers_in(text))


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
