"""What other apps may ask the shaken app (tracebacks, providers, campaigns).

Read-only, system-level (no organisation scope: callers apply their own access rules to
what they show). Nothing here raises for unknown ids, it answers None or empty figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from robotrace.campaigns.queries import Status as CampaignStatus
from robotrace.ingest.queries import all_reports
from robotrace.providers import queries as registry
from robotrace.shaken.models import ShakenVerification

_REASON = "shaken facade: system-level read for another app"


@dataclass(frozen=True)
class SignerInfo:
    provider_id: int | None
    spc: str
    attest: str
    origid: str
    verified: bool


def _rows() -> Any:
    return ShakenVerification.objects.unscoped(reason=_REASON)


def verified_signer_for_report(report_id: int) -> SignerInfo | None:
    """The provider that signed the report's call. `verified` is True only when every layer
    passed (never attribute from an unverified PASSporT); None when the report carried no
    verifiable signer at all (unsigned, not yet verified, or no certificate obtained)."""
    row = _rows().filter(report_id=report_id).only("signer_provider_id", "signer_spc", "attest", "origid", "verified").first()
    if row is None or not row.signer_spc:
        return None
    return SignerInfo(provider_id=row.signer_provider_id, spc=row.signer_spc, attest=row.attest, origid=row.origid, verified=row.verified)


def _window(qs: Any, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    if since is not None:
        qs = qs.filter(call_started_at__gte=since)
    if until is not None:
        qs = qs.filter(call_started_at__lt=until)
    return qs


def _illegal_report_ids(report_ids: list[int]) -> set[int]:
    """Reports that belong to a confirmed-illegal campaign."""
    if not report_ids:
        return set()
    out: set[int] = set()
    for start in range(0, len(report_ids), 2000):
        out.update(
            all_reports(reason=_REASON)
            .filter(id__in=report_ids[start : start + 2000], campaign__status=CampaignStatus.CONFIRMED)
            .values_list("id", flat=True)
        )
    return out


def provider_signing_stats(
    provider_ids: list[int] | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per signing provider: calls signed (verified), attestation mix of those, A-attested
    calls in confirmed-illegal campaigns, spoofed calls it attested A/B (calling number
    flagged invalid by the reporter, or orig not the calling number), invalid signatures
    and certificate faults (expired, not yet valid, profile, untrusted chain)."""
    qs = _window(_rows().exclude(signer_provider_id=None), since, until)
    if provider_ids is not None:
        qs = qs.filter(signer_provider_id__in=list(provider_ids))
    stats: dict[int, dict[str, Any]] = defaultdict(
        lambda: {
            "calls_signed": 0,
            "attestation": {"A": 0, "B": 0, "C": 0},
            "a_attested_illegal": 0,
            "spoofed_attested": 0,
            "invalid_signatures": 0,
            "certificate_faults": 0,
            "failed_verifications": 0,
        }
    )
    grouped = qs.values("signer_provider_id", "outcome", "attest").annotate(n=Count("id"))
    for g in grouped:
        s = stats[g["signer_provider_id"]]
        if g["outcome"] == ShakenVerification.Outcome.VALID:
            s["calls_signed"] += g["n"]
            if g["attest"] in s["attestation"]:
                s["attestation"][g["attest"]] += g["n"]
        else:
            s["failed_verifications"] += g["n"]
        if g["outcome"] == ShakenVerification.Outcome.BAD_SIGNATURE:
            s["invalid_signatures"] += g["n"]
        if g["outcome"] in (ShakenVerification.Outcome.CERT_FAULT, ShakenVerification.Outcome.UNTRUSTED):
            s["certificate_faults"] += g["n"]

    a_rows = list(qs.filter(outcome=ShakenVerification.Outcome.VALID, attest="A").values_list("report_id", "signer_provider_id"))
    illegal = _illegal_report_ids([r for r, _ in a_rows])
    for report_id, provider_id in a_rows:
        if report_id in illegal:
            stats[provider_id]["a_attested_illegal"] += 1

    # Spoofed but attested: the signature is genuine and A/B, yet the number was not the
    # caller's (orig mismatch) or the reporter flagged the calling number as invalid.
    attested = qs.filter(signature_valid=True, attest__in=("A", "B"))
    spoof_rows = list(attested.values_list("report_id", "signer_provider_id", "orig_mismatch"))
    invalid_numbers: set[int] = set()
    ids = [r for r, _, m in spoof_rows if not m]
    for start in range(0, len(ids), 2000):
        invalid_numbers.update(
            all_reports(reason=_REASON)
            .filter(id__in=ids[start : start + 2000], is_calling_number_invalid=True)
            .values_list("id", flat=True)
        )
    for report_id, provider_id, mismatch in spoof_rows:
        if mismatch or report_id in invalid_numbers:
            stats[provider_id]["spoofed_attested"] += 1
    if provider_ids is not None:
        for pid in provider_ids:
            stats[pid]  # noqa: B018 - materialise zero rows for providers asked about
    return dict(stats)


def campaign_signing_stats(campaign_id: int) -> dict[str, Any]:
    """Share of the campaign's reports whose call was signed (verified), and its signers."""
    empty = {"reports": 0, "with_identity": 0, "verified": 0, "share_signed": 0.0, "attestation": {"A": 0, "B": 0, "C": 0}, "signers": []}
    report_ids = list(all_reports(reason=_REASON).filter(campaign_id=campaign_id).values_list("id", flat=True))
    if not report_ids:
        return empty
    rows: list[dict[str, Any]] = []
    for start in range(0, len(report_ids), 2000):
        rows.extend(
            _rows()
            .filter(report_id__in=report_ids[start : start + 2000])
            .values("verified", "attest", "signer_spc", "signer_provider_id")
        )
    verified = [r for r in rows if r["verified"]]
    attest = Counter(r["attest"] for r in verified)
    signers: dict[tuple[int | None, str], dict[str, Any]] = {}
    for r in verified:
        key = (r["signer_provider_id"], r["signer_spc"])
        entry = signers.setdefault(key, {"provider_id": key[0], "spc": key[1], "calls": 0, "attestation": {"A": 0, "B": 0, "C": 0}})
        entry["calls"] += 1
        if r["attest"] in entry["attestation"]:
            entry["attestation"][r["attest"]] += 1
    names = _provider_names([k[0] for k in signers if k[0]])
    for entry in signers.values():
        entry["provider_name"] = names.get(entry["provider_id"], "")
    return {
        "reports": len(report_ids),
        "with_identity": len(rows),
        "verified": len(verified),
        "share_signed": round(len(verified) / len(report_ids), 4),
        "attestation": {k: attest.get(k, 0) for k in ("A", "B", "C")},
        "signers": sorted(signers.values(), key=lambda e: -e["calls"]),
    }


def _provider_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return registry.names(ids)


def report_verdicts(report_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Compact verdicts for a list of reports (for other apps' tables)."""
    out: dict[int, dict[str, Any]] = {}
    for row in _rows().filter(report_id__in=list(report_ids)[:5000]).values(
        "report_id", "verified", "outcome", "sip_code", "attest", "signer_spc", "signer_provider_id"
    ):
        out[row["report_id"]] = row
    return out


def signed_share(*, since: dt.datetime | None = None) -> dict[str, int]:
    qs = _window(_rows(), since, None)
    agg = qs.aggregate(total=Count("id"), n_verified=Count("id", filter=Q(verified=True)))
    return {"total": agg["total"] or 0, "verified": agg["n_verified"] or 0}
