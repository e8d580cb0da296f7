"""A few days of past tracebacks for the live demo, played in-process with back-dated clocks
through the real services, so the board shows completed, foreign, overdue and
non-responsive tracebacks from the first minute."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from robotrace.simulator.live import LiveSimulation

logger = logging.getLogger("robotrace.simulator")


def backfill(sim: LiveSimulation, *, count: int = 40) -> int:
    from robotrace.simulator.live import provider_org
    from robotrace.simulator.models import SimulatedCall
    from robotrace.tracebacks import services
    from robotrace.tracebacks.queries import Source, newest_requested_hop

    org = services.consortium_org()
    net, rng = sim.net, sim.rng
    by_id = {p.provider_id: p for p in net.providers}
    done = 0
    for _ in range(count):
        at = timezone.now() - timedelta(hours=rng.uniform(6, 96))
        call, _camp = sim.robocall(at)
        SimulatedCall.objects.bulk_create([sim.truth(call, source_report_id="")], ignore_conflicts=True)
        sample = services.SampleCall(call_started_at=call.at, calling_number=call.calling, called_number=call.called, transcript=call.transcript)
        opened_at = at + timedelta(minutes=rng.uniform(20, 240))
        try:
            tb = services.open_traceback(actor=None, organisation=org, sample=sample, now=opened_at, actor_label="simulator (history)",
                                         source=Source.MANUAL)
        except services.TracebackError as exc:
            logger.info("history: %s", exc.message)
            continue
        # Walk the chain with each provider's behaviour and a back-dated clock.
        for _ in range(12):
            hop = newest_requested_hop(tb)
            if hop is None:
                break
            p = by_id.get(hop.provider_id)
            if p is None or p.behaviour in ("silent", "human") or not p.organisation_id:
                break
            delay = timedelta(minutes=rng.uniform(1, 40)) if p.behaviour != "slow" else timedelta(hours=rng.uniform(2, 30))
            when = hop.received_at + delay
            if when > timezone.now():
                break
            payload: dict[str, Any] = {"id": hop.id, "kind": tb.kind, "call": {"started_at": tb.call_started_at.isoformat(),
                                       "calling_number": tb.calling_number, "called_number": tb.called_number}}
            body = sim.agents.body_for(p, payload)
            try:
                services.answer_hop(actor=None, organisation=provider_org(p), hop_id=hop.id, now=when, actor_label=f"{p.name} agent", **body)
            except services.TracebackError as exc:
                logger.info("history answer refused: %s", exc.message)
                break
        done += 1
    logger.info("history: %d past tracebacks", done)
    return done
