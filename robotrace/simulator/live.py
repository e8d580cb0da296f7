"""The live simulation `robotrace run` starts: a network whose robocall campaigns are
reported through the real ingest API, traced by the platform, and answered by the simulated
providers' agents over the real hop API, forever, time compressed.

Nothing here may crash the demo: every step logs its error and the loop goes on.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from robotrace.simulator.agents import Agents, HttpTransport
from robotrace.simulator.network import Network, SimCall, SimProvider, World, materialise

logger = logging.getLogger("robotrace.simulator")

FALLBACK_LINES = [
    ("auto_warranty", "We've been trying to reach you concerning your car's extended warranty. Press 1 to speak to a specialist."),
    ("ssa_impersonation", "This is the Social Security Administration. Your social security number has been suspended due to suspicious activity. Press 1 now."),
    ("utility_disconnect", "Your electricity will be disconnected in 30 minutes for non-payment. Call our billing department immediately at 844-555-0199."),
    ("amazon_impersonation", "This is Amazon. An order for an iPhone 15 worth 999 dollars was placed on your account. Press 1 to cancel."),
]


@dataclass
class Campaign:
    key: str
    lines: list[tuple[str, list[str]]]  # (transcript, callback numbers)
    caller_ids: list[str]
    foreign: bool
    origin: int | None  # bad originator index for domestic campaigns


def campaigns_for(net: Network, rng: random.Random, count: int = 8) -> list[Campaign]:
    """Robocall campaigns with content from the campaigns engineer's generator when present."""
    out: list[Campaign] = []
    bad = [p.index for p in net.role("originating") if p.bad]
    try:
        from robotrace.simulator.robocalls import build_campaigns

        sims = build_campaigns(rng, days=30)
        for i, c in enumerate(sims[:count]):
            lines = [(text, list(cb)) for text, _sha, cb in c.recordings]
            out.append(Campaign(c.key, lines, list(c.caller_ids), foreign=i % 3 == 2, origin=bad[i % len(bad)] if bad else None))
    except Exception:  # the generator is not there yet, or changed shape: use a few lines
        out = []
    if not out:
        for i, (key, line) in enumerate(FALLBACK_LINES):
            ids = [f"+1{rng.randint(2002000000, 9899999999)}" for _ in range(6)]
            out.append(Campaign(key, [(line, [])], ids, foreign=i % 3 == 2, origin=bad[i % len(bad)] if bad else None))
    return out


class LiveSimulation:
    def __init__(
        self,
        url: str,
        *,
        providers: int = 240,
        seed: int = 7,
        seconds_per_hour: float = 10.0,
        tick: float = 2.0,
        robocalls_per_tick: int = 5,
        legit_per_tick: int = 3,
        target_open: int = 8,
        history: int = 40,
    ):
        self.url = url.rstrip("/")
        self.rng = random.Random(seed)
        self.seed = seed
        self.providers = providers
        self.seconds_per_hour = seconds_per_hour
        self.tick_seconds = tick
        self.robocalls_per_tick = robocalls_per_tick
        self.legit_per_tick = legit_per_tick
        self.target_open = target_open
        self.history = history
        self.reporter_keys: dict[str, str] = {}
        self.pending_reports: list[tuple[SimCall, str, dict[str, Any]]] = []
        self.reported: list[str] = []
        self._last: dict[str, float] = {}
        self.reported_signed: list[str] = []
        self.stats = {"calls": 0, "reported": 0, "report_errors": 0, "opened": 0, "signed": 0}

    # --- setup ----------------------------------------------------------------------------

    def setup(self) -> None:
        from robotrace.simulator.demo import world as demo

        # Originating providers and gateways sign calls (STIR/SHAKEN) as they route them, so
        # reports carry Identity headers that the shaken app verifies at intake.
        self.net = Network(self.providers, seed=self.seed, signing=True)
        self.agents = Agents(self.net, HttpTransport(self.url), seconds_per_hour=self.seconds_per_hour, seed=self.seed)
        self.hub_port = self.agents.serve(0).server_address[1]
        self.world: World = materialise(self.net, hub_url=f"http://127.0.0.1:{self.hub_port}")
        keys = demo.load_credentials().get("keys", {})
        self.reporter_keys = {slug: keys[slug] for slug in ("keystone-analytics", "callshield") if slug in keys}
        self.campaigns = campaigns_for(self.net, self.rng)
        self.records_dir = Path(settings.VAR_DIR) / "simulator" / "records"
        self.started_at = timezone.now() - timedelta(minutes=1)
        logger.info("simulated network: %d providers, webhook hub on port %d, %d campaigns", len(self.net.providers), self.hub_port, len(self.campaigns))

    # --- traffic --------------------------------------------------------------------------

    def robocall(self, at: Any) -> tuple[SimCall, Campaign]:
        camp = self.rng.choice(self.campaigns)
        text, callbacks = self.rng.choice(camp.lines)
        calling = self.rng.choice(camp.caller_ids)
        if camp.foreign:
            call = self.net.place_call(at=at, robocall=True, foreign=True, calling=calling, campaign=camp.key, transcript=text,
                                       callback=callbacks[0] if callbacks else "")
        else:
            call = self.net.place_call(at=at, robocall=True, calling=calling, campaign=camp.key, transcript=text,
                                       callback=callbacks[0] if callbacks else "")
        return call, camp

    def report_row(self, call: SimCall, reporter: str) -> dict[str, Any]:
        carrier = reporter == "keystone-analytics"
        row: dict[str, Any] = {
            "source_report_id": call.id,
            "report_type": "carrier_analytics" if carrier else "app_report",
            "call_started_at": call.at.isoformat(),
            "calling_number": call.calling,
            "called_number": call.called,
            "duration_seconds": self.rng.randint(8, 60),
            "transcript": call.transcript,
            "is_robocall": True,
        }
        if call.callback:
            row["callback_numbers"] = [call.callback]
        if call.identity:
            row["identity_header"] = call.identity
        if carrier and len(call.path) > 1:
            row["upstream_provider"] = self.net.providers[call.path[-2]].name
        return row

    def tick(self) -> None:
        now = timezone.now()
        for i in range(self.legit_per_tick):
            self.net.place_call(at=now + timedelta(milliseconds=i), robocall=False)
        for i in range(self.robocalls_per_tick):
            call, _ = self.robocall(now + timedelta(milliseconds=100 + i))
            self.stats["calls"] += 1
            if self.reporter_keys and self.rng.random() < 0.7:
                reporter = self.rng.choice(sorted(self.reporter_keys))
                self.pending_reports.append((call, reporter, self.report_row(call, reporter)))
        self.flush_reports()
        if self._every("motion", 15):
            self.keep_in_motion()
        if self._every("records", 30):
            self.net.write_records(self.records_dir)
        if self._every("poll", 120):
            self.agents.poll()
        if self._every("stats", 60):
            self.log_stats()
        if self._every("prune", 600):
            self.prune()

    def prune(self) -> None:
        """Keep memory flat: live calls older than 12 hours leave the records (the back-dated
        history stays, its hops may still be answered late) and the in-memory call list."""
        cutoff = timezone.now() - timedelta(hours=12)
        removed = sum(p.records.prune(before=cutoff, since=self.started_at) for p in self.net.providers)
        self.net.calls = self.net.calls[-5000:]
        logger.info("simulator: pruned %d old call records", removed)

    def _every(self, name: str, seconds: float) -> bool:
        now = time.monotonic()
        if now - self._last.get(name, 0) >= seconds:
            self._last[name] = now
            return True
        return False

    def flush_reports(self) -> None:
        import requests

        from robotrace.simulator.models import SimulatedCall

        by_reporter: dict[str, list[tuple[SimCall, dict[str, Any]]]] = {}
        for call, reporter, row in self.pending_reports:
            by_reporter.setdefault(reporter, []).append((call, row))
        self.pending_reports = []
        for reporter, items in by_reporter.items():
            body = "\n".join(json.dumps(row) for _, row in items).encode()
            try:
                r = requests.post(f"{self.url}/api/v1/reports", data=body, timeout=30,
                                  headers={"Authorization": f"Bearer {self.reporter_keys[reporter]}", "Content-Type": "application/x-ndjson"})
                ok = r.status_code == 202
            except requests.RequestException as exc:
                ok = False
                logger.warning("report upload failed: %s", exc)
            if not ok:
                self.stats["report_errors"] += 1
                continue
            self.stats["reported"] += len(items)
            SimulatedCall.objects.bulk_create([self.truth(call) for call, _ in items], ignore_conflicts=True)
            self.reported += [call.id for call, _ in items]
            self.reported_signed += [call.id for call, _ in items if call.identity]
            self.stats["signed"] += sum(1 for call, _ in items if call.identity)
        self.reported = self.reported[-2000:]
        self.reported_signed = self.reported_signed[-500:]

    def truth(self, call: SimCall, source_report_id: str | None = None) -> Any:
        from robotrace.simulator.models import SimulatedCall

        ids = [self.net.providers[i].provider_id for i in call.path]
        return SimulatedCall(
            call_id=call.id, source_report_id=call.id if source_report_id is None else source_report_id, at=call.at,
            calling_number=call.calling, called_number=call.called, robocall=call.robocall, foreign=call.foreign, campaign_key=call.campaign,
            path=ids, true_origin_id=self.net.providers[call.true_origin].provider_id or 0, customer=call.customer,
        )

    def keep_in_motion(self) -> None:
        """The campaign engine opens tracebacks on its events; if there are too few in motion
        (a quiet engine, or it is not installed yet), open some from recent reports."""
        from robotrace.ingest.queries import all_reports
        from robotrace.tracebacks import queries as tracebacks
        from robotrace.tracebacks import services

        in_progress = tracebacks.in_progress_count()
        need = self.target_open - in_progress
        if need <= 0 or not self.reported:
            return
        org = services.consortium_org()
        # Half from signed calls (older than a few seconds, so their verification has run) so
        # the demo always shows direct requests to STIR/SHAKEN signers.
        signed = self.reported_signed[-200:-5]
        ids = self.rng.sample(signed, min(need // 2 + 1, len(signed))) if signed else []
        recent = self.reported[-300:]
        ids += self.rng.sample(recent, min(need - len(ids), len(recent))) if need > len(ids) else []
        reports = all_reports(reason="simulator motion").filter(source_report_id__in=ids).values_list("id", flat=True)
        for report_id in list(reports)[:need]:
            try:
                services.open_traceback(actor=None, organisation=org, report_id=report_id, source=tracebacks.Source.REPORT, actor_label="simulator")
                self.stats["opened"] += 1
            except services.TracebackError as exc:
                logger.info("simulator could not open a traceback: %s", exc.message)

    def log_stats(self) -> None:
        from robotrace.simulator.queries import accuracy

        logger.info("simulator: %s agents answered=%d backlog=%d accuracy=%s", self.stats, self.agents.answered, self.agents.backlog, accuracy())

    # --- history: a few days of tracebacks so the board is never empty -------------------

    def backfill(self) -> None:
        from robotrace.tracebacks import sweeper
        from robotrace.tracebacks.queries import any_tracebacks

        if any_tracebacks() or self.history <= 0:
            return
        from robotrace.simulator.history import backfill

        backfill(self, count=self.history)
        sweeper.sweep()
        sweeper.sweep()

    # --- the loop -------------------------------------------------------------------------

    def run_forever(self) -> None:
        while True:
            try:
                self.setup()
                break
            except Exception:
                logger.exception("simulator setup failed; retrying in 10 s")
                close_old_connections()
                time.sleep(10)
        try:
            self.backfill()
        except Exception:
            logger.exception("simulator history failed; going live without it")
        while True:
            started = time.monotonic()
            try:
                close_old_connections()
                self.tick()
            except Exception:
                logger.exception("simulator tick failed; continuing")
            time.sleep(max(0.1, self.tick_seconds - (time.monotonic() - started)))


def provider_org(p: SimProvider) -> Any:
    from robotrace.accounts.queries import organisation

    return organisation(p.organisation_id) if p.organisation_id else None
