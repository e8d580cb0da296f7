"""Demo data: one subpoena from the North Carolina agency, with a small signed PDF made by
reportlab, under review, so the staff queue is not empty."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.utils import timezone


def subpoena_pdf(*, case_number: str, agency: str, numbers: list[str]) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle(f"Subpoena {case_number}")
    y = 720
    for line in [
        "STATE OF NORTH CAROLINA",
        f"{agency}",
        "",
        "INVESTIGATIVE SUBPOENA DUCES TECUM",
        f"Case No. {case_number}",
        "",
        "To: Industry Traceback Consortium, Custodian of Records",
        "",
        "You are commanded to produce all traceback records, provider identities and",
        "contacts, originating customer information and call reports concerning the",
        "following telephone numbers for the period stated below:",
        "",
        *[f"    {n}" for n in numbers],
        "",
        "Authority: N.C. Gen. Stat. 75-10 (Unfair and Deceptive Trade Practices Act).",
        "",
        "Signed: /s/ Assistant Attorney General (demo document)",
    ]:
        c.drawString(72, y, line)
        y -= 18
    c.showPage()
    c.save()
    return buf.getvalue()


def seed_demo(world: Any) -> None:
    from robotrace.legal import services
    from robotrace.legal.uploads import check_pdf

    agency = world.orgs.get("nc-doj")
    dana = world.users.get("dana@ncdoj.example")
    alice = world.users.get("alice@itc.example")
    if agency is None or dana is None:
        return
    numbers = ["+19195550142", "+18885550199"]
    today = timezone.localdate()
    pdf = subpoena_pdf(case_number="NCDOJ-CP-2026-0412", agency=agency.name, numbers=numbers)
    req = services.file_request(
        actor=dana,
        organisation=agency,
        data=services.NewRequest(
            type="subpoena",
            issuing_authority="North Carolina Department of Justice, Consumer Protection Division",
            legal_basis="N.C. Gen. Stat. 75-10",
            case_number="NCDOJ-CP-2026-0412",
            date_signed=today - timedelta(days=2),
            due_date=today + timedelta(days=2),
            records_from=today - timedelta(days=60),
            records_to=today,
            description="Auto-warranty robocalls reported by North Carolina consumers.",
            targets=[{"kind": "phone", "value": n} for n in numbers],
        ),
        document=check_pdf(io.BytesIO(pdf), "subpoena-NCDOJ-CP-2026-0412.pdf"),
    )
    if alice is not None:
        services.assign(actor=alice, organisation=world.orgs["itc"], request=req, assignee=alice)
        services.post_message(
            actor=alice,
            organisation=world.orgs["itc"],
            request=req,
            body="Received. We are reviewing the scope and will confirm the date range.",
        )
