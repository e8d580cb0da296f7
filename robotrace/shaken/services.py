"""Writes (one transaction each, with audit events) for the shaken app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from robotrace.audit import services as audit
from robotrace.ingest.queries import all_reports
from robotrace.providers.services import find_provider
from robotrace.shaken import conf, runtime
from robotrace.shaken.directory import DirectoryError, load_ocn_csv
from robotrace.shaken.models import ShakenCursor, ShakenVerification, SpcDirectory
from robotrace.shaken.verifier import CallContext, Verdict, Verifier

if TYPE_CHECKING:
    from robotrace.accounts.models import User

CURSOR = "reports"

_OUTCOME_BY_FAILURE = {
    "header": ShakenVerification.Outcome.MALFORMED,
    "passport": ShakenVerification.Outcome.MALFORMED,
    "freshness": ShakenVerification.Outcome.STALE,
    "certificate.fetch": ShakenVerification.Outcome.CERT_UNAVAILABLE,
    "certificate": ShakenVerification.Outcome.CERT_FAULT,
    "chain": ShakenVerification.Outcome.UNTRUSTED,
    "signature": ShakenVerification.Outcome.BAD_SIGNATURE,
    "call_match": ShakenVerification.Outcome.TN_MISMATCH,
}


def outcome_of(verdict: Verdict) -> str:
    if verdict.verified:
        return ShakenVerification.Outcome.VALID
    return _OUTCOME_BY_FAILURE.get(verdict.failure) or _OUTCOME_BY_FAILURE.get(verdict.failed_layer) or ShakenVerification.Outcome.MALFORMED


class SignerResolver:
    """SPC -> provider id, memoised per batch: the registry (Provider.spc / OCNs) first, then
    the imported SPC directory (its explicit provider link or its organisation names)."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[int | None, str]] = {}

    def resolve(self, spc: str) -> tuple[int | None, str]:
        spc = (spc or "").strip().upper()
        if not spc:
            return None, ""
        if spc in self._memo:
            return self._memo[spc]
        found: tuple[int | None, str] = (None, "")
        provider = find_provider(text=spc)
        if provider is not None:
            found = (provider.id, "registry")
        else:
            entry = SpcDirectory.objects.filter(spc=spc).first()
            if entry is not None:
                if entry.provider_id:
                    found = (entry.provider_id, "directory")
                else:
                    for name in entry.org_names:
                        provider = find_provider(text=name)
                        if provider is not None:
                            found = (provider.id, "directory")
                            break
        self._memo[spc] = found
        return found


def verify_identity(
    identity: str | Iterable[str] | None,
    *,
    call_time: Any,
    orig: str | None = None,
    dest: str | None = None,
    date_header: str | None = None,
    verifier: Verifier | None = None,
) -> Verdict:
    """Verify one Identity header against the call (no storage)."""
    verifier = verifier or runtime.system_verifier()
    return verifier.verify(identity, CallContext(call_time=call_time, orig_tn=orig, dest_tn=dest, date_header=date_header))


def _fields_for(report: Any, verdict: Verdict, resolver: SignerResolver) -> dict[str, Any]:
    provider_id, source = resolver.resolve(verdict.spc)
    return {
        "reporter_id": report.reporter_id,
        "call_started_at": report.call_started_at,
        "verified": verdict.verified,
        "outcome": outcome_of(verdict),
        "sip_code": verdict.sip_code,
        "failed_layer": verdict.failed_layer,
        "failure": verdict.failure,
        "reason": verdict.reason[:300],
        "layers": {name: res.to_dict() for name, res in verdict.layers.items()},
        "warnings": verdict.warnings[:20],
        "attest": verdict.attest,
        "origid": verdict.origid[:100],
        "orig_tn": verdict.orig_tn[:32],
        "dest_tn": (verdict.dest_tns[0] if verdict.dest_tns else "")[:32],
        "iat": verdict.iat,
        "delta_seconds": verdict.delta_seconds,
        "x5u": verdict.x5u[:2048],
        "cert_fingerprint": verdict.cert_fingerprint,
        "cert_subject": verdict.cert_subject[:300],
        "cert_issuer": verdict.cert_issuer[:300],
        "signature_valid": verdict.signature_valid,
        "signer_spc": verdict.spc[:16],
        "signer_provider_id": provider_id,
        "signer_source": source,
        "calling_number_e164": (report.calling_number_e164 or "")[:16],
        "called_number": (report.called_number or "")[:16],
        "orig_mismatch": verdict.orig_mismatch,
    }


def verify_reports(*, report_ids: Iterable[int], actor: User | None = None, verifier: Verifier | None = None) -> int:
    """Verify the given reports that carry an Identity header; store one row per report
    (re-verifying replaces it). Returns how many were verified."""
    ids = sorted({int(i) for i in report_ids})
    if not ids:
        return 0
    verifier = verifier or runtime.system_verifier()
    resolver = SignerResolver()
    done = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        reports = list(
            all_reports(reason="shaken: verify Identity headers of stored reports")
            .filter(id__in=chunk)
            .exclude(identity_header="")
            .only("id", "reporter_id", "call_started_at", "calling_number_e164", "called_number", "identity_header")
        )
        rows = []
        for report in reports:
            verdict = verifier.verify(
                report.identity_header,
                CallContext(call_time=report.call_started_at, orig_tn=report.calling_number_e164 or None, dest_tn=report.called_number or None),
            )
            rows.append((report, _fields_for(report, verdict, resolver)))
        with transaction.atomic():
            existing = {
                v.report_id: v
                for v in ShakenVerification.objects.unscoped(reason="shaken: upsert verdicts").filter(report_id__in=[r.id for r, _ in rows])
            }
            new, changed = [], []
            for report, fields in rows:
                row = existing.get(report.id)
                if row is None:
                    new.append(ShakenVerification(report_id=report.id, **fields))
                else:
                    for k, val in fields.items():
                        setattr(row, k, val)
                    changed.append(row)
            ShakenVerification.objects.bulk_create(new, batch_size=500)
            if changed:
                ShakenVerification.objects.unscoped(reason="shaken: replace re-verified rows").bulk_update(changed, fields=[k.removesuffix("_id") if k in ("reporter_id", "signer_provider_id") else k for k in rows[0][1]], batch_size=500)
            if rows:
                audit.record(
                    action="shaken.reports_verified",
                    actor=actor,
                    actor_label="" if actor else "system:shaken",
                    object_type="shaken.batch",
                    object_id=f"{rows[0][0].id}-{rows[-1][0].id}",
                    data={
                        "reports": len(rows),
                        "verified": sum(1 for _, f in rows if f["verified"]),
                        "replaced": len(changed),
                    },
                )
        done += len(rows)
    return done


def verify_upload(*, upload_id: int) -> int:
    """Verify the signed reports of one upload (the reports_stored receiver's task)."""
    ids = list(
        all_reports(reason="shaken: reports of a stored upload")
        .filter(upload_id=upload_id)
        .exclude(identity_header="")
        .values_list("id", flat=True)
    )
    done_ids = set(
        ShakenVerification.objects.unscoped(reason="shaken: skip verified").filter(report_id__in=ids).values_list("report_id", flat=True)
    )
    return verify_reports(report_ids=[i for i in ids if i not in done_ids])


def catch_up(*, limit: int | None = None) -> tuple[int, int]:
    """Verify signed reports past the durable cursor; the cursor advances only after the
    batch's rows are stored, so a crash repeats work rather than losing it.
    Returns (reports looked at, reports verified)."""
    limit = limit or conf.batch_size()
    cursor, _ = ShakenCursor.objects.get_or_create(name=CURSOR)
    batch = list(
        all_reports(reason="shaken: catch-up past the cursor")
        .filter(id__gt=cursor.last_report_id)
        .order_by("id")
        .values_list("id", "identity_header")[:limit]
    )
    if not batch:
        return 0, 0
    signed = [i for i, h in batch if h]
    done_ids = set(
        ShakenVerification.objects.unscoped(reason="shaken: skip verified").filter(report_id__in=signed).values_list("report_id", flat=True)
    )
    count = verify_reports(report_ids=[i for i in signed if i not in done_ids])
    last = batch[-1][0]
    # Conditional update: two sweepers racing cannot move the cursor backwards.
    ShakenCursor.objects.filter(name=CURSOR, last_report_id__lt=last).update(last_report_id=last)
    return len(batch), count


def catch_up_all(*, max_batches: int = 10_000) -> int:
    total = 0
    for _ in range(max_batches):
        scanned, done = catch_up()
        total += done
        if scanned == 0:
            break
    return total


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    linked: int = 0
    warnings: list[str] = field(default_factory=list)


def import_ocn_directory(*, actor: User | None, text: str, source: str = "") -> ImportResult:
    """Load an OCN,Org Name,CN,Cert table into SpcDirectory. All or nothing: a bad line
    raises DirectoryError naming the line and field, and nothing is written."""
    table, warnings = load_ocn_csv(text)
    if not table:
        raise DirectoryError("the file holds no OCN rows")
    result = ImportResult(warnings=warnings)
    resolver_cache: dict[str, int | None] = {}
    with transaction.atomic():
        existing = {e.spc: e for e in SpcDirectory.objects.filter(spc__in=list(table))}
        for spc, entry in table.items():
            provider_id = None
            for name in [spc, *entry["names"]]:
                if name not in resolver_cache:
                    p = find_provider(text=name)
                    resolver_cache[name] = p.id if p else None
                provider_id = resolver_cache[name]
                if provider_id:
                    break
            fields = {
                "spc_as_listed": entry["spc_as_listed"][:16],
                "org_names": entry["names"],
                "cert_cns": entry["cns"][:20],
                "cert_urls": entry["urls"][:20],
                "source": source[:200],
            }
            row = existing.get(spc)
            if row is None:
                row = SpcDirectory.objects.create(spc=spc, provider_id=provider_id, **fields)
                result.created += 1
            else:
                for k, v in fields.items():
                    setattr(row, k, v)
                if provider_id and not row.provider_id:
                    row.provider_id = provider_id
                row.save()
                result.updated += 1
            result.linked += int(bool(row.provider_id))
        audit.record(
            action="shaken.directory_imported",
            actor=actor,
            actor_label="" if actor else "system:cli",
            object_type="shaken.spcdirectory",
            object_id=source[:80] or "ocn",
            data={"created": result.created, "updated": result.updated, "linked": result.linked, "warnings": len(warnings)},
        )
    return result
