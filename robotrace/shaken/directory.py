"""Parsing the OCN-to-provider table (OCN,Org Name,CN,Cert) that maps a signer's SPC to a
provider. Pure functions; the table is stored by services.import_ocn_directory."""

from __future__ import annotations

import csv
import io
from typing import Any

csv.field_size_limit(1 << 24)

REQUIRED = ("OCN", "Org Name")


class DirectoryError(ValueError):
    pass


def load_ocn_csv(text: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """{SPC upper-cased: {"spc_as_listed", "names": [...], "cns": [...], "urls": [...]}} and
    warnings. SPC keys are upper-cased because the published table has lower-case spellings
    of upper-case SPCs; the spelling as listed is kept. Raises DirectoryError naming the line
    and field on a malformed file."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or any(f not in reader.fieldnames for f in REQUIRED):
        raise DirectoryError(f"line 1: header must name the columns {', '.join(REQUIRED)} (got {reader.fieldnames})")
    table: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for lineno, row in enumerate(reader, start=2):
        ocn = (row.get("OCN") or "").strip()
        name = (row.get("Org Name") or "").strip()
        if not ocn:
            raise DirectoryError(f"line {lineno}: field OCN is empty")
        if ocn.lower() == "unknown":
            warnings.append(f"line {lineno}: OCN 'Unknown' skipped (no SPC to look up)")
            continue
        if len(ocn) > 16 or not ocn.isalnum():
            raise DirectoryError(f"line {lineno}: field OCN {ocn[:20]!r} is not letters and digits")
        if not name:
            raise DirectoryError(f"line {lineno}: field Org Name is empty")
        key = ocn.upper()
        entry = table.setdefault(key, {"spc_as_listed": ocn, "names": [], "cns": [], "urls": []})
        if name not in entry["names"]:
            entry["names"].append(name)
        for field, col in (("cns", "CN"), ("urls", "Cert")):
            value = (row.get(col) or "").strip()
            if value and value not in entry[field]:
                entry[field].append(value)
        if ocn != key:
            warnings.append(f"line {lineno}: OCN {ocn!r} listed in lower case")
    return table, warnings
