from __future__ import annotations

import pytest
from django.utils import timezone

from robotrace.audit.models import AuditEvent
from robotrace.providers.models import Provider
from robotrace.tracebacks import services
from robotrace.tracebacks.models import Hop, Traceback
from robotrace.tracebacks.services import TracebackError
from robotrace.tracebacks.tests.factories import make_net, open_tb, sample


def answer(world, hop, org, **kw):
    return services.answer_hop(actor=None, organisation=org, hop_id=hop.id, actor_label="test", **kw)


def test_it_sends_the_first_hop_to_the_holder_of_the_called_number(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    assert hop.provider == net.term and hop.sequence == 1 and hop.status == Hop.Status.REQUESTED
    assert AuditEvent.objects.filter(action="traceback.opened", object_id=str(tb.id)).exists()


def test_it_follows_upstream_answers_to_the_originating_customer(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    h1 = tb.hops.get()
    answer(world, h1, world.provider_a, response="upstream", upstream_provider_id=net.transit.id)
    h2 = tb.hops.get(sequence=2)
    assert h2.provider == net.transit and h2.named_by == net.term
    answer(world, h2, world.provider_b, response="upstream", upstream="OT99")  # by OCN
    h3 = tb.hops.get(sequence=3)
    assert h3.provider == net.origin
    answer(world, h3, world.consortium, response="originated", customer={"name": "Dialer LLC", "phone": "(305) 555-0100"}, customer_action="terminated")
    tb.refresh_from_db()
    assert tb.status == Traceback.Status.COMPLETED
    assert tb.outcome == Traceback.Outcome.ORIGIN_AND_CUSTOMER
    assert tb.originating_provider == net.origin and tb.originating_customer["name"] == "Dialer LLC"
    assert tb.hop_count == 3


def test_it_records_origin_only_when_no_customer_is_given(world) -> None:
    make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="originated")
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.ORIGIN_ONLY


def test_it_creates_a_pending_provider_for_an_unknown_upstream(world) -> None:
    make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="upstream", upstream="Shady Minutes Inc")
    new = Provider.objects.get(name="Shady Minutes Inc")
    assert new.status == Provider.Status.PENDING
    assert tb.hops.get(sequence=2).provider == new


def test_it_names_the_point_of_entry_for_a_foreign_upstream(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="upstream", upstream_provider_id=net.foreign.id)
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.FOREIGN_ORIGIN and tb.point_of_entry_provider == net.term
    assert tb.hops.count() == 1


def test_it_accepts_foreign_upstream_without_a_registry_record(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="upstream", upstream_provider_id=net.transit.id)
    answer(world, tb.hops.get(sequence=2), world.provider_b, response="foreign_upstream", upstream="Some carrier in Lagos")
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.FOREIGN_ORIGIN and tb.point_of_entry_provider == net.transit


def test_it_records_no_record_with_its_reason(world) -> None:
    make_net(world)
    tb = open_tb(world)
    with pytest.raises(TracebackError) as err:
        answer(world, tb.hops.get(), world.provider_a, response="no_record")
    assert err.value.field == "no_record_reason"
    answer(world, tb.hops.get(), world.provider_a, response="no_record", no_record_reason="CDRs kept 7 days")
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.NO_RECORD


def test_it_records_a_refusal(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="refused", notes="not without a subpoena")
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.REFUSED and tb.non_responsive_provider == net.term


def _unchanged(hop: Hop) -> None:
    before = (hop.status, hop.response)
    hop.refresh_from_db()
    assert (hop.status, hop.response) == before


def test_it_refuses_answers_to_a_closed_hop(world) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    answer(world, hop, world.provider_a, response="originated")
    with pytest.raises(TracebackError) as err:
        answer(world, hop, world.provider_a, response="no_record", no_record_reason="x")
    assert err.value.status == 409
    hop.refresh_from_db()
    assert hop.response == "originated"


def test_it_refuses_a_hop_that_is_not_the_providers_own(world) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    with pytest.raises(TracebackError) as err:
        answer(world, hop, world.provider_b, response="originated")
    assert err.value.status == 404
    _unchanged(hop)


def test_it_refuses_a_provider_naming_itself(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    with pytest.raises(TracebackError, match="itself"):
        answer(world, hop, world.provider_a, response="upstream", upstream_provider_id=net.term.id)
    _unchanged(hop)


def test_it_refuses_a_loop(world) -> None:
    net = make_net(world)
    tb = open_tb(world)
    answer(world, tb.hops.get(), world.provider_a, response="upstream", upstream_provider_id=net.transit.id)
    h2 = tb.hops.get(sequence=2)
    with pytest.raises(TracebackError, match="loop"):
        answer(world, h2, world.provider_b, response="upstream", upstream="Alpha Terminating")
    _unchanged(h2)
    assert tb.hops.count() == 2


@pytest.mark.parametrize(
    "customer,field",
    [
        ({"name": "X", "ssn": "123"}, "customer.ssn"),
        ({"address": "1 Main St"}, "customer.name"),
        ({"name": "X", "email": "not-an-email"}, "customer.email"),
        ({"name": "X", "phone": "12"}, "customer.phone"),
        ({"name": ["X"]}, "customer.name"),
        ("Dialer LLC", "customer"),
    ],
)
def test_it_refuses_malformed_customer_data(world, customer, field) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    with pytest.raises(TracebackError) as err:
        answer(world, hop, world.provider_a, response="originated", customer=customer)
    assert err.value.field == field
    _unchanged(hop)


def test_it_refuses_bad_evidence_and_keeps_good_evidence(world) -> None:
    make_net(world)
    tb = open_tb(world)
    hop = tb.hops.get()
    for name, content, ctype in [("x.exe", b"MZ", "application/octet-stream"), ("cdr.csv", b"", "text/csv"),
                                 ("cdr.csv", b"\xff\xfe\x00bad", "text/csv"), ("cdr.txt", b"a", "image/png")]:
        with pytest.raises(TracebackError):
            services.attach_evidence(actor=None, organisation=world.provider_a, hop_id=hop.id, filename=name, content=content, content_type=ctype)
    assert hop.evidence.count() == 0
    with pytest.raises(TracebackError) as err:
        services.attach_evidence(actor=None, organisation=world.provider_a, hop_id=hop.id, filename="big.txt", content=b"a" * (services.conf.EVIDENCE_MAX_BYTES + 1))
    assert err.value.status == 413
    ev = services.attach_evidence(actor=None, organisation=world.provider_a, hop_id=hop.id, filename="sip.txt",
                                  content=b"INVITE sip:+19195550123@x SIP/2.0\r\n", content_type="text/plain", kind="sip")
    assert len(ev.sha256) == 64 and ev.size == 35
    with pytest.raises(TracebackError) as err:
        services.attach_evidence(actor=None, organisation=world.provider_b, hop_id=hop.id, filename="a.txt", content=b"x")
    assert err.value.status == 404


def test_it_opens_a_trace_forward_to_the_callback_number_holder(world) -> None:
    net = make_net(world)
    tb = services.open_trace_forward(actor=world.alice, organisation=world.consortium, callback_number="919-555-7777")
    assert tb.kind == Traceback.Kind.TRACE_FORWARD and tb.callback_number == "+19195557777"
    assert tb.hops.get().provider == net.term


def test_it_refuses_opening_by_non_consortium(world) -> None:
    make_net(world)
    with pytest.raises(TracebackError) as err:
        services.open_traceback(actor=world.pat, organisation=world.provider_a, sample=sample())
    assert err.value.status == 403


def test_it_refuses_a_number_without_a_known_provider(world) -> None:
    make_net(world)
    s = services.SampleCall(call_started_at=timezone.now(), calling_number="+1202", called_number="+13125550000")
    with pytest.raises(TracebackError, match="no terminating provider"):
        services.open_traceback(actor=world.alice, organisation=world.consortium, sample=s)
    assert Traceback.objects.unscoped(reason="test").count() == 0
