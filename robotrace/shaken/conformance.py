"""Run the external STIR/SHAKEN vectors (a folder laid out like ../shared/data/shaken/) and
score them exactly as that folder's README says.

identity/cases.csv: verdict accuracy (primary), strict and lenient SIP-code accuracy,
per-layer and per-source verdict accuracy, raw signature agreement, MAN-only rows apart.
certs/expected.csv: file score on the targeted rules, rule score per lint id, and recall of
the report's findings on real leaves. providers/OCN.csv: the SPC lookup table.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from robotrace.shaken.profile import lint_certificate
from robotrace.shaken.quirks import load_pem_tolerant
from robotrace.shaken.verifier import (
    CallContext,
    Verifier,
    b64url_decode,
    es256_verify,
    parse_identity_header,
    spc_of,
    split_identity_headers,
)
from robotrace.shaken.x5u import FetchResult, _result_from_bytes

csv.field_size_limit(1 << 24)

# Our verdict layers -> the folder's `layer` vocabulary.
LAYER_MAP = {
    "header": "header",
    "passport": "passport",
    "signature": "passport",
    "freshness": "freshness",
    "certificate": "certificate",
    "chain": "certificate",
    "call_match": "call-match",
    "": "none",
}
MAN_ONLY = {"os-06", "os-07", "os-20"}


class FixedSource:
    """Every fetch answers with one file's bytes or behaves as the case's marker says."""

    def __init__(self, base: Path, marker: str) -> None:
        self.base, self.marker = base, marker

    def fetch(self, url: str) -> FetchResult:
        if self.marker == "!404":
            return FetchResult(error="HTTP 404")
        if self.marker == "!timeout":
            return FetchResult(error="timed out")
        if self.marker in ("!none", "!unpublished", ""):
            return FetchResult(error="certificate not published")
        try:
            data = (self.base / self.marker).read_bytes()
        except OSError as exc:
            return FetchResult(error=f"cannot read {self.marker} ({exc.strerror})")
        return _result_from_bytes(data)


def _load_certs(path: Path) -> list[x509.Certificate]:
    try:
        return load_pem_tolerant(path.read_bytes())[0]
    except (OSError, ValueError):
        return []


@dataclass
class Score:
    hit: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hit += int(ok)

    @property
    def rate(self) -> float:
        return 100.0 * self.hit / self.total if self.total else 100.0

    def __str__(self) -> str:
        return f"{self.hit}/{self.total} ({self.rate:.1f} %)"


@dataclass
class IdentityReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    verdict: Score = field(default_factory=Score)
    verdict_non_man: Score = field(default_factory=Score)
    man_only: Score = field(default_factory=Score)
    code_strict: Score = field(default_factory=Score)
    code_lenient: Score = field(default_factory=Score)
    layer_match: Score = field(default_factory=Score)
    signature: Score = field(default_factory=Score)
    per_layer: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    per_source: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))


def run_identity(folder: Path, *, man_rules: bool = False) -> IdentityReport:
    """man_rules: also refuse unknown Identity parameters (French MAN plan, case os-20)."""
    ident = folder / "identity"
    report = IdentityReport()
    with (ident / "cases.csv").open(newline="") as fh:
        cases = list(csv.DictReader(fh))
    for row in cases:
        anchors = _load_certs(ident / row["trust_anchor_file"]) if row["trust_anchor_file"] else []
        profile = "off" if row["cert_profile"] == "off" else "strict"
        verifier = Verifier(
            trust_anchors=anchors, source=FixedSource(ident, row["x5u_cert_file"]), cert_profile=profile, reject_unknown_params=man_rules
        )
        ctx = CallContext(
            call_time=dt.datetime.fromisoformat(row["call_time_utc"].replace("Z", "+00:00")),
            orig_tn=row["orig_tn"] or None,
            dest_tn=row["dest_tn"] or None,
            date_header=row["date_header"] or None,
            from_user=row["from_user"] or None,
        )
        verdict = verifier.verify(row["identity_header"] or None, ctx)
        actual_verdict = "pass" if verdict.verified else "fail"
        expected_code = int(row["expected_sip_response"])
        accept = {int(c) for c in row["accept_also"].replace(" ", "").split(";") if c}
        actual_layer = LAYER_MAP.get(verdict.failed_layer, verdict.failed_layer)
        verdict_ok = actual_verdict == row["expected_verdict"]
        report.verdict.add(verdict_ok)
        (report.man_only if row["case_id"] in MAN_ONLY else report.verdict_non_man).add(verdict_ok)
        report.code_strict.add(verdict.sip_code == expected_code)
        report.code_lenient.add(verdict.sip_code == expected_code or verdict.sip_code in accept)
        report.layer_match.add(actual_layer == row["layer"])
        report.per_layer[row["layer"]].add(verdict_ok)
        report.per_source[row["case_id"].split("-")[0]].add(verdict_ok)
        raw_sig = _raw_signature(row, ident)
        if row["signature_valid"] in ("yes", "no"):
            report.signature.add((raw_sig is True) == (row["signature_valid"] == "yes"))
        report.rows.append(
            {
                "case": row["case_id"],
                "expected": f"{row['expected_verdict']} {expected_code}{'/' + '/'.join(map(str, sorted(accept))) if accept else ''} {row['layer']}",
                "actual": f"{actual_verdict} {verdict.sip_code} {actual_layer}",
                "verdict_ok": verdict_ok,
                "code": "=" if verdict.sip_code == expected_code else ("~" if verdict.sip_code in accept else "x"),
                "layer_ok": actual_layer == row["layer"],
                "reason": verdict.reason,
            }
        )
    return report


def _raw_signature(row: dict[str, str], ident: Path) -> bool | None:
    """The bare ES256 check with the key of the first certificate the case serves."""
    marker = row["x5u_cert_file"]
    if not row["identity_header"] or marker.startswith("!"):
        return None
    certs = _load_certs(ident / marker)
    if not certs:
        return None
    headers = split_identity_headers(row["identity_header"])
    return raw_es256_check(parse_identity_header(headers[0]).token, certs[0].public_key())


def raw_es256_check(token: str, public_key: object) -> bool:
    """ES256 over the first two segments as received, whatever they decode to."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return False
    try:
        sig = b64url_decode(pieces[2])
    except ValueError:
        return False
    return es256_verify(public_key, f"{pieces[0]}.{pieces[1]}".encode("ascii", "replace"), sig)


@dataclass
class CertReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    zlint_files: Score = field(default_factory=Score)
    real_files: Score = field(default_factory=Score)
    rules: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    recall: Score = field(default_factory=Score)
    chains: Score = field(default_factory=Score)
    lookup: Score = field(default_factory=Score)


def _status_of(findings: dict[str, str], lint: str) -> str:
    return findings.get(lint, "pass")


def run_certs(folder: Path) -> CertReport:
    # Two zlint fixtures carry negative serials on purpose; cryptography warns when loading
    # them. The warning is about the vector, not about us.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _run_certs(folder)


def _run_certs(folder: Path) -> CertReport:
    certs_dir = folder / "certs"
    report = CertReport()
    with (certs_dir / "expected.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        expected = row["expected_verdict"]
        path = certs_dir / row["file"]
        zlint_row = row["file"].startswith("zlint/")
        at = dt.datetime.fromisoformat(row["evaluate_at"].replace("Z", "+00:00")) if row["evaluate_at"] else None
        pairs = [p.split("=", 1) for p in row["zlint_results"].split("; ") if "=" in p]
        try:
            cert = load_pem_tolerant(path.read_bytes())[0][0]
        except Exception as exc:  # noqa: BLE001 - v2 and malformed certificates are refused by cryptography: a rejection
            findings: dict[str, str] = {"load": f"error: {type(exc).__name__}"}
            actual = "fail"
        else:
            # zlint fixtures are judged by the zlint rule set on their targeted rules only;
            # real certificates by the report's rule set on the whole profile.
            found = lint_certificate(cert, row["role"], at=at, family="z" if zlint_row else "r")
            findings = {f.lint_id: f.severity for f in found}
            judged = findings
            if zlint_row:
                targeted = set(re.findall(r"\b[enw]_[a-z0-9_]+", row["targets"])) | {lint for lint, st in pairs if st in ("error", "warn", "notice")}
                judged = {k: v for k, v in findings.items() if k in targeted}
            sev = set(judged.values())
            actual = "fail" if "error" in sev else ("warn" if "warn" in sev else "pass")
            for lint, status in pairs:
                want = {"error": "error", "warn": "warn", "notice": "warn"}.get(status, "pass")
                report.rules[lint].add(_status_of(findings, lint) == want)
        if expected in ("pass", "fail", "warn"):
            ok = actual == expected
            (report.zlint_files if zlint_row else report.real_files).add(ok)
            if not zlint_row and row["role"] == "leaf":
                for lint, status in pairs:
                    if status in ("error", "warn", "notice"):
                        report.recall.add(lint in findings)
            report.rows.append(
                {"case": row["file"], "expected": expected, "actual": actual, "verdict_ok": ok, "findings": sorted(findings)[:6]}
            )
        if cert is not None and not zlint_row and row["role"] == "leaf" and row["issuer_file"] and at:
            report.chains.add(_chain_builds(certs_dir, row, cert, at))
    report_lookup(folder, rows, report)
    return report


def _chain_builds(certs_dir: Path, row: dict[str, str], leaf: x509.Certificate, at: dt.datetime) -> bool:
    from robotrace.shaken.verifier import build_chain

    inter = _load_certs(certs_dir / row["issuer_file"])
    if not inter:
        return False
    root_path = None
    with (certs_dir / "expected.csv").open(newline="") as fh:
        for other in csv.DictReader(fh):
            if other["file"] == row["issuer_file"]:
                root_path = certs_dir / other["issuer_file"]
    roots = _load_certs(root_path) if root_path else []
    result = build_chain(leaf, inter, roots, strict=False)
    return not result.error and result.not_before is not None and result.not_before <= at <= result.not_after  # type: ignore[operator]  # a chain with not_before has not_after


EXPECTED_LOOKUP = {
    "8526": "MetTel", "760K": "Last Mile Corp.", "006L": "VoyageNetworks", "583J": "Broadband Dynamics LLC",
    "633K": "Telkart LLC", "554a": "Socket Telecom LLC", "203K": "Connexum LLC", "318J": "Comcast",
    "855K": "All Access Telecom Inc.", "7556": "Northland Networks", "490J": "Dish Wireless",
    "5606": "Charter Communications, Inc.", "797G": "CBTS", "6529": "T-Mobile USA, Inc.",
}


def report_lookup(folder: Path, rows: list[dict[str, str]], report: CertReport) -> None:
    from robotrace.shaken.directory import load_ocn_csv

    path = folder / "providers" / "OCN.csv"
    if not path.exists():
        return
    table, _ = load_ocn_csv(path.read_text(encoding="utf-8", errors="replace"))
    for row in rows:
        if not row["file"].startswith("real/") or row["role"] != "leaf":
            continue
        try:
            cert = x509.load_pem_x509_certificate((folder / "certs" / row["file"]).read_bytes())
        except Exception:  # noqa: BLE001
            continue
        spc = spc_of(cert)
        want = EXPECTED_LOOKUP.get(spc)
        got = table.get(spc.upper(), {}).get("names", []) if spc else []
        report.lookup.add((want in got) if want else not got)


def format_report(ident: IdentityReport | None, certs: CertReport | None) -> str:
    out: list[str] = []
    if ident is not None:
        out.append("Identity-header cases (identity/cases.csv)")
        out.append(f"{'case':16} {'expected':28} {'actual':24} verdict code layer  reason")
        for r in ident.rows:
            out.append(
                f"{r['case']:16} {r['expected']:28} {r['actual']:24} {'ok' if r['verdict_ok'] else 'MISS':7} "
                f"{r['code']:4} {'ok' if r['layer_ok'] else '--':5}  {r['reason'][:70]}"
            )
        out.append("")
        out.append(f"verdict accuracy            {ident.verdict}")
        out.append(f"  outside MAN-only rows     {ident.verdict_non_man}")
        out.append(f"  MAN-only rows             {ident.man_only}")
        out.append(f"SIP code strict             {ident.code_strict}")
        out.append(f"SIP code lenient            {ident.code_lenient}")
        out.append(f"layer named                 {ident.layer_match}")
        out.append(f"raw ES256 agreement         {ident.signature}")
        for layer, s in sorted(ident.per_layer.items()):
            out.append(f"  layer {layer:20} {s}")
        for src, s in sorted(ident.per_source.items()):
            out.append(f"  source {src:19} {s}")
    if certs is not None:
        out.append("")
        out.append("Certificate profile (certs/expected.csv)")
        for r in certs.rows:
            out.append(f"{r['case'][:58]:58} {r['expected']:5} {r['actual']:5} {'ok' if r['verdict_ok'] else 'MISS'}  {','.join(r['findings'])[:60]}")
        out.append("")
        out.append(f"file score, zlint fixtures  {certs.zlint_files}")
        out.append(f"file score, real certs      {certs.real_files}")
        total = Score(sum(s.hit for s in certs.rules.values()), sum(s.total for s in certs.rules.values()))
        out.append(f"rule score (lint pairs)     {total}")
        for lint, s in sorted(certs.rules.items()):
            if s.hit != s.total:
                out.append(f"  {lint:45} {s}")
        out.append(f"real-leaf finding recall    {certs.recall}")
        out.append(f"real chains build           {certs.chains}")
        out.append(f"SPC -> provider lookup      {certs.lookup}")
    return "\n".join(out)
