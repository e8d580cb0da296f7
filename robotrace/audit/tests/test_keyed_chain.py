"""The chain is keyed and anchored: what someone who can write the database, but holds
neither the chain key nor the anchor folder, can no longer do unseen (#20 finding 6)."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from robotrace.audit import services as audit
from robotrace.audit.models import AuditChainHead, AuditEvent
from robotrace.audit.queries import verify_chain

OTHER_KEY = "c2VsZWN0ZWQtYnktYS10ZXN0LW5vdC1hLXJlYWwta2V5LTEyMzQ1Njc4"  # 42 bytes
NEW_KEY = "bmV3LWtleS1mb3ItdGhlLWF1ZGl0LWNoYWluLXJvdGF0aW9uLXRlc3QtMDA"


def _events(world, n=5):
    for i in range(n):
        audit.record(action=f"test.{i}", actor=world.alice if world else None, actor_label="system", data={"i": i})


def _reasons(problems):
    return " | ".join(p.reason for p in problems)


def _attacker_hash(event: AuditEvent) -> str:
    """The unkeyed SHA-256 over an event's fields and its predecessor's hash: what anyone can
    recompute from the database alone (and what the chain used to be)."""
    body = {
        "at": event.at.isoformat(timespec="microseconds"), "action": event.action, "outcome": event.outcome,
        "actor_user": event.actor_user_id, "actor_label": event.actor_label, "actor_org": event.actor_org_id,
        "subject_org": event.subject_org_id, "object_type": event.object_type, "object_id": event.object_id,
        "source_ip": event.source_ip, "data": event.data, "prev_hash": event.prev_hash,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _rewrite_unkeyed(*, edit=None, downgrade=True):
    """Rewrite the whole chain as someone with database access and no key would: optionally
    edit an event, then recompute every link with the unkeyed hash and move the head."""
    prev = "0" * 64
    events = list(AuditEvent.objects.order_by("id"))
    # Hashes are unique: park the old ones out of the way before writing the new ones.
    for event in events:
        AuditEvent.objects.filter(id=event.id).update(hash=f"parked-{event.id}")
    for event in events:
        if edit is not None:
            edit(event)
        event.prev_hash = prev
        fields = ["data", "prev_hash", "hash"]
        if downgrade and hasattr(event, "mac_version"):
            event.mac_version, event.key_id = 0, ""
            fields += ["mac_version", "key_id"]
        event.hash = _attacker_hash(event)
        event.save(update_fields=fields)
        prev = event.hash
    AuditChainHead.objects.filter(id=1).update(last_hash=prev, count=len(events))


def _delete_newest(n: int):
    doomed = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:n])
    AuditEvent.objects.filter(id__in=doomed).delete()
    newest = AuditEvent.objects.order_by("-id").first()
    assert newest is not None
    AuditChainHead.objects.filter(id=1).update(last_hash=newest.hash, count=AuditEvent.objects.count())


def test_a_fresh_chain_is_keyed_and_verifies(world):
    _events(world)
    events = list(AuditEvent.objects.order_by("id"))
    assert {e.mac_version for e in events} == {1}
    assert all(e.key_id.startswith("dev-") for e in events)  # derived from SECRET_KEY, and says so
    assert verify_chain() == []
    call_command("audit", "verify")


def test_recording_an_event_takes_the_same_three_statements(world, django_assert_num_queries):
    audit.record(action="test.warm", actor_label="system")
    with django_assert_num_queries(3):  # lock the head, insert the event, move the head
        audit.record(action="test.counted", actor_label="system", data={"x": 1})


def test_it_detects_an_edited_event(world):
    _events(world)
    victim = AuditEvent.objects.order_by("id")[2]
    AuditEvent.objects.filter(id=victim.id).update(data={"i": 99})
    assert [p.event_id for p in verify_chain()] == [victim.id]


def test_it_detects_a_deleted_event(world):
    _events(world)
    victim = AuditEvent.objects.order_by("id")[2]
    AuditEvent.objects.filter(id=victim.id).delete()
    assert "deleted" in _reasons(verify_chain())


def test_it_detects_the_whole_chain_rewritten_without_the_key(world):
    _events(world)
    _rewrite_unkeyed(edit=lambda e: e.data.update(forged=True) if e.data.get("i") == 2 else None)
    problems = verify_chain()
    assert problems, "an unkeyed rewrite of the whole chain verified as intact"
    assert "none of the" in _reasons(problems)


def test_it_detects_a_rewrite_that_keeps_the_keyed_label(world):
    _events(world)
    _rewrite_unkeyed(edit=lambda e: e.data.update(forged=True) if e.data.get("i") == 2 else None, downgrade=False)
    assert "HMAC" in _reasons(verify_chain())


def test_it_detects_the_newest_events_deleted_after_an_anchor(world):
    _events(world)
    call_command("audit", "anchor")
    _delete_newest(2)
    problems = verify_chain()
    assert problems, "deleting the anchored newest events (and moving the head back) verified as intact"
    text = _reasons(problems)
    assert "the newest events were deleted" in text and "which is missing" in text
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_it_detects_a_wrong_key(world, settings):
    _events(world)
    settings.AUDIT_CHAIN_KEY = OTHER_KEY
    problems = verify_chain()
    assert len(problems) == 1  # once per unknown key, not once per event
    assert "not configured (AUDIT_CHAIN_KEY)" in problems[0].reason
    assert f"{AuditEvent.objects.count()} event(s)" in problems[0].reason


def test_a_rotated_key_signs_and_the_old_one_still_verifies(db, settings):
    settings.AUDIT_CHAIN_KEY = OTHER_KEY
    _events(None, 2)
    settings.AUDIT_CHAIN_KEY = f"{NEW_KEY},{OTHER_KEY}"
    _events(None, 2)
    assert len({e.key_id for e in AuditEvent.objects.all()}) == 2
    assert verify_chain() == []
    settings.AUDIT_CHAIN_KEY = NEW_KEY  # the old key dropped too early
    assert "not configured" in _reasons(verify_chain())


def test_an_unkeyed_prefix_followed_by_keyed_events_verifies(world):
    # A database from before the chain was keyed: its events carry the unkeyed hash.
    _events(world, 3)
    _rewrite_unkeyed()
    before = AuditEvent.objects.count()
    assert "none of the" in _reasons(verify_chain())
    # The migration that keys the chain appends one keyed event after them at once.
    migration = importlib.import_module("robotrace.audit.migrations.0002_keyed_chain")
    from django.apps import apps

    migration.seal_unkeyed_prefix(apps, connection.schema_editor())
    marker = AuditEvent.objects.order_by("-id").first()
    assert marker.action == "audit.chain_keyed" and marker.data["unkeyed_events"] == before
    _events(world, 2)
    from robotrace.audit.queries import check_chain

    report = check_chain()
    assert report.problems == []
    assert (report.events, report.keyed_events) == (before + 3, 3)


def test_it_refuses_an_unkeyed_event_after_the_first_keyed_one(world):
    _events(world, 3)
    newest = AuditEvent.objects.order_by("-id").first()
    forged = AuditEvent(at=newest.at, action="forged", actor_label="system", data={}, prev_hash=newest.hash)
    forged.hash = _attacker_hash(forged)
    forged.save()
    AuditChainHead.objects.filter(id=1).update(last_hash=forged.hash, count=AuditEvent.objects.count())
    problems = verify_chain()
    assert [p.event_id for p in problems] == [forged.id]
    assert "unkeyed event after the chain became keyed" in problems[0].reason


def test_production_settings_refuse_to_start_without_a_chain_key():
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin", "ROBOTRACE_TESTING": "0"}
    proc = subprocess.run([sys.executable, "-c", "import robotrace.settings"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "AUDIT_CHAIN_KEY is required" in proc.stderr
