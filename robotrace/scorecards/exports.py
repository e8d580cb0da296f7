"""CSV and PDF exports: the per-period scorecard report and the notice-history letter.

PDFs are drawn with reportlab (pure Python); nothing is fetched at run time.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.utils import timezone

from robotrace.core import csvsafe
from robotrace.scorecards.models import Period, ProviderFlag, ProviderScorecard

if TYPE_CHECKING:
    from robotrace.providers.models import Provider

_KEY_RE = re.compile(r"^(all|\d{4}-(0[1-9]|1[0-2])|\d{4}-Q[1-4])$")

COLUMNS = [
    ("provider_id", "Provider id"), ("provider", "Provider"), ("frn", "FRN"), ("country", "Country"), ("rmd_status", "RMD status"),
    ("notices", "Notices"), ("answered", "Answered"), ("answered_share", "Answered %"), ("answered_on_time", "On time"),
    ("answered_late", "Late"), ("never_answered", "Never answered"), ("open_notices", "Open"),
    ("median_answer_hours", "Median answer (h)"), ("no_record", "No record"), ("no_record_share", "No-record %"),
    ("originating_traced", "Originating (traced)"), ("originating_illegal", "Originating (confirmed illegal)"),
    ("point_of_entry_traced", "US point of entry (traced)"), ("point_of_entry_illegal", "US point of entry (confirmed illegal)"),
    ("customers_warned", "Customers warned"), ("customers_terminated", "Customers terminated"), ("flags", "Active flags"),
]


def parse_period(value: str | None) -> tuple[str, str]:
    """'2026-11' (month), '2026-Q4' (quarter) or 'all' -> (period, key). Raises ValueError."""
    key = (value or "all").strip()
    if not _KEY_RE.match(key):
        raise ValueError(f"period {key!r} is not 'all', a month (2026-11) or a quarter (2026-Q4)")
    if key == "all":
        return Period.ALL, key
    return (Period.QUARTER if "-Q" in key else Period.MONTH), key


def report_rows(cards: list[ProviderScorecard], flags: dict[int, list[str]]) -> list[dict[str, Any]]:
    rows = []
    for c in cards:
        p = c.provider
        rows.append({
            "provider_id": p.id, "provider": p.name, "frn": p.frn, "country": p.country, "rmd_status": p.get_rmd_status_display(),
            "notices": c.notices, "answered": c.answered, "answered_share": c.answered_share, "answered_on_time": c.answered_on_time,
            "answered_late": c.answered_late, "never_answered": c.never_answered, "open_notices": c.open_notices,
            "median_answer_hours": c.median_answer_hours, "no_record": c.no_record, "no_record_share": c.no_record_share,
            "originating_illegal": c.originating_illegal, "point_of_entry_illegal": c.point_of_entry_illegal,
            "originating_traced": c.originating_traced, "point_of_entry_traced": c.point_of_entry_traced,
            "customers_warned": c.customers_warned, "customers_terminated": c.customers_terminated,
            "flags": "; ".join(flags.get(p.id, [])),
        })
    return rows


def active_flag_labels(provider_ids: list[int] | None = None) -> dict[int, list[str]]:
    qs = ProviderFlag.objects.unscoped(reason="flag labels for an export the caller may already read").filter(active=True)
    if provider_ids is not None:
        qs = qs.filter(provider_id__in=provider_ids)
    out: dict[int, list[str]] = {}
    for f in qs.order_by("rule"):
        out.setdefault(f.provider_id, []).append(f.get_rule_display())
    return out


def to_csv(rows: list[dict[str, Any]], *, leading: list[tuple[str, str]] | None = None) -> str:
    columns = [*(leading or []), *COLUMNS]
    buf = io.StringIO()
    w = csvsafe.writer(buf)
    w.writerow([label for _, label in columns])
    for r in rows:
        w.writerow(["" if r[k] is None else r[k] for k, _ in columns])
    return buf.getvalue()


def _doc(buf: io.BytesIO, title: str, landscape_page: bool = False) -> Any:
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.platypus import SimpleDocTemplate

    size = landscape(letter) if landscape_page else letter
    return SimpleDocTemplate(buf, pagesize=size, title=title, author="Robotrace", leftMargin=36, rightMargin=36, topMargin=36, bottomMargin=36)


def _table(data: list[list[Any]], widths: list[float] | None = None) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef0f3")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c7ced8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return t


def report_pdf(rows: list[dict[str, Any]], *, period_key: str, audience: str) -> bytes:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = _doc(buf, f"Provider cooperation report {period_key}", landscape_page=True)
    story: list[Any] = [
        Paragraph(f"Provider cooperation report: {'all time' if period_key == 'all' else period_key}", styles["Title"]),
        Paragraph(escape(f"Generated {timezone.now():%Y-%m-%d %H:%M} UTC for {audience}. {len(rows)} providers."), styles["Normal"]),
        Paragraph(
            "Notices are traceback hop requests. On time means answered within the 24-hour clock. "
            "Illegal campaigns are confirmed campaigns or tracebacks with a legal basis.",
            styles["Normal"],
        ),
        Spacer(1, 8),
    ]
    keys = [k for k, _ in COLUMNS if k not in ("provider_id", "frn")]
    data: list[list[Any]] = [[Paragraph(f"<b>{label}</b>", styles["BodyText"]) if k == "flags" else label for k, label in COLUMNS if k in keys]]
    for r in rows:
        data.append([
            # Paragraph reads markup; provider names are written by providers themselves (RMD).
            Paragraph(escape(str(r[k] or "")), styles["BodyText"]) if k in ("provider", "flags") else ("" if r[k] is None else str(r[k]))
            for k in keys
        ])
    widths: list[float] = [100, 26, 40, *[28] * (len(keys) - 4), 100]
    story.append(_table(data, widths))
    doc.build(story)
    return buf.getvalue()


def notice_letter_pdf(provider: Provider, notices: list[dict[str, Any]], *, issued_by: str) -> bytes:
    """Every traceback notice the provider received, with dates and campaigns."""
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = _doc(buf, f"Traceback notice history: {provider.name}")
    now = timezone.now()
    answered = sum(1 for n in notices if n["answered_at"])
    first: datetime | None = notices[0]["received_at"] if notices else None
    story: list[Any] = [
        Paragraph("Traceback notice history", styles["Title"]),
        Paragraph(escape(f"{provider.name}" + (f" (FRN {provider.frn})" if provider.frn else "")), styles["Heading2"]),
        Paragraph(
            escape(
                f"Prepared {now:%d %B %Y} by {issued_by}. This letter lists every traceback notice sent to "
                f"{provider.name} through the traceback platform: {len(notices)} notices"
                + (f" since {first:%d %B %Y}" if first else "")
                + f", of which {answered} were answered. Each notice identified a call the consortium "
                "had judged illegal and asked the provider to identify where it received the call from."
            ),
            styles["Normal"],
        ),
        Spacer(1, 10),
    ]
    data: list[list[Any]] = [["#", "Traceback", "Notice received (UTC)", "Due (UTC)", "Answered (UTC)", "Status", "Campaign"]]
    for i, n in enumerate(notices, 1):
        data.append([
            str(i), n["traceback"], f"{n['received_at']:%Y-%m-%d %H:%M}", f"{n['due_at']:%Y-%m-%d %H:%M}",
            f"{n['answered_at']:%Y-%m-%d %H:%M}" if n["answered_at"] else "never",
            n["status"], Paragraph(escape(n["campaign"] or "-"), styles["BodyText"]),
        ])
    story.append(_table(data, [24, 58, 80, 80, 80, 62, 156]))
    doc.build(story)
    return buf.getvalue()
