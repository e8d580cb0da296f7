"""Deterministic bundles: CSV tables, reportlab PDFs and zips whose bytes depend only on
their content (fixed zip timestamps, sorted entries, reportlab's invariant mode), so that
regenerating a bundle from identical data gives identical SHA-256 hashes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from robotrace.core import csvsafe

# 1980-01-01 is the earliest time a zip entry can carry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
MANIFEST_NAME = "MANIFEST.sha256"


def fmt_dt(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(value[k])}" for k in sorted(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csvsafe.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: dict[str, bytes]) -> str:
    # The format `sha256sum -c MANIFEST.sha256` reads.
    return "".join(f"{sha256(files[name])}  {name}\n" for name in sorted(files))


def build_zip(files: dict[str, bytes], *, folder: str) -> tuple[bytes, dict[str, str]]:
    """Zip `files` (plus the manifest) under `folder/`. Returns the bytes and name -> sha256."""
    files = dict(files)
    files[MANIFEST_NAME] = manifest_text(files).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, whatever the host
            zf.writestr(info, files[name], compresslevel=6)
    return buf.getvalue(), {name: sha256(files[name]) for name in sorted(files)}


def verify_zip(data: bytes) -> list[str]:
    """Problems found when re-hashing every file against the manifest ([] when all match)."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        manifest_name = next((n for n in names if n.endswith("/" + MANIFEST_NAME)), None)
        if manifest_name is None:
            return ["no manifest"]
        folder = manifest_name.rsplit("/", 1)[0]
        listed = {}
        for line in zf.read(manifest_name).decode().splitlines():
            digest, name = line.split("  ", 1)
            listed[name] = digest
        for name in names:
            short = name[len(folder) + 1 :]
            if short == MANIFEST_NAME:
                continue
            if short not in listed:
                problems.append(f"{short}: not in manifest")
            elif sha256(zf.read(name)) != listed[short]:
                problems.append(f"{short}: hash differs")
    return problems


# --- PDF ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def pdf_styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=12, leading=15, spaceBefore=10),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontSize=9, leading=12),
        "small": ParagraphStyle("s", parent=base["BodyText"], fontSize=7.5, leading=9),
        "mono": ParagraphStyle("m", parent=base["Code"], fontSize=7, leading=9),
    }


def esc(text: Any) -> str:
    from xml.sax.saxutils import escape

    return escape(cell(text))


def table(rows: list[list[Any]], *, widths: list[float] | None = None, font_size: float = 7) -> Any:
    """A grid table. Cells that fit their column stay plain strings; only longer ones become
    wrapping Paragraphs, which are far slower to lay out (large exhibits have 10,000s of cells)."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    st = ParagraphStyle("cell", parent=pdf_styles()["small"], fontSize=font_size, leading=font_size + 1.5)
    char_w = font_size * 0.55  # generous average Helvetica advance

    def fit(text: str, col: int) -> Any:
        limit = ((widths[col] - 6) / char_w) if widths and col < len(widths) else 22
        if len(text) <= limit and "\n" not in text:
            return text
        return Paragraph(esc(text), st)

    data = [[fit(cell(c), i) for i, c in enumerate(row)] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", font_size, font_size + 1.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6eef8")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c7ced8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def render_pdf(story: list[Any], *, title: str, subject: str = "") -> bytes:
    """Build a PDF whose bytes depend only on `story` (invariant mode: fixed dates and ids)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import inch
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()

    def _footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(0.6 * inch, 0.4 * inch, title[:110])
        canvas.drawRightString(letter[0] - 0.6 * inch, 0.4 * inch, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=letter,
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.7 * inch,
        title=title,
        subject=subject,
        author="Robotrace",
        creator="Robotrace",
        invariant=1,
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()


def volume_chart(days: list[tuple[str, int]], *, width: float = 500, height: float = 180) -> Any:
    """Daily call volume as a reportlab bar chart (vector, no image library needed)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    if not days:
        drawing.add(String(10, height / 2, "No call reports in this period.", fontSize=9))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 35, width - 60, height - 55  # type: ignore[assignment]  # reportlab takes floats; its stubs say int
    chart.data = [[n for _, n in days]]
    chart.bars[0].fillColor = colors.HexColor("#1f5fa8")
    chart.bars[0].strokeColor = None
    step = max(1, len(days) // 12)
    chart.categoryAxis.categoryNames = [d[5:] if i % step == 0 else "" for i, (d, _) in enumerate(days)]
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    drawing.add(String(40, height - 12, "Reported calls per day (UTC)", fontSize=8))
    return drawing
