"""The simulator signs calls (STIR/SHAKEN) and the real verifier, intake and traceback paths
use those signatures: sign → ingest over the API → verify → open → direct signer request."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from robotrace.simulator.agents import Agents, ClientTransport
from robotrace.simulator.network import Network, SimCall, materialise
from robotrace.simulator.tests.test_network import run_until_quiet
from robotrace.tracebacks import services
from robotrace.tracebacks.models import Hop, Traceback


@pytest.fixture
def sim_var(settings: Any, tmp_path: Any) -> Any:
    """A private VAR_DIR: the simulated PKI, trust anchor and certificate store per test."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    from robotrace.shaken import runtime

    runtime.invalidate()
    return settings.VAR_DIR


def _network() -> Network:
    return Network(40, seed=3, behaviours={"instant": 1.0}, bad_originators=4, signing=True)


def _call_signed_by(net: Network, kind: str, *, robocall: bool = True) -> SimCall:
    start = timezone.now() - timedelta(minutes=30)
    for i in range(800):
        call = net.place_call(at=start + timedelta(seconds=i), robocall=robocall, foreign=False)
        if call.signer is not None and net.providers[call.signer].signs == kind and not call.sign_fault:
            return call
    raise AssertionError(f"no call signed by a {kind!r} signer")


def _ingest(client: Any, api_key: Any, world: Any, call: SimCall, django_capture_on_commit_callbacks: Any) -> int:
    from robotrace.ingest.models import CallReport

    row = {"source_report_id": call.id, "report_type": "carrier_analytics", "call_started_at": call.at.isoformat(),
           "calling_number": call.calling, "called_number": call.called, "is_robocall": True, "identity_header": call.identity}
    key = api_key(world.reporter_a, ["ingest"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/v1/reports", data=json.dumps(row), content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 202, r.content
    return CallReport.objects.unscoped(reason="test").get(source_report_id=call.id).id


def test_it_assigns_attestation_levels_by_provider_behaviour(world, sim_var) -> None:
    net = _network()
    materialise(net, link_demo=False)
    now = timezone.now()
    calls = [net.place_call(at=now + timedelta(seconds=i), robocall=i % 2 == 0, foreign=i % 6 == 0) for i in range(200)]
    for c in calls:
        if c.signer is None:
            assert not c.identity
            continue
        signer = net.providers[c.signer]
        assert c.identity.count(".") >= 2 and f"{signer.spc}" in c.identity
        if signer.signs == "gateway":
            assert c.foreign and c.attest == "C"
        elif signer.signs == "bad":
            assert c.attest == "A" and c.signer == c.path[0]
        elif signer.signs == "honest":
            assert c.attest == ("B" if c.robocall else "A") and c.signer == c.path[0]
        else:
            assert signer.signs == "launder" and c.attest == "A" and c.signer != c.path[0]
    assert {c.attest for c in calls if c.signer is not None} >= {"A", "C"}
    assert not any(c.identity for c in calls if c.foreign and net.providers[c.path[1]].signs != "gateway")


def test_a_signed_report_is_verified_and_its_traceback_sends_a_direct_request_to_the_signer(
    world, client, api_key, sim_var, django_capture_on_commit_callbacks
) -> None:
    from robotrace.shaken.facade import verified_signer_for_report
    from robotrace.shaken.models import ShakenVerification

    net = _network()
    materialise(net, link_demo=False)
    call = _call_signed_by(net, "bad")
    signer = net.providers[call.signer]  # type: ignore[index]  # the call chosen has a signer
    report_id = _ingest(client, api_key, world, call, django_capture_on_commit_callbacks)

    row = ShakenVerification.objects.unscoped(reason="test").get(report_id=report_id)
    assert row.verified and row.attest == "A" and row.signer_spc == signer.spc and row.signer_provider_id == signer.provider_id
    info = verified_signer_for_report(report_id)  # the real facade, not a stand-in
    assert info is not None and info.verified and info.provider_id == signer.provider_id

    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=report_id)
    direct = tb.hops.get(is_direct_signer_request=True)
    assert direct.provider_id == signer.provider_id and direct.sequence == 0
    assert tb.shaken_signer_id == signer.provider_id and tb.shaken_attest == "A"

    run_until_quiet(Agents(net, ClientTransport(client), workers=0))
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.COMPLETED and tb.originating_provider_id == signer.provider_id
    assert not tb.shaken_mismatch  # the signer is the origin: the chain confirms it


def test_it_flags_a_downstream_provider_that_attested_a_on_a_call_it_did_not_originate(
    world, client, api_key, sim_var, django_capture_on_commit_callbacks
) -> None:
    net = _network()
    materialise(net, link_demo=False)
    call = _call_signed_by(net, "launder")
    launderer = net.providers[call.signer]  # type: ignore[index]  # the call chosen has a signer
    report_id = _ingest(client, api_key, world, call, django_capture_on_commit_callbacks)

    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=report_id)
    assert tb.hops.filter(is_direct_signer_request=True, provider_id=launderer.provider_id).exists()  # type: ignore[misc]  # the launderer has a registry record
    run_until_quiet(Agents(net, ClientTransport(client), workers=0))
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.COMPLETED
    assert tb.originating_provider_id == net.providers[call.path[0]].provider_id != launderer.provider_id
    assert tb.shaken_mismatch and launderer.name in tb.shaken_mismatch_detail
    assert Hop.objects.unscoped(reason="test").filter(traceback=tb, provider_id=launderer.provider_id, attestation_flagged=True).exists()


def test_a_faulty_signature_names_no_signer(world, client, api_key, sim_var, django_capture_on_commit_callbacks) -> None:
    from robotrace.shaken.models import ShakenVerification

    net = _network()
    materialise(net, link_demo=False)
    origin = next(p for p in net.role("originating") if p.signs == "honest" and not p.sign_fault)
    origin.sign_fault = "bad_signature"
    call = None
    start = timezone.now() - timedelta(minutes=10)
    for i in range(800):
        c = net.place_call(at=start + timedelta(seconds=i), robocall=False)
        if c.signer == origin.index:
            call = c
            break
    assert call is not None and call.sign_fault == "bad_signature"
    report_id = _ingest(client, api_key, world, call, django_capture_on_commit_callbacks)
    row = ShakenVerification.objects.unscoped(reason="test").get(report_id=report_id)
    assert not row.verified and row.sip_code == 438
    tb = services.open_traceback(actor=world.alice, organisation=world.consortium, report_id=report_id)
    assert not tb.hops.filter(is_direct_signer_request=True).exists() and tb.shaken_signer_id is None
