from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from robotrace.legal import services, tasks
from robotrace.legal.models import LegalRequest, PreservationHold
from robotrace.legal.tests.conftest import file


def test_it_shows_transparency_statistics_as_charts(world, as_user):
    produced = file(world, case_number="A-1")
    services.decide(actor=world.alice, organisation=world.consortium, request=produced, decision="accept")
    services.create_production(actor=world.alice, organisation=world.consortium, request=produced)
    narrowed = file(world, world.omar, case_number="B-1")
    services.decide(actor=world.alice, organisation=world.consortium, request=narrowed, decision="narrow", note="one number only")
    rejected = file(world, world.omar, case_number="B-2", type="cid")
    services.decide(actor=world.alice, organisation=world.consortium, request=rejected, decision="reject", note="no authority")
    from robotrace.legal.queries import statistics_summary

    s = statistics_summary()
    assert s["total"] == 3 and s["produced"] == 1 and s["median_hours_to_produce"] is not None
    assert s["share_narrowed"] == round(100 / 3, 1) and s["share_rejected"] == round(100 / 3, 1)
    assert dict(s["by_state"]) == {"NC": 1, "OH": 2}
    for user in (world.alice, world.dana):
        page = as_user(user).get(reverse("legal:stats"))
        assert page.status_code == 200
        body = page.content.decode()
        assert 'data-chart="legal-type"' in body and 'id="d-type"' in body
        # Aggregates only: no case numbers of anyone.
        assert "B-1" not in body and "A-1" not in body


def test_it_fills_the_home_panels(world, as_user):
    req = file(world)
    assert req.ref in as_user(world.alice).get(reverse("home")).content.decode()
    assert req.ref in as_user(world.dana).get(reverse("home")).content.decode()
    assert req.ref not in as_user(world.omar).get(reverse("home")).content.decode()


def test_it_runs_the_periodic_sweep_and_reminds_of_expiring_holds(world, django_capture_on_commit_callbacks):
    req = file(world, type="preservation", due_date=timezone.localdate() + timedelta(days=1))
    PreservationHold.objects.for_org(world.consortium).update(expires_at=timezone.now() + timedelta(days=3))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = tasks.sweep_legal_deadlines.call_local()
    assert counts["due_soon"] == 1 and counts["hold_reminders"] == 1
    assert any(world.dana.email in m.to and "expires soon" in m.subject for m in mail.outbox)
    assert tasks.sweep_legal_deadlines.call_local()["hold_reminders"] == 0
    req.refresh_from_db()
    assert req.due_state == "due_soon"


def test_it_clears_the_deadline_state_when_a_request_closes(world):
    req = file(world)
    LegalRequest.objects.for_org(world.agency_a).filter(pk=req.pk).update(due_at=timezone.now() - timedelta(hours=2))
    services.sweep_due()
    req.refresh_from_db()
    assert req.due_state == "overdue"
    services.decide(actor=world.alice, organisation=world.consortium, request=req, decision="reject", note="out of scope")
    req.refresh_from_db()
    assert req.due_state == ""


def test_it_keeps_no_file_when_filing_fails(world, settings, monkeypatch):
    import io
    from pathlib import Path

    import pytest

    from robotrace.legal.tests.conftest import make_pdf, new_request
    from robotrace.legal.uploads import check_pdf

    def boom(**kw):
        raise RuntimeError("disk full")

    # The last step of filing a preservation letter fails after the PDF was written.
    monkeypatch.setattr(services, "_create_holds", boom)
    with pytest.raises(RuntimeError):
        services.file_request(actor=world.dana, organisation=world.agency_a, data=new_request(type="preservation"), document=check_pdf(io.BytesIO(make_pdf()), "a.pdf"))
    assert not LegalRequest.objects.for_org(world.agency_a).exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))
