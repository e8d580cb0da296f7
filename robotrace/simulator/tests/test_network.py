from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from robotrace.simulator.agents import Agents, ClientTransport
from robotrace.simulator.network import Network, materialise
from robotrace.tracebacks import conf, services, sweeper
from robotrace.tracebacks.models import Traceback


def run_until_quiet(agents: Agents, rounds: int = 20) -> None:
    """Answer every open hop in-process until nothing is left to answer."""
    for _ in range(rounds):
        progressed = 0
        for p in agents.net.providers:
            if p.key:
                for hop in agents.transport.open_hops(p.key):
                    progressed += bool(agents.answer_now(p, hop))
        if not progressed:
            return


def build(world, **kw):
    net = Network(40, seed=3, behaviours={"instant": 1.0}, **kw)
    w = materialise(net, link_demo=False)
    return net, w


def open_for(world, call):
    sample = services.SampleCall(call_started_at=call.at, calling_number=call.calling, called_number=call.called)
    return services.open_traceback(actor=world.alice, organisation=world.consortium, sample=sample)


def test_it_builds_routes_of_three_to_eight_providers_with_records_on_every_hop(world) -> None:
    net, _ = build(world)
    now = timezone.now()
    calls = [net.place_call(at=now + timedelta(seconds=i), foreign=i % 4 == 0) for i in range(60)]
    assert all(3 <= len(c.path) <= 8 for c in calls)
    for c in calls:
        for index in c.path:
            p = net.providers[index]
            if p.role != "foreign":
                assert p.records.find(at=c.at, calling=c.calling, called=c.called) is not None


def test_it_traces_every_call_to_its_true_origin_when_all_cooperate(world, client) -> None:
    net, _ = build(world)
    now = timezone.now() - timedelta(minutes=30)
    calls = [net.place_call(at=now + timedelta(seconds=i * 7), foreign=i % 3 == 0) for i in range(12)]
    tbs = [(open_for(world, c), c) for c in calls]
    agents = Agents(net, ClientTransport(client), workers=0)
    run_until_quiet(agents)
    for tb, call in tbs:
        tb.refresh_from_db()
        truth = net.providers[call.true_origin].provider_id
        assert tb.status == Traceback.Status.COMPLETED, (tb.ref, tb.outcome)
        if call.foreign:
            assert tb.outcome == Traceback.Outcome.FOREIGN_ORIGIN and tb.point_of_entry_provider_id == truth
        else:
            assert tb.outcome == Traceback.Outcome.ORIGIN_AND_CUSTOMER and tb.originating_provider_id == truth
            assert tb.originating_customer["name"] == call.customer["name"]
        assert tb.hop_count == call.us_hops


def test_it_stops_at_the_non_responsive_provider_and_names_it(world, client) -> None:
    net, _ = build(world)
    call = net.place_call(at=timezone.now() - timedelta(minutes=5), hops=6)
    silent = net.providers[call.path[2]]
    silent.behaviour = "silent"
    tb = open_for(world, call)
    agents = Agents(net, ClientTransport(client), workers=0)
    run_until_quiet(agents)
    hop = tb.hops.get(provider_id=silent.provider_id)
    sweeper.sweep(now=hop.due_at + timedelta(hours=conf.NON_RESPONSIVE_GRACE_HOURS + 1))
    sweeper.sweep(now=hop.due_at + timedelta(hours=conf.NON_RESPONSIVE_GRACE_HOURS + 1))
    tb.refresh_from_db()
    assert tb.outcome == Traceback.Outcome.NON_RESPONSIVE and tb.non_responsive_provider_id == silent.provider_id


def test_it_writes_each_providers_records_in_its_own_number_format(world, tmp_path) -> None:
    from robotrace.agent.records import load_records

    net, _ = build(world)
    call = net.place_call(at=timezone.now())
    net.write_records(tmp_path)
    term = net.providers[call.terminating]
    records = load_records(str(tmp_path / f"{term.slug}.csv"))
    found = records.find(at=call.at, calling=call.calling, called=call.called)
    assert found is not None and found.upstream_id == net.providers[call.path[-2]].provider_id


def test_it_prunes_only_live_records_older_than_the_cutoff(world) -> None:
    net = Network(30, seed=5, behaviours={"instant": 1.0})
    now = timezone.now()
    history = net.place_call(at=now - timedelta(days=3))
    old_live = net.place_call(at=now - timedelta(hours=13))
    fresh = net.place_call(at=now)
    started = now - timedelta(days=1)
    for p in net.providers:
        p.records.prune(before=now - timedelta(hours=12), since=started)
    term = lambda c: net.providers[c.terminating].records  # noqa: E731
    assert term(history).find(at=history.at, calling=history.calling, called=history.called) is not None
    assert term(old_live).find(at=old_live.at, calling=old_live.calling, called=old_live.called) is None
    assert term(fresh).find(at=fresh.at, calling=fresh.calling, called=fresh.called) is not None
