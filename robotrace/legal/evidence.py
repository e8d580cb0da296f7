"""Evidence package for a temporary restraining order: one zip per matter.

Mirrors how traceback evidence was used in Avid Telecom, Sumco, Urth Access, Lingo and
Palumbo: a declaration exhibit (PDF) with the campaign, a representative transcript, volume
charts and called states, the per-call traceback table with every hop and its timing, the
providers and their roles, the originating customers, and the notices each provider received
(proof they were on notice); the same tables as CSV; MANIFEST.sha256 and a certification.

Deterministic: nothing in the bundle depends on when or by whom it was built, rows are
sorted, zip entries carry a fixed timestamp and PDFs are rendered in reportlab's invariant
mode, so identical data gives an identical SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from robotrace.campaigns import queries as campaign_queries
from robotrace.legal import records
from robotrace.legal.certification import TRACEBACK_METHOD, certification_story, certification_text
from robotrace.legal.packaging import build_zip, cell, csv_bytes, esc, fmt_dt, pdf_styles, render_pdf, sha256, table, volume_chart

Progress = Callable[[int, str], None]


@dataclass
class BuiltPackage:
    data: bytes
    sha256: str
    manifest: dict[str, Any]
    traceback_ids: list[int]


def _short(value: Any) -> str:
    """2026-01-05 14:03:09 for the PDF (the CSV keeps full ISO 8601 with Z)."""
    text = cell(value)
    return text.replace("T", " ").rstrip("Z")


def _noop(pct: int, step: str) -> None:
    return None


def build(*, campaign_id: int | None, traceback_ids: list[int], progress: Progress = _noop) -> BuiltPackage:
    from robotrace.legal.production import _custodian

    progress(5, "Selecting records")
    rs = records.select_for_package(campaign_id=campaign_id, traceback_ids=traceback_ids)
    progress(20, "Building traceback tables")
    # Consumers' numbers are masked in what is filed with a court.
    t = records.build_tables(rs, mask_called=True, include_reports=False)
    progress(45, "Volume analytics")
    days, states, analytics = records.volume(rs)
    progress(55, "Notice history")
    named = set(t.provider_roles)
    # Notices up to the last call in the package: a later rebuild with new unrelated
    # tracebacks in the platform would otherwise change the exhibit.
    through = None
    if t.chains:
        hops = [h for chain in t.chains.values() for h in chain]
        through = max((h.answered_at or h.received_at) for h in hops)
    notices = records.notice_history(rs.org, named, through=through)
    campaigns = campaign_queries.records(rs.org, rs.campaign_ids)

    files: dict[str, bytes] = {
        "exhibit_a_tracebacks.csv": csv_bytes(records.TRACEBACK_HEADER, t.tracebacks),
        "exhibit_a_hops.csv": csv_bytes(records.HOP_HEADER, t.hops),
        "exhibit_b_notice_history.csv": csv_bytes(records.NOTICE_HEADER, notices),
        "exhibit_c_daily_volume.csv": csv_bytes(["date_utc", "reported_calls"], days),
        "exhibit_c_called_states.csv": csv_bytes(["called_state", "reported_calls"], states),
        "exhibit_c_analytics.csv": csv_bytes(["measure", "value"], sorted(analytics.items())),
        "providers.csv": csv_bytes(records.PROVIDER_HEADER, t.providers),
        "originating_customers.csv": csv_bytes(records.CUSTOMER_HEADER, t.customers),
        "campaigns.csv": csv_bytes(records.CAMPAIGN_HEADER, t.campaigns),
    }
    custodian = _custodian()
    subject = (
        f"Campaign {campaigns[0].ref} {campaigns[0].name}" if campaign_id and campaigns
        else f"{len(t.tracebacks)} tracebacks ({', '.join(r[0] for r in t.tracebacks[:5])}{'…' if len(t.tracebacks) > 5 else ''})"
    )
    cert = certification_text(custodian_org=custodian, subject=subject, files={n: sha256(b) for n, b in files.items()})
    files["CERTIFICATION.txt"] = cert.encode()
    progress(70, "Rendering the declaration exhibit")
    files["declaration_exhibit.pdf"] = _exhibit_pdf(subject, campaigns, t, days, states, analytics, notices, cert, custodian)
    progress(90, "Writing the zip and manifest")
    folder = f"evidence-{campaigns[0].ref}" if campaign_id and campaigns else "evidence-tracebacks"
    data, hashes = build_zip(files, folder=folder)
    counts = {"tracebacks": len(t.tracebacks), "hops": len(t.hops), "providers": len(t.providers), "notices": len(notices), "call_reports": analytics["reports"]}
    return BuiltPackage(data=data, sha256=sha256(data), manifest={"files": hashes, "counts": counts}, traceback_ids=sorted(rs.traceback_ids))


def _exhibit_pdf(
    subject: str,
    campaigns: list[Any],
    t: records.Tables,
    days: list[tuple[str, int]],
    states: list[tuple[str, int]],
    analytics: dict[str, Any],
    notices: list[list[Any]],
    cert: str,
    custodian: str,
) -> bytes:
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer

    st = pdf_styles()
    story: list[Any] = [
        Paragraph("Declaration exhibit", st["title"]),
        Paragraph(esc(subject), st["h2"]) if len(campaigns) != 1 else Spacer(1, 2),
        Paragraph(esc(f"Records of {custodian}. {TRACEBACK_METHOD}"), st["body"]),
        Spacer(1, 6),
    ]
    for c in campaigns:
        story += [
            Paragraph(esc(f"Campaign {c.ref}: {c.name}"), st["h2"]),
            table(
                [["Category", "Status", "First seen (UTC)", "Last seen (UTC)", "Reports", "Caller IDs", "States", "Legal basis"],
                 [c.category_label, c.status_label, fmt_dt(c.first_seen_at), fmt_dt(c.last_seen_at), c.report_count, c.caller_id_count, c.state_count, c.legal_basis]],
            ),
            Paragraph("Representative transcript", st["h2"]),
            Paragraph(esc(c.representative_transcript or "(no transcript recorded)"), st["body"]),
        ]
    story += [
        Paragraph("Exhibit C: call volume", st["h2"]),
        volume_chart(days),
        table([["Measure", "Value"]] + [[k.replace("_", " "), v] for k, v in sorted(analytics.items())], widths=[200, 100]),
        Spacer(1, 6),
        Paragraph("Called states", st["h2"]),
        table([["State", "Reported calls"]] + [[s, n] for s, n in states[:60]], widths=[100, 100]),
        PageBreak(),
        Paragraph("Exhibit A: per-call traceback table", st["h2"]),
        Paragraph("Called numbers are masked to their last four digits. Times are UTC. Hours to answer are measured from the moment the request reached the provider.", st["small"]),
    ]
    tb_by_ref = {row[0]: row for row in t.tracebacks}
    hops_by_ref: dict[str, list[list[Any]]] = {}
    for h in t.hops:
        hops_by_ref.setdefault(h[0], []).append(h)
    for ref in sorted(tb_by_ref, key=lambda r: (tb_by_ref[r][2], r)):
        row = tb_by_ref[ref]
        head = Paragraph(esc(f"{ref} · call {row[2]} · caller ID {row[3]} · called {row[4]} · {row[6]}"), st["body"])
        hop_rows = [["#", "Provider", "Role", "Requested", "Answered", "Hours", "Response", "Upstream named", "Attest."]]
        for h in hops_by_ref.get(ref, []):
            hop_rows.append([h[1], h[2], h[5], _short(h[7]), _short(h[9]), h[10], h[12], h[13], h[14]])
        story.append(KeepTogether([head, table(hop_rows, widths=[18, 90, 62, 72, 72, 32, 58, 80, 30]), Spacer(1, 5)]))
    if not tb_by_ref:
        story.append(Paragraph("No tracebacks in this package.", st["body"]))
    story += [
        Paragraph("Providers named and their roles", st["h2"]),
        table([["Provider", "FRN", "OCNs", "Country", "Roles", "RMD", "Contact"]] + [[p[1], p[3], p[4], p[5], p[6], p[7], f"{p[8]} {p[9]} {p[10]}".strip()] for p in t.providers]),
        Paragraph("Originating customers", st["h2"]),
        table([["Traceback", "Provider", "Customer", "Action taken"]] + t.customers) if t.customers else Paragraph("No originating customer identified.", st["body"]),
        PageBreak(),
        Paragraph("Exhibit B: notice history (proof each provider was on notice)", st["h2"]),
        Paragraph("Every traceback request each named provider received on the platform, in any campaign, up to the last event in this package.", st["small"]),
    ]
    per_provider: dict[str, list[list[Any]]] = {}
    for n in notices:
        per_provider.setdefault(n[0], []).append(n)
    summary: list[list[Any]] = [["Provider", "Notices", "First notice", "Last notice", "Answered"]]
    for name in sorted(per_provider):
        rows = per_provider[name]
        summary.append([name, len(rows), rows[0][4], rows[-1][4], sum(1 for r in rows if r[7])])
    story.append(table(summary, widths=[150, 50, 100, 100, 60]))
    story.append(Spacer(1, 6))
    detail = [["Provider", "Traceback", "Campaign", "Notice received", "Reminded", "Escalated", "Answered", "Response"]]
    for n in notices[:400]:
        detail.append([n[0], n[1], n[2], n[4], n[5], n[6], n[7], n[9] or n[8]])
    story.append(table(detail, widths=[80, 55, 40, 75, 70, 70, 75, 55], font_size=6))
    if len(notices) > 400:
        story.append(Paragraph(esc(f"{len(notices) - 400} more notices are listed in exhibit_b_notice_history.csv."), st["small"]))
    story += certification_story(cert)
    return render_pdf(story, title=f"Declaration exhibit: {subject}"[:120], subject="Evidence package")
