"""Alert matching and delivery speed: campaign events against many agency subscriptions.

Inside one transaction that is rolled back at the end (nothing is left in the database), it
creates one state agency per US state (each subscribed to its state, plus a signed webhook
endpoint on a local HTTP server), C campaigns with R reports each spread over the states,
and one campaign event per campaign. It measures:

- matching: `process_event` per event (the grouped jurisdiction query, every subscription
  evaluated, evidence snapshots, alerts, deliveries, audit events): events/s, alerts/s and
  the mean milliseconds per event;
- the floor for matching: the single grouped query per campaign alone (the least work that
  can decide which jurisdictions a campaign reached), and the ratio;
- delivery: signed webhook deliveries to a local server (claim, sign, POST, log, audit) per
  second, against the floor of bare HTTP POSTs of the same bodies with one client.
"""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from robotrace.bench.harness import rolled_back


def add_arguments(parser: Any) -> None:
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--reports", type=int, default=2000, help="reports per campaign")
    parser.add_argument("--deliveries", type=int, default=300, help="webhook deliveries to time (0 = skip)")
    parser.add_argument("--seed", type=int, default=5)


def _server() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def run(options: dict[str, Any], progress: Any) -> dict[str, Any]:
    from django.utils import timezone

    from robotrace.accounts import services as accounts
    from robotrace.accounts.models import US_STATES
    from robotrace.alerts import conf, queries, services
    from robotrace.campaigns.models import Campaign, CampaignEvent
    from robotrace.ingest.models import CallReport
    from robotrace.outbox import services as outbox
    from robotrace.outbox.models import Delivery

    rng = random.Random(options["seed"])
    n_campaigns, n_reports = options["campaigns"], options["reports"]
    states = US_STATES[:50]
    result: dict[str, Any] = {}
    server, url = _server()
    insecure = conf.WEBHOOK_ALLOW_INSECURE
    conf.WEBHOOK_ALLOW_INSECURE = True  # the local benchmark server is on 127.0.0.1
    try:
        with rolled_back():
            progress(f"setting up {len(states)} agencies, {n_campaigns} campaigns x {n_reports} reports...")
            stamp = int(time.time())
            reporter = accounts.create_organisation(actor=None, name="Bench reporter", kind="reporter", slug=f"bench-rep-{stamp}", reporter_type="honeypot")
            for st in states:
                org = accounts.create_organisation(actor=None, name=f"Bench AG {st}", kind="agency", slug=f"bench-ag-{st.lower()}-{stamp}", agency_level="state", jurisdiction=[st])
                services.create_subscription(actor=None, organisation=org, data={"name": st, "states": [st], "min_reports": 5, "send_email": False})
                services.create_endpoint(actor=None, organisation=org, url=url)
            now = timezone.now()
            events = []
            dedup = {f.name for f in CampaignEvent._meta.get_fields()}
            for c in range(n_campaigns):
                campaign = Campaign.objects.create(name=f"bench {c}", category="ssa_impersonation", first_seen_at=now, last_seen_at=now)
                # Each campaign reaches a random third of the states, weighted.
                reach = rng.sample(states, k=len(states) // 3)
                CallReport.objects.bulk_create([
                    CallReport(reporter=reporter, source_report_id=f"b{stamp}-{c}-{i}", report_type="honeypot", received_at=now,
                               call_started_at=now, calling_number_e164=f"+1202555{rng.randrange(10000):04d}",
                               called_number=f"+1{rng.randrange(200, 999)}555{rng.randrange(10000):04d}", called_state=rng.choice(reach),
                               callback_numbers=[f"+1888555{rng.randrange(100):04d}"], campaign=campaign)
                    for i in range(n_reports)
                ], batch_size=2000)
                kw = {"dedup_key": f"bench:{c}"} if "dedup_key" in dedup else {}
                events.append((campaign.pk, CampaignEvent.objects.create(campaign=campaign, kind="volume", at=now, **kw).pk))

            # Load the URL configuration (alert links) outside the timings: a one-off cost.
            from django.urls import reverse

            reverse("alerts:list")
            progress("floor: the grouped jurisdiction query per campaign...")
            t0 = time.perf_counter()
            for campaign_id, _ in events:
                queries.jurisdiction_cells(campaign_id)
            floor_s = time.perf_counter() - t0

            progress("matching: process_event per campaign event...")
            t0 = time.perf_counter()
            alerts = sum(len(services.process_event(event_id=event_id)) for _, event_id in events)
            match_s = time.perf_counter() - t0
            result.update({
                "benchmark": "alerts",
                "agencies": len(states),
                "campaigns": n_campaigns,
                "reports_per_campaign": n_reports,
                "alerts_created": alerts,
                "events_per_s": round(n_campaigns / match_s, 2),
                "alerts_per_s": round(alerts / match_s, 1),
                "ms_per_event": round(1000 * match_s / n_campaigns, 1),
                "floor_ms_per_event": round(1000 * floor_s / n_campaigns, 2),
                "ratio": round(match_s / floor_s, 1) if floor_s else None,
            })

            n_deliveries = options["deliveries"]
            if n_deliveries:
                ids = list(Delivery.objects.unscoped(reason="benchmark").filter(channel="webhook", object_type="alerts.alert")
                           .order_by("id").values_list("id", flat=True)[:n_deliveries])
                progress(f"delivery: {len(ids)} signed webhooks...")
                t0 = time.perf_counter()
                ok = sum(1 for pk in ids if (d := outbox.attempt(delivery_id=pk)) is not None and d.status == "delivered")
                deliver_s = time.perf_counter() - t0
                from robotrace.core import webhooks

                # The floor: unsigned POSTs of a similar body over the same sender.
                body = b'{"type":"alert.created","data":{}}' * 40
                t0 = time.perf_counter()
                for _ in ids:
                    webhooks.sender().post(url, body, {"content-type": "application/json"}, timeout=10, allow_insecure=True)
                bare_s = time.perf_counter() - t0
                result.update({
                    "deliveries": len(ids),
                    "delivered": ok,
                    "deliveries_per_s": round(len(ids) / deliver_s, 1),
                    "floor_posts_per_s": round(len(ids) / bare_s, 1),
                    "delivery_ratio": round(deliver_s / bare_s, 1) if bare_s else None,
                })
    finally:
        conf.WEBHOOK_ALLOW_INSECURE = insecure
        server.shutdown()
        server.server_close()
    return result
