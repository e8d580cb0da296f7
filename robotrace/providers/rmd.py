"""Import of the FCC Robocall Mitigation Database (RMD) CSV export.

Registry providers are matched by FRN, then by normalised business name. Each import
records, for every registry provider, whether it was listed, not listed, or removed (listed
in an earlier export and absent from this one), with the date the export was taken.
Unknown columns and bad lines are reported by name and line number; a file without an FRN
or business-name column is refused before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from robotrace.audit import services as audit
from robotrace.providers.models import Provider, RmdImport, RmdSnapshot
from robotrace.providers.names import normalise_name
from robotrace.providers.services import require_consortium

if TYPE_CHECKING:
    from robotrace.accounts.models import User

# Header variants seen in RMD exports and research copies of them -> our field.
ALIASES: dict[str, str] = {
    "frn": "frn",
    "fcc_registration_number": "frn",
    "fcc_frn": "frn",
    "business_name": "business_name",
    "company_name": "business_name",
    "provider_name": "business_name",
    "legal_name": "business_name",
    "business_address": "business_address",
    "address": "business_address",
    "implementation": "implementation",
    "stir_shaken_implementation": "implementation",
    "implementation_status": "implementation",
    "stir_shaken_status": "implementation",
    "voice_service_provider_choice": "voice_service_provider_choice",
    "voice_service_provider": "voice_service_provider_choice",
    "gateway_provider_choice": "gateway_provider_choice",
    "gateway_provider": "gateway_provider_choice",
    "intermediate_provider_choice": "intermediate_provider_choice",
    "intermediate_provider": "intermediate_provider_choice",
    "rmd_number": "rmd_number",
    "filing_date": "filing_date",
    "date_filed": "filing_date",
    "other_dba_names": "dba_names",
    "dba_names": "dba_names",
    "dba": "dba_names",
}
TYPE_COLUMNS = {
    "voice_service_provider_choice": "voice",
    "gateway_provider_choice": "gateway",
    "intermediate_provider_choice": "intermediate",
}
_NO = {"", "no", "n", "false", "0", "none", "n/a", "na"}


def canonical_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (header or "").replace("\ufeff", "").strip().lower()).strip("_")


@dataclass
class RmdRow:
    line: int
    frn: str
    business_name: str
    implementation: str
    provider_types: list[str]
    dba_names: list[str]


@dataclass
class Parsed:
    rows: list[RmdRow] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    bad_lines: list[dict[str, Any]] = field(default_factory=list)


def parse(lines: Iterable[str]) -> Parsed:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError({"file": "the file is empty (no header line)"}) from None
    columns: list[str | None] = []
    out = Parsed()
    for raw in header:
        key = canonical_header(raw)
        if key in ALIASES:
            columns.append(ALIASES[key])
        elif key.startswith("contact"):
            columns.append("contact")
        else:
            columns.append(None)
            if raw.strip():
                out.unknown_columns.append(raw.strip())
    if "frn" not in columns and "business_name" not in columns:
        raise ValidationError({"header": "line 1 has neither an FRN nor a business-name column (e.g. 'frn', 'business_name')"})
    for record in reader:
        line = reader.line_num
        if not any(v.strip() for v in record):
            continue
        if len(record) != len(columns):
            out.bad_lines.append({"line": line, "field": None, "reason": f"{len(record)} values for {len(columns)} columns"})
            continue
        values: dict[str, str] = {}
        for col, value in zip(columns, record, strict=True):
            if col and col not in values:
                values[col] = value.strip()
        frn = re.sub(r"[\s-]", "", values.get("frn", ""))
        if frn and not frn.isdigit():
            out.bad_lines.append({"line": line, "field": "frn", "reason": f"FRN {frn!r} is not a number"})
            continue
        if len(frn) > 10:
            out.bad_lines.append({"line": line, "field": "frn", "reason": f"FRN {frn!r} has more than 10 digits"})
            continue
        # Spreadsheets drop the leading zeros of FRNs; they are 10 digits.
        frn = frn.zfill(10) if frn else ""
        name = values.get("business_name", "")
        if not frn and not name:
            out.bad_lines.append({"line": line, "field": "frn", "reason": "neither FRN nor business name"})
            continue
        types = [label for col, label in TYPE_COLUMNS.items() if values.get(col, "").strip().lower() not in _NO]
        dbas = [d.strip() for d in re.split(r"[;|]", values.get("dba_names", "")) if d.strip()]
        out.rows.append(RmdRow(line, frn, name, values.get("implementation", "")[:80], types, dbas))
    return out


@dataclass
class ImportSummary:
    rmd_import: RmdImport
    listed: int
    not_listed: int
    removed: int
    matched_by_frn: int
    matched_by_name: int
    unmatched_rows: int
    unknown_columns: list[str]
    bad_lines: list[dict[str, Any]]


def import_rmd(
    *,
    actor: User | None,
    text: str,
    file_name: str,
    seen_on: date,
    progress: Callable[[int], object] | None = None,
) -> ImportSummary:
    require_consortium(actor)
    parsed = parse(io.StringIO(text))
    latest = RmdImport.objects.order_by("-seen_on").values_list("seen_on", flat=True).first()
    if latest is not None and seen_on < latest:
        raise ValidationError({"seen_on": f"an export seen on {latest} is already imported; {seen_on} is older"})
    with transaction.atomic():
        providers = list(Provider.objects.exclude(status=Provider.Status.MERGED).select_for_update())
        by_frn: dict[str, Provider] = {}
        by_name: dict[str, Provider] = {}
        for p in providers:
            if p.frn:
                by_frn.setdefault(p.frn.zfill(10), p)
            for alias in (p.name, *p.dba_names):
                key = normalise_name(alias)
                if key:
                    # Active records win a name over pending ones.
                    if key not in by_name or (by_name[key].status != Provider.Status.ACTIVE and p.status == Provider.Status.ACTIVE):
                        by_name[key] = p
        rmd_import = RmdImport.objects.create(file_name=file_name[:255], seen_on=seen_on, imported_by=actor)
        matched: dict[int, tuple[RmdRow, str]] = {}
        unmatched = 0
        for i, row in enumerate(parsed.rows, 1):
            provider, how = (by_frn.get(row.frn), "frn") if row.frn else (None, "")
            if provider is None:
                for alias in (row.business_name, *row.dba_names):
                    provider = by_name.get(normalise_name(alias))
                    if provider is not None:
                        how = "name"
                        break
            if provider is None:
                unmatched += 1
            elif provider.id not in matched:
                matched[provider.id] = (row, how)
            if progress and i % 500 == 0:
                progress(500)
        if progress:
            progress(len(parsed.rows) % 500)
        counts = {"listed": 0, "not_listed": 0, "removed": 0}
        snapshots = []
        for p in providers:
            hit = matched.get(p.id)
            if hit is not None:
                row, how = hit
                status = Provider.RmdStatus.LISTED
                p.rmd_first_seen_at = p.rmd_first_seen_at or seen_on
                p.rmd_last_seen_at = seen_on
                p.rmd_removed_at = None
                p.rmd_implementation = row.implementation
                p.rmd_provider_types = row.provider_types
                if not p.frn and row.frn:
                    p.frn = row.frn
                snapshots.append(RmdSnapshot(
                    provider=p, rmd_import=rmd_import, seen_on=seen_on, status=status, matched_by=how, frn=row.frn,
                    business_name=row.business_name[:200], implementation=row.implementation,
                    provider_types=row.provider_types, line=row.line,
                ))
            else:
                if p.rmd_status in (Provider.RmdStatus.LISTED, Provider.RmdStatus.REMOVED):
                    status = Provider.RmdStatus.REMOVED
                    if p.rmd_status == Provider.RmdStatus.LISTED:
                        p.rmd_removed_at = seen_on
                else:
                    status = Provider.RmdStatus.NOT_LISTED
                snapshots.append(RmdSnapshot(provider=p, rmd_import=rmd_import, seen_on=seen_on, status=status))
            p.rmd_status = status
            counts[status] += 1
        Provider.objects.bulk_update(
            providers,
            ["rmd_status", "rmd_first_seen_at", "rmd_last_seen_at", "rmd_removed_at", "rmd_implementation", "rmd_provider_types", "frn"],
            batch_size=1000,
        )
        RmdSnapshot.objects.bulk_create(snapshots, batch_size=1000)
        by_frn_count = sum(1 for _, how in matched.values() if how == "frn")
        rmd_import.rows = len(parsed.rows)
        rmd_import.matched = len(matched)
        rmd_import.listed, rmd_import.not_listed, rmd_import.removed = counts["listed"], counts["not_listed"], counts["removed"]
        rmd_import.unmatched_rows = unmatched
        rmd_import.unknown_columns = parsed.unknown_columns
        rmd_import.bad_lines = parsed.bad_lines[:1000]
        rmd_import.save()
        audit.record(
            action="provider.rmd_imported",
            actor=actor,
            obj=rmd_import,
            data={
                "file": file_name, "seen_on": seen_on.isoformat(), "rows": len(parsed.rows), **counts,
                "bad_lines": len(parsed.bad_lines), "unknown_columns": parsed.unknown_columns,
            },
        )
    return ImportSummary(
        rmd_import=rmd_import, listed=counts["listed"], not_listed=counts["not_listed"], removed=counts["removed"],
        matched_by_frn=by_frn_count, matched_by_name=len(matched) - by_frn_count, unmatched_rows=unmatched,
        unknown_columns=parsed.unknown_columns, bad_lines=parsed.bad_lines,
    )
