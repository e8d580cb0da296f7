from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.legal import services
from robotrace.legal.models import LegalDocument, LegalRequest, PreservationHold
from robotrace.legal.tests.conftest import file, make_pdf, new_request
from robotrace.legal.uploads import UploadRejected, check_pdf, full_path


def _form(**over):
    today = timezone.localdate()
    data = {
        "type": "subpoena",
        "issuing_authority": "Office of the Attorney General",
        "legal_basis": "N.C. Gen. Stat. 75-10",
        "case_number": "CP-2026-777",
        "date_signed": (today - timedelta(days=1)).isoformat(),
        "due_date": (today + timedelta(days=14)).isoformat(),
        "targets": "+1 919 555 0142\nC-12\nTB-000034 2026-01-01..2026-03-31",
        "description": "Robocalls about car warranties.",
    }
    data.update(over)
    return data


def _upload(content: bytes, name: str = "subpoena.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_it_files_a_request_with_a_pdf_and_shows_its_sha256(world, as_user):
    client = as_user(world.dana)
    pdf = make_pdf()
    response = client.post(reverse("legal:new"), {**_form(), "document": _upload(pdf)})
    assert response.status_code == 302
    req = LegalRequest.objects.for_org(world.agency_a).get()
    assert req.status == "received" and req.filed_by == world.dana
    targets = sorted(t.value for t in req.targets.all())
    assert targets == ["+19195550142", "C-12", "TB-000034"]
    doc = req.documents.get()
    import hashlib

    assert doc.sha256 == hashlib.sha256(pdf).hexdigest()
    # Stored under a server-made name, not the uploader's, below MEDIA_ROOT/legal/.
    assert doc.stored_name.startswith("legal/documents/") and "subpoena" not in doc.stored_name
    assert full_path(doc.stored_name).read_bytes() == pdf
    page = client.get(response["Location"], follow=True)
    assert doc.sha256 in page.content.decode()
    assert AuditEvent.objects.filter(action="legal.document.uploaded", object_id=str(doc.pk)).exists()


def test_it_names_the_line_of_a_bad_target(world, as_user):
    client = as_user(world.dana)
    response = client.post(reverse("legal:new"), {**_form(targets="+1 919 555 0142\nnot-a-number\nC-abc"), "document": _upload(make_pdf())})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Line 2" in body and "Line 3" in body
    assert not LegalRequest.objects.for_org(world.agency_a).exists()
    assert not LegalDocument.objects.for_org(world.agency_a).exists()


def test_it_refuses_missing_and_inconsistent_fields(world):
    today = timezone.localdate()
    with pytest.raises(services.LegalError) as exc:
        services.file_request(
            actor=world.dana,
            organisation=world.agency_a,
            data=new_request(type="warrant", case_number="", due_date=today - timedelta(days=5), date_signed=today + timedelta(days=1), targets=[]),
        )
    fields = {e["field"] for e in exc.value.errors}
    assert {"type", "case_number", "date_signed", "targets"} <= fields
    assert not LegalRequest.objects.for_org(world.agency_a).exists()


def test_it_normalises_phone_targets_to_e164(world):
    req = file(world, targets=[{"kind": "phone", "value": "919.555.0142"}, {"kind": "phone", "value": "+1 (919) 555-0142"}, {"kind": "phone", "value": "1-888-555-0199"}])
    assert sorted(t.phone_e164 for t in req.targets.all()) == ["+18885550199", "+19195550142"]


@pytest.mark.parametrize(
    "content,name,reason",
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "subpoena.pdf", "not a PDF"),
        (b"<html><body><script>alert(1)</script></body></html>", "subpoena.pdf", "not a PDF"),
        (b"%PDX-1.4\n" + b"x" * 100 + b"\n%%EOF\n", "subpoena.pdf", "not a PDF"),
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n", "polyglot.pdf", "mixes PDF and HTML"),
        (b"%PDF-1.4\nthis is not really a pdf body\n%%EOF\n", "broken.pdf", "could not be read"),
        (None, "subpoena.exe", "only PDF"),
        (None, "subpoena.pdf.html", "only PDF"),
    ],
)
def test_it_refuses_malicious_uploads(world, content, name, reason):
    data = content if content is not None else make_pdf()
    with pytest.raises(UploadRejected) as exc:
        check_pdf(io.BytesIO(data), name)
    assert reason in str(exc.value)


def test_it_refuses_an_html_polyglot_hidden_after_a_valid_pdf_header_on_the_form(world, as_user):
    client = as_user(world.dana)
    polyglot = b"<!DOCTYPE html><html><script>x</script>" + make_pdf()
    response = client.post(reverse("legal:new"), {**_form(), "document": _upload(polyglot)})
    assert response.status_code == 200
    assert "not a PDF" in response.content.decode()
    assert not LegalRequest.objects.for_org(world.agency_a).exists()


def test_it_refuses_an_oversized_file(world, settings):
    pdf = make_pdf()
    with pytest.raises(UploadRejected, match="larger than"):
        check_pdf(io.BytesIO(pdf + b"%" * 5000), "big.pdf", max_bytes=len(pdf) + 100)


def test_it_sanitises_the_original_name(world):
    checked = check_pdf(io.BytesIO(make_pdf()), '../../etc/pa"ss\r\nwd;.pdf')
    assert checked.original_name == "pa_ss_wd_.pdf"


def test_it_flags_likely_duplicates(world):
    first = file(world, case_number="CP 2026/001")
    second = file(world, case_number="cp-2026-001", targets=[{"kind": "phone", "value": "919-555-0142"}])
    other_targets = file(world, case_number="CP-2026-001", targets=[{"kind": "phone", "value": "919-555-0143"}])
    assert second.duplicate_of == first
    assert other_targets.duplicate_of is None
    # The same number asked for by another agency is linked for staff, never flagged as a duplicate.
    theirs = file(world, world.omar, case_number="CP-2026-001")
    assert theirs.duplicate_of is None
    assert first.pk in theirs.related_request_ids


def test_it_lets_only_approved_agency_users_file(world, as_user):
    for user in (world.alice, world.pat, world.rita):
        assert as_user(user).get(reverse("legal:new")).status_code == 403
    with pytest.raises(services.NotAllowed):
        file(world, world.pat)
    world.dana.approval = "pending"
    world.dana.save()
    with pytest.raises(services.NotAllowed):
        file(world)
    world.dana.approval = "approved"
    world.dana.save()
    world.agency_a.status = "suspended"
    world.agency_a.save()
    with pytest.raises(services.NotAllowed):
        file(world)


def test_it_creates_holds_for_a_preservation_letter(world):
    req = file(world, type="preservation", targets=[{"kind": "phone", "value": "9195550142"}, {"kind": "campaign", "value": "C-5"}])
    holds = list(PreservationHold.objects.for_org(world.agency_a).filter(request=req))
    assert sorted((h.kind, h.object_key) for h in holds) == [("campaign", "5"), ("phone", "+19195550142")]
    assert all(84 * 24 * 3600 < (h.expires_at - timezone.now()).total_seconds() <= 90 * 24 * 3600 for h in holds)
