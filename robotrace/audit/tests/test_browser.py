"""The audit browser: consortium admins only, filters, pagination, chain verification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from robotrace.audit import services as audit
from robotrace.audit.models import AuditEvent


def _rows(response) -> str:
    """The table body only (the filter's action suggestions list every action)."""
    return response.content.decode().split("<tbody>", 1)[1]


def test_it_lists_and_filters_events(world, as_user):
    audit.record(action="test.alpha", actor=world.pat, subject_org=world.provider_a, object_type="x.thing", object_id="7")
    audit.record(action="test.bravo", actor=world.quinn, subject_org=world.provider_b)
    c = as_user(world.alice)
    body = _rows(c.get(reverse("audit:list")))
    assert "test.alpha" in body and "test.bravo" in body
    body = _rows(c.get(reverse("audit:list"), {"action": "alpha"}))
    assert "test.alpha" in body and "test.bravo" not in body
    body = _rows(c.get(reverse("audit:list"), {"actor": "quinn@"}))
    assert "test.bravo" in body and "test.alpha" not in body
    body = _rows(c.get(reverse("audit:list"), {"org": world.provider_a.pk}))
    assert "test.alpha" in body and "test.bravo" not in body
    body = _rows(c.get(reverse("audit:list"), {"obj": "x.thing:7"}))
    assert "test.alpha" in body and "test.bravo" not in body


def test_it_filters_by_date(world, as_user):
    event = audit.record(action="test.old", actor=world.pat)
    AuditEvent.objects.filter(id=event.id).update(at=timezone.now() - timedelta(days=10))  # breaks the chain; fine here
    audit.record(action="test.new", actor=world.pat)
    today = timezone.localdate()
    c = as_user(world.alice)
    body = _rows(c.get(reverse("audit:list"), {"since": str(today - timedelta(days=1))}))
    assert "test.new" in body and "test.old" not in body
    body = _rows(c.get(reverse("audit:list"), {"until": str(today - timedelta(days=5))}))
    assert "test.old" in body and "test.new" not in body


def test_bad_filters_are_explained_not_500(world, as_user):
    c = as_user(world.alice)
    r = c.get(reverse("audit:list"), {"since": "yesterday", "org": "abc"})
    assert r.status_code == 400
    r = c.get(reverse("audit:list"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert r.status_code == 400 and "before the start" in r.content.decode()
    assert c.get(reverse("audit:list"), {"page": "999"}).status_code == 200


def test_it_paginates(world, as_user):
    for i in range(60):
        audit.record(action=f"test.bulk{i}", actor=world.pat)
    c = as_user(world.alice)
    first = c.get(reverse("audit:list"), {"action": "test.bulk"}).content.decode()
    second = c.get(reverse("audit:list"), {"action": "test.bulk", "page": 2}).content.decode()
    assert "test.bulk59<" in first and "test.bulk0<" not in first
    assert "test.bulk0<" in second


def test_the_verify_button_reports_an_intact_chain(world, as_user):
    r = as_user(world.alice).post(reverse("audit:verify"))
    assert r.status_code == 200
    assert "Chain intact" in r.content.decode()
    assert AuditEvent.objects.filter(action="audit.chain_verified", outcome="success").exists()


def test_the_verify_button_reports_tampering(world, as_user):
    victim = audit.record(action="test.victim", actor=world.pat, data={"amount": 1})
    AuditEvent.objects.filter(id=victim.id).update(data={"amount": 1000})
    r = as_user(world.alice).post(reverse("audit:verify"))
    body = r.content.decode()
    assert "The chain is broken" in body
    assert f"#{victim.id}" in body
    assert AuditEvent.objects.filter(action="audit.chain_verified", outcome="failure").exists()


@pytest.mark.parametrize("persona", ["carol", "pat", "quinn", "rita", "sam", "dana", "omar"])
def test_only_consortium_admins_browse_the_trail(world, as_user, persona):
    c = as_user(getattr(world, persona))
    assert c.get(reverse("audit:list")).status_code == 403
    assert c.post(reverse("audit:verify")).status_code == 403


def test_it_exports_the_filtered_trail_as_csv(world, as_user):
    audit.record(action="test.export", actor=world.pat, data={"note": "=HYPERLINK(\"http://evil\")"})
    audit.record(action="test.other", actor=world.pat)
    c = as_user(world.alice)
    r = c.get(reverse("audit:export"), {"action": "test.export"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,at_utc,action")
    assert len(lines) == 2 and "test.export" in lines[1] and "test.other" not in body
    assert AuditEvent.objects.filter(action="audit.exported", actor_user=world.alice).exists()


def test_export_cells_cannot_become_spreadsheet_formulas(world, as_user):
    audit.record(action="test.inject", actor_label="=cmd|' /C calc'!A0")
    body = b"".join(as_user(world.alice).get(reverse("audit:export"), {"action": "test.inject"}).streaming_content).decode()
    assert ",'=cmd" in body


@pytest.mark.parametrize("persona", ["carol", "pat", "dana"])
def test_only_consortium_admins_export(world, as_user, persona):
    assert as_user(getattr(world, persona)).get(reverse("audit:export")).status_code == 403
