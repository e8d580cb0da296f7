"""The records certification that travels in every production and evidence package.

Worded so that Federal Rule of Evidence 902(11) (certified domestic records of a regularly
conducted activity) and 902(14) (data identified by hash value) can apply, and signed as an
unsworn declaration under 28 U.S.C. §1746. The custodian signs the printed copy; the text
itself carries no generation time, so regenerating a bundle does not change its hash.
"""

from __future__ import annotations

from typing import Any

TRACEBACK_METHOD = (
    "A traceback starts from a call reported to the consortium. The consortium sends a "
    "request to the terminating voice service provider, which answers with the provider it "
    "received the call from; the request then goes to that provider, and so on, hop by hop, "
    "until a provider states that the call originated with one of its customers, that it "
    "entered the United States from a foreign provider, or until a provider does not answer. "
    "Each request, its timing and each answer is recorded by the platform when it happens."
)


def certification_text(
    *,
    custodian_org: str,
    subject: str,
    files: dict[str, str],
    prepared_by: str = "",
) -> str:
    """`files` maps each file name in the bundle to its SHA-256."""
    lines = [
        "CERTIFICATION OF RECORDS OF A REGULARLY CONDUCTED ACTIVITY",
        "Federal Rules of Evidence 803(6), 902(11) and 902(14); 28 U.S.C. § 1746",
        "",
        f"Re: {subject}",
        "",
        "I, the undersigned, declare:",
        "",
        f"1. I am employed by {custodian_org} (the \"Consortium\") and I am a custodian of its "
        "records, or another person qualified by my duties to make this certification. I am "
        "familiar with the manner in which the records described below are created and kept.",
        "",
        "2. The records in this bundle are true copies of records that were (a) made at or near "
        "the time of the occurrence of the matters set forth in them, by, or from information "
        "transmitted by, a person with knowledge of those matters; (b) kept in the course of the "
        "Consortium's regularly conducted activity of tracing suspected illegal robocalls; and "
        "(c) made as a regular practice of that activity.",
        "",
        f"3. How the records are made. {TRACEBACK_METHOD} Provider answers are entered by the "
        "providers themselves through the platform or its API, and are recorded with the time "
        "they were received. Call reports are received from carriers, call-analytics firms, "
        "blocking applications, honeypots and complaint programmes in the ordinary course.",
        "",
        "4. The records were copied from the platform's electronic records system by an "
        "automated process. Each file is identified by its SHA-256 hash value, listed below and "
        "in the file MANIFEST.sha256 in this bundle; any change to a file would change its hash "
        "(FRE 902(14)).",
        "",
        "Files and SHA-256 hash values:",
    ]
    for name in sorted(files):
        lines.append(f"  {files[name]}  {name}")
    lines += [
        "",
        "I declare under penalty of perjury under the laws of the United States of America that "
        "the foregoing is true and correct.",
        "",
        "Executed on: ____________________ (date)    at: ____________________ (city, state)",
        "",
        "Signature: ____________________________________",
        "",
        "Name: _________________________________________",
        "",
        f"Title: ________________________________________ , {custodian_org}",
    ]
    if prepared_by:
        lines += ["", f"Bundle prepared by: {prepared_by}"]
    return "\n".join(lines) + "\n"


def certification_story(text: str) -> list[Any]:
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    from robotrace.legal.packaging import esc, pdf_styles

    st = pdf_styles()
    story: list[Any] = [PageBreak()]
    first, *rest = text.splitlines()
    story.append(Paragraph(esc(first), st["h2"]))
    for line in rest:
        if not line.strip():
            story.append(Spacer(1, 4))
        elif line.startswith("  "):
            story.append(Paragraph(esc(line.strip()), st["mono"]))
        else:
            story.append(Paragraph(esc(line), st["body"]))
    return story
