from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from robotrace.audit import services as audit
from robotrace.audit.models import AuditEvent
from robotrace.audit.queries import verify_chain


def _three(world):
    for i in range(3):
        audit.record(action=f"test.{i}", actor=world.alice, data={"i": i})


def test_an_untouched_chain_verifies(world):
    _three(world)
    assert verify_chain() == []
    call_command("audit", "verify")


def test_it_detects_an_edited_event(world):
    _three(world)
    event = AuditEvent.objects.order_by("id")[2]
    AuditEvent.objects.filter(id=event.id).update(data={"i": 99})
    problems = verify_chain()
    assert [p.event_id for p in problems] == [event.id]
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_it_detects_a_deleted_event(world):
    _three(world)
    victim = AuditEvent.objects.order_by("id")[3]
    AuditEvent.objects.filter(id=victim.id).delete()
    assert verify_chain()


def test_it_detects_the_newest_event_deleted(world):
    _three(world)
    AuditEvent.objects.order_by("-id").first().delete()
    assert any(p.event_id is None for p in verify_chain())


def test_it_rolls_back_with_the_change_it_describes(world):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            audit.record(action="test.doomed", actor=world.alice)
            raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == before
    assert verify_chain() == []
