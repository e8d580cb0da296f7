"""Write nanp_area_codes.csv, the NANP area codes in service, from the installed `phonenumbers`.

    .venv/bin/python -m robotrace.core.data.make_nanp          # rewrite the table
    .venv/bin/python -m robotrace.core.data.make_nanp --check  # exit 1 if it is out of date

Run it after upgrading the pinned phonenumbers (a test fails until you do). An area code is
in service when phonenumbers accepts a number in it; its region is that number's region.
Its state is the region for the US territories, and for the US and Canada the state or
province phonenumbers' geocoding data names for the area code (or, where only places within
it are named, the one state they all lie in). An area code that spans several ("Nova
Scotia/Prince Edward Island") and toll-free or non-geographic ones have no state.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumber
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.tzdata import TIMEZONE_DATA

from robotrace.core.phones import DATA_FILE, STATE_NAMES

TERRITORIES = {"PR", "VI", "GU", "MP", "AS"}
PROVINCES = {
    "alberta": "AB", "british columbia": "BC", "manitoba": "MB", "new brunswick": "NB",
    "newfoundland and labrador": "NL", "nova scotia": "NS", "ontario": "ON", "prince edward island": "PE",
    "quebec": "QC", "saskatchewan": "SK", "yukon": "YT", "northwest territories": "NT", "nunavut": "NU",
}  # fmt: skip
# How phonenumbers' English geocoding data spells some of them ("British Colombia" sic).
SPELLINGS = {"washington d.c.": "DC", "washington state": "WA", "british colombia": "BC"}
NAMES = {**STATE_NAMES, **PROVINCES, **SPELLINGS}
CODES = frozenset(NAMES.values())
_PLACE = re.compile(r", ([A-Z]{2})$")  # "Darien, CT"


def _code(description: str) -> str:
    if description.lower() in NAMES:
        return NAMES[description.lower()]
    m = _PLACE.search(description)
    return m.group(1) if m and m.group(1) in CODES else ""


def _region(npa: str, exchanges: list[int]) -> str | None:
    """Region of the first number phonenumbers accepts in this area code, None if it accepts none."""
    for nxx in exchanges:
        number = PhoneNumber(country_code=1, national_number=int(f"{npa}{nxx:03d}1234"))
        if phonenumbers.is_valid_number(number):
            return phonenumbers.region_code_for_number(number)
    return None


def rows() -> list[tuple[str, str, str]]:
    """(npa, region, state) for every area code in service, by area code."""
    places: dict[str, list[str]] = defaultdict(list)  # npa -> descriptions of places within it
    for prefix, names in GEOCODE_DATA.items():
        if prefix[0] == "1" and len(prefix) > 4 and "en" in names:
            places[prefix[1:4]].append(names["en"])
    geographic = {p[1:4] for p in GEOCODE_DATA if p[0] == "1" and len(p) >= 4}
    geographic |= {p[1:4] for p in TIMEZONE_DATA if p[0] == "1" and len(p) >= 4}
    out = []
    for npa in map(str, range(200, 1000)):
        # Every tenth exchange finds the toll-free and non-geographic codes; one that
        # phonenumbers places somewhere may have only a few exchanges (Anguilla): try all.
        region = _region(npa, list(range(200, 1000, 10)))
        if region is None and npa in geographic:
            region = _region(npa, list(range(200, 1000)))
        if region is None:
            continue
        state = ""
        if region in TERRITORIES:
            state = region
        elif region in ("US", "CA"):
            whole = GEOCODE_DATA.get("1" + npa, {}).get("en")
            if whole is not None:
                state = _code(whole)
            else:
                states = {_code(d) for d in places.get(npa, [])} - {""}
                state = states.pop() if len(states) == 1 else ""
        out.append((npa, region, state))
    return out


def render() -> str:
    lines = [
        "# NANP area codes in service, with the ISO region and US state / territory / Canadian province.",
        f"# Written by robotrace/core/data/make_nanp.py from phonenumbers {phonenumbers.__version__}: do not edit;",
        "# after upgrading phonenumbers run `python -m robotrace.core.data.make_nanp`.",
        "npa,region,state",
    ]
    lines += [",".join(row) for row in rows()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    path = Path(DATA_FILE)
    if "--check" in argv:
        if path.read_text() != text:
            print(f"{path} is not what phonenumbers {phonenumbers.__version__} gives: run make_nanp", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}: {text.count(chr(10)) - 4} area codes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
