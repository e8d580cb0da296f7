"""Assemble a production: the response to one legal request, as a zip of CSV tables, a PDF
summary, a records certification (FRE 902(11)) and MANIFEST.sha256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from robotrace.accounts import queries as accounts
from robotrace.legal import records
from robotrace.legal.certification import certification_story, certification_text
from robotrace.legal.packaging import build_zip, csv_bytes, esc, fmt_date, pdf_styles, render_pdf, sha256, table

if TYPE_CHECKING:
    from robotrace.legal.models import LegalRequest, LegalTarget


@dataclass
class Built:
    data: bytes
    sha256: str
    manifest: dict[str, Any]
    traceback_ids: list[int]
    campaign_ids: list[int]


def _custodian() -> str:
    org = accounts.consortium()
    return org.name if org else "the Consortium"


def assemble(req: LegalRequest, targets: list[LegalTarget], *, prepared_by: str) -> Built:
    rs = records.select_for_targets(targets, default_from=req.records_from, default_to=req.records_to)
    t = records.build_tables(rs)
    files: dict[str, bytes] = {
        "tracebacks.csv": csv_bytes(records.TRACEBACK_HEADER, t.tracebacks),
        "traceback_hops.csv": csv_bytes(records.HOP_HEADER, t.hops),
        "providers.csv": csv_bytes(records.PROVIDER_HEADER, t.providers),
        "originating_customers.csv": csv_bytes(records.CUSTOMER_HEADER, t.customers),
        "call_reports.csv": csv_bytes(records.REPORT_HEADER, t.reports),
        "campaigns.csv": csv_bytes(records.CAMPAIGN_HEADER, t.campaigns),
        "targets.csv": csv_bytes(
            ["target", "kind", "date_from", "date_to", "decision", "note"],
            [[x.value, x.kind, x.date_from, x.date_to, x.decision, x.decision_note] for x in req.targets.order_by("id")],
        ),
    }
    custodian = _custodian()
    subject = f"{req.ref}: {req.get_type_display()} {req.case_number} ({req.issuing_authority}) for {req.agency.name}"
    counts = {
        "tracebacks": len(t.tracebacks), "hops": len(t.hops), "providers": len(t.providers),
        "customers": len(t.customers), "call_reports": len(t.reports), "campaigns": len(t.campaigns),
    }
    # The certification lists the data files' hashes; the summary PDF repeats it.
    cert = certification_text(custodian_org=custodian, subject=subject, files={n: sha256(b) for n, b in files.items()}, prepared_by=prepared_by)
    files["CERTIFICATION.txt"] = cert.encode()
    files["summary.pdf"] = _summary_pdf(req, t, counts, cert, truncated=t.truncated_reports)
    data, hashes = build_zip(files, folder=f"{req.ref}-production")
    return Built(
        data=data,
        sha256=sha256(data),
        manifest={"files": hashes, "counts": counts, "truncated_call_reports": t.truncated_reports},
        traceback_ids=sorted(rs.traceback_ids),
        campaign_ids=sorted(rs.campaign_ids),
    )


def _summary_pdf(req: LegalRequest, t: records.Tables, counts: dict[str, int], cert: str, *, truncated: bool) -> bytes:
    from reportlab.platypus import Paragraph, Spacer

    st = pdf_styles()
    story: list[Any] = [
        Paragraph(esc(f"Production for {req.ref}"), st["title"]),
        Paragraph(esc(f"{req.get_type_display()} · case {req.case_number} · issued by {req.issuing_authority}"), st["body"]),
        Paragraph(esc(f"Requesting agency: {req.agency.name}. Legal basis: {req.legal_basis}. Signed {fmt_date(req.date_signed)}; due {fmt_date(req.due_date)}."), st["body"]),
        Paragraph(esc(f"Records period: {fmt_date(req.records_from) or 'any'} to {fmt_date(req.records_to) or 'any'}."), st["body"]),
        Spacer(1, 8),
        Paragraph("Targets and decisions", st["h2"]),
        table([["Target", "Kind", "From", "To", "Decision", "Note"]] + [[x.value, x.get_kind_display(), x.date_from, x.date_to, x.get_decision_display(), x.decision_note] for x in req.targets.order_by("id")]),
        Paragraph("Contents", st["h2"]),
        table([["Table", "Rows"]] + [[k.replace("_", " "), v] for k, v in counts.items()], widths=[200, 80]),
    ]
    if truncated:
        story.append(Paragraph("Call reports were limited to the configured maximum; ask for a narrower date range for the rest.", st["body"]))
    if req.decision_note:
        story += [Paragraph("Review note", st["h2"]), Paragraph(esc(req.decision_note), st["body"])]
    if t.tracebacks:
        story += [Paragraph("Tracebacks (first 40; full list in tracebacks.csv)", st["h2"])]
        rows = [["Traceback", "Call (UTC)", "Caller ID", "Outcome", "Originating provider", "Hops"]]
        for row in t.tracebacks[:40]:
            ref = row[0]
            chain = " → ".join(h[2] for h in t.hops if h[0] == ref)
            rows.append([ref, row[2], row[3], row[6], row[7], chain])
        story.append(table(rows, widths=[55, 85, 75, 70, 90, 165]))
    story += certification_story(cert)
    return render_pdf(story, title=f"Production {req.ref}", subject=req.case_number)
