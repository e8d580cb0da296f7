"""`robotrace shaken verify|conformance|import-ocn|catch-up|pki`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "STIR/SHAKEN: verify a header, run the conformance vectors, import the OCN table"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="verify one Identity header and print the verdict as JSON")
        v.add_argument("--identity", required=True, action="append", help="Identity header value (repeat for several headers)")
        v.add_argument("--call-time", required=True, help="call start: ISO 8601 or Unix seconds")
        v.add_argument("--orig", help="calling number of the call")
        v.add_argument("--dest", help="called number of the call")
        v.add_argument("--date", help="SIP Date header of the call")
        v.add_argument("--trust-anchor", action="append", default=[], help="PEM file of a trust anchor (repeatable); default: configured anchors")
        v.add_argument("--cert-store", help="folder with index.json mapping x5u URLs to PEM files; default: configured store")
        v.add_argument("--freshness", type=int, default=None, help="iat window in seconds (default 60)")
        v.add_argument("--profile", choices=("strict", "off"), default="strict", help="apply the SHAKEN certificate profile")
        v.add_argument("--fetch", action="store_true", help="allow fetching x5u over the network (https, hardened)")

        c = sub.add_parser("conformance", help="run every vector of a folder laid out like ../shared/data/shaken/")
        c.add_argument("folder")
        c.add_argument("--json", action="store_true", help="print the scores as JSON instead of the table")
        c.add_argument("--man-rules", action="store_true", help="also refuse unknown Identity parameters (French MAN test plan)")

        i = sub.add_parser("import-ocn", help="import an OCN,Org Name,CN,Cert table into the SPC directory")
        i.add_argument("file")

        sub.add_parser("catch-up", help="verify every signed report past the cursor now")
        sub.add_parser("pki", help="make the simulated SHAKEN PKI and print where it lives")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        getattr(self, "_" + action.replace("-", "_"))(options)

    def _verify(self, options: dict[str, Any]) -> None:
        from robotrace.shaken import conf, runtime
        from robotrace.shaken.verifier import CallContext, Verifier, to_utc
        from robotrace.shaken.x5u import CertificateSource, ChainedSource, HttpFetcher, LocalCertStore

        try:
            call_time = to_utc(options["call_time"])
        except ValueError as exc:
            raise CommandError(f"--call-time {options['call_time']!r} is not ISO 8601 or Unix seconds") from exc
        if options["trust_anchor"]:
            anchors = []
            for path in options["trust_anchor"]:
                certs = runtime.load_pem_certs(Path(path))
                if not certs:
                    raise CommandError(f"--trust-anchor {path}: no PEM certificate could be read")
                anchors.extend(certs)
        else:
            anchors = runtime.system_verifier().trust_anchors
        store_dir = Path(options["cert_store"]) if options["cert_store"] else conf.cert_store_dir()
        if options["cert_store"] and not store_dir.is_dir():
            raise CommandError(f"--cert-store {store_dir}: not a folder")
        sources: list[CertificateSource] = [LocalCertStore(store_dir)]
        if options["fetch"]:
            sources.append(HttpFetcher())
        verifier = Verifier(
            trust_anchors=anchors,
            source=ChainedSource(*sources),
            freshness_seconds=options["freshness"] or conf.freshness_seconds(),
            cert_profile=options["profile"],
        )
        verdict = verifier.verify(
            options["identity"], CallContext(call_time=call_time, orig_tn=options["orig"], dest_tn=options["dest"], date_header=options["date"])
        )
        self.stdout.write(json.dumps(verdict.to_dict(), indent=2))

    def _conformance(self, options: dict[str, Any]) -> None:
        from robotrace.shaken.conformance import format_report, run_certs, run_identity

        folder = Path(options["folder"])
        if not folder.is_dir():
            raise CommandError(f"{folder}: not a folder")
        ident = run_identity(folder, man_rules=options["man_rules"]) if (folder / "identity" / "cases.csv").exists() else None
        certs = run_certs(folder) if (folder / "certs" / "expected.csv").exists() else None
        if ident is None and certs is None:
            raise CommandError(f"{folder}: neither identity/cases.csv nor certs/expected.csv found")
        if options["json"]:
            out: dict[str, Any] = {}
            if ident:
                out["identity"] = {
                    k: {"hit": s.hit, "total": s.total, "rate": round(s.rate, 2)}
                    for k, s in (("verdict", ident.verdict), ("verdict_non_man", ident.verdict_non_man), ("code_strict", ident.code_strict),
                                 ("code_lenient", ident.code_lenient), ("layer", ident.layer_match), ("signature", ident.signature))
                }
                out["identity"]["per_layer"] = {k: round(s.rate, 2) for k, s in ident.per_layer.items()}
            if certs:
                out["certs"] = {k: {"hit": s.hit, "total": s.total, "rate": round(s.rate, 2)} for k, s in (
                    ("zlint_files", certs.zlint_files), ("real_files", certs.real_files), ("recall", certs.recall),
                    ("chains", certs.chains), ("lookup", certs.lookup))}
            self.stdout.write(json.dumps(out, indent=2))
        else:
            self.stdout.write(format_report(ident, certs))

    def _import_ocn(self, options: dict[str, Any]) -> None:
        from robotrace.shaken.directory import DirectoryError
        from robotrace.shaken.services import import_ocn_directory

        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read ({exc})") from exc
        try:
            result = import_ocn_directory(actor=None, text=text, source=path.name)
        except DirectoryError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from exc
        self.stdout.write(
            f"SPC directory: {result.created} created, {result.updated} updated, {result.linked} linked to registry providers"
            + (f", {len(result.warnings)} warnings" if result.warnings else "")
        )
        for w in result.warnings[:20]:
            self.stdout.write(f"  {w}")

    def _catch_up(self, options: dict[str, Any]) -> None:
        from robotrace.shaken.services import catch_up_all

        self.stdout.write(f"verified {catch_up_all()} reports")

    def _pki(self, options: dict[str, Any]) -> None:
        from robotrace.shaken import conf, signing

        signing.ensure_pki()
        self.stdout.write(f"simulated PKI: {signing.pki_dir()}\ntrust anchors: {conf.anchors_dir()}\ncertificate store: {conf.cert_store_dir()}")
