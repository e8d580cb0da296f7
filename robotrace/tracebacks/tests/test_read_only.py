"""The read-only role holds on the API and in the services, as on the pages (#20 finding 4)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from robotrace.conftest import bearer, make_user
from robotrace.tracebacks import services
from robotrace.tracebacks.models import Traceback
from robotrace.tracebacks.tests.factories import make_net, open_tb, sample


def _cdr() -> SimpleUploadedFile:
    return SimpleUploadedFile("cdr.csv", b"time,from,to\n2026-11-20T10:00:00Z,+12025550111,+19195550123\n", content_type="text/csv")


def _answer(client, hop_id: int, **headers):
    body = {"response": "no_record", "no_record_reason": "no call at that time"}
    return client.post(f"/api/v1/hops/{hop_id}/response", data=json.dumps(body), content_type="application/json", **headers)


def test_a_read_only_provider_session_cannot_answer_or_upload_evidence(world, as_user) -> None:
    make_net(world)
    hop = open_tb(world).hops.get()
    viewer = as_user(make_user(world.provider_a, "ro@provider-a.test", "read_only"))
    r = _answer(viewer, hop.id)
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json", r.content
    assert "traceback:respond" in r.json()["detail"]
    r = viewer.post(f"/api/v1/hops/{hop.id}/evidence", {"file": _cdr(), "kind": "cdr"})
    assert r.status_code == 403
    hop.refresh_from_db()
    assert hop.answered_at is None and hop.evidence.count() == 0
    # Reading is what the role is for.
    assert viewer.get("/api/v1/hops").status_code == 200


def test_a_member_session_and_an_api_key_still_answer(world, as_user, api_key) -> None:
    make_net(world)
    first, second = open_tb(world).hops.get(), open_tb(world).hops.get()
    member = as_user(make_user(world.provider_a, "m@provider-a.test", "member"))
    assert _answer(member, first.id).status_code == 200
    assert member.post(f"/api/v1/hops/{first.id}/evidence", {"file": _cdr()}).status_code == 200
    assert _answer(Client(), second.id, **bearer(api_key(world.provider_a, ["traceback:respond"]))).status_code == 200


def test_a_read_only_consortium_session_cannot_open_tracebacks(world, as_user) -> None:
    make_net(world)
    viewer = as_user(make_user(world.consortium, "ro@consortium.test", "read_only"))
    body = {"call_started_at": "2026-11-20T10:00:00+00:00", "calling_number": "+12025550111", "called_number": "+19195550223"}
    r = viewer.post("/api/v1/tracebacks", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 403, r.content
    assert not Traceback.objects.unscoped(reason="test").exists()
    assert as_user(world.carol).post("/api/v1/tracebacks", data=json.dumps(body), content_type="application/json").status_code == 200


def test_the_services_refuse_a_read_only_actor(world) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    staff_viewer = make_user(world.consortium, "ro2@consortium.test", "read_only")
    provider_viewer = make_user(world.provider_a, "ro2@provider-a.test", "read_only")
    refusals = [
        lambda: services.open_traceback(actor=staff_viewer, organisation=world.consortium, sample=sample()),
        lambda: services.cancel_traceback(actor=staff_viewer, organisation=world.consortium, traceback_id=tb.id, reason="mistake"),
        lambda: services.answer_hop(actor=provider_viewer, organisation=world.provider_a, hop_id=hop.id, response="no_record",
                                    no_record_reason="none"),
        lambda: services.attach_evidence(actor=provider_viewer, organisation=world.provider_a, hop_id=hop.id, filename="cdr.csv",
                                         content=b"a,b\n1,2\n", content_type="text/csv"),
    ]
    for call in refusals:
        with pytest.raises(services.TracebackError) as exc:
            call()
        assert exc.value.status == 403 and "read-only" in exc.value.message
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.IN_PROGRESS and tb.hops.get().evidence.count() == 0
