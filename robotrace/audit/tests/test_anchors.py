"""Anchors: signed checkpoints of the chain head outside the database, checked by verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django.urls import reverse

from robotrace.audit import anchors
from robotrace.audit import services as audit
from robotrace.audit.models import AuditChainHead, AuditEvent
from robotrace.audit.queries import check_chain, verify_chain
from robotrace.audit.tasks import anchor_chain


def _events(n=3):
    for i in range(n):
        audit.record(action=f"test.{i}", actor_label="system", data={"i": i})


def _files(settings):
    return sorted(p for p in settings.AUDIT_ANCHOR_DIR.rglob("*.json"))


def _reasons(problems):
    return " | ".join(p.reason for p in problems)


def test_the_anchor_command_writes_a_signed_checkpoint_outside_the_database(db, settings, capsys):
    _events()
    call_command("audit", "anchor")
    [path] = _files(settings)
    doc = json.loads(path.read_text())
    newest = AuditEvent.objects.order_by("-id").first()
    assert (doc["event_id"], doc["count"], doc["hash"]) == (newest.id, AuditEvent.objects.count(), newest.hash)
    assert doc["key_id"] == newest.key_id and len(doc["mac"]) == 64
    assert path.parent.name == doc["at"][:10]  # a folder per day
    capsys.readouterr()
    call_command("audit", "verify")
    assert json.loads(capsys.readouterr().out)["anchors"] == 1


def test_the_periodic_task_anchors_a_new_head_once(db, settings):
    assert anchor_chain.call_local() is None  # an empty chain has nothing to anchor
    _events()
    assert anchor_chain.call_local() is not None
    assert anchor_chain.call_local() is None  # the same head is not written again the same day
    _events(1)
    assert anchor_chain.call_local() is not None
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert anchors.write_anchor(now=tomorrow) is not None  # and once a day even when idle
    assert len(_files(settings)) == 3
    assert check_chain().anchors == 3 and verify_chain() == []


def test_it_detects_an_anchor_whose_own_hmac_is_wrong(db, settings):
    _events()
    anchors.write_anchor()
    [path] = _files(settings)
    doc = json.loads(path.read_text())
    doc["count"] -= 1  # someone with the folder but not the key "agrees" with a shortened chain
    path.chmod(0o600)
    path.write_text(json.dumps(doc))
    assert "its HMAC does not match" in _reasons(verify_chain())


def test_it_detects_an_anchor_that_is_not_an_anchor(db, settings):
    _events()
    anchors.write_anchor()
    [path] = _files(settings)
    path.chmod(0o600)
    path.write_text("{not json")
    assert "cannot be read" in _reasons(verify_chain())


def test_it_detects_a_chain_shorter_than_an_anchor(db, settings):
    _events(4)
    anchors.write_anchor()
    # Delete the newest two and put the head back, as someone with the database could.
    doomed = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:2])
    AuditEvent.objects.filter(id__in=doomed).delete()
    newest = AuditEvent.objects.order_by("-id").first()
    AuditChainHead.objects.filter(id=1).update(last_hash=newest.hash, count=AuditEvent.objects.count())
    text = _reasons(verify_chain())
    assert "the chain has 2 events but anchor" in text and "counted 4" in text
    assert f"names event {doomed[0]}, which is missing" in text


def test_it_detects_an_anchored_event_whose_hash_differs(db, settings):
    _events()
    anchors.write_anchor()
    newest = AuditEvent.objects.order_by("-id").first()
    AuditEvent.objects.filter(id=newest.id).update(hash="f" * 64)
    AuditChainHead.objects.filter(id=1).update(last_hash="f" * 64)
    assert f"event {newest.id} does not have the hash anchored in" in _reasons(verify_chain())


def test_it_detects_events_deleted_before_an_anchored_one(db, settings):
    _events(4)
    anchors.write_anchor()
    anchored = AuditEvent.objects.order_by("-id").first()
    audit.record(action="test.later", actor_label="system")
    # The deletion itself shows as a broken link; the anchor also says where the count went wrong.
    AuditEvent.objects.filter(id=AuditEvent.objects.order_by("id").first().id).delete()
    text = _reasons(verify_chain())
    assert "previous hash does not match" in text
    assert f"3 events up to event {anchored.id} but anchor" in text


def test_the_audit_page_checks_the_anchors_too(world, as_user, settings):
    _events()
    anchors.write_anchor()
    client = as_user(world.alice)
    page = client.post(reverse("audit:verify")).content.decode()
    assert "Chain intact" in page and "all 1 anchors outside the database match" in page
    [path] = _files(settings)
    path.chmod(0o600)
    path.write_text(path.read_text().replace('"count": ', '"count": 1'))
    page = client.post(reverse("audit:verify")).content.decode()
    assert "The chain is broken" in page and "its HMAC does not match" in page
