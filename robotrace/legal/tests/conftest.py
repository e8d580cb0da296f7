"""Helpers for the legal tests: real PDFs, requests filed through the service, a traceback
world with providers, hops, a campaign and call reports, and a real step-up login."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from robotrace.conftest import PASSWORD
from robotrace.legal import services
from robotrace.legal.demo import subpoena_pdf
from robotrace.legal.uploads import check_pdf


def make_pdf(text: str = "Subpoena") -> bytes:
    return subpoena_pdf(case_number=text, agency="Agency", numbers=["+19195550142"])


def new_request(**overrides: Any) -> services.NewRequest:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "type": "subpoena",
        "issuing_authority": "Office of the Attorney General",
        "legal_basis": "N.C. Gen. Stat. 75-10",
        "case_number": "CP-2026-001",
        "date_signed": today - timedelta(days=1),
        "due_date": today + timedelta(days=10),
        "targets": [{"kind": "phone", "value": "(919) 555-0142"}],
    }
    data.update(overrides)
    return services.NewRequest(**data)


def file(world: Any, user: Any = None, *, with_pdf: bool = True, **overrides: Any) -> Any:
    user = user or world.dana
    doc = check_pdf(io.BytesIO(make_pdf()), "subpoena.pdf") if with_pdf else None
    return services.file_request(actor=user, organisation=user.organisation, data=new_request(**overrides), document=doc)


def fresh_login(client: Client, password: str = PASSWORD) -> None:
    """Re-authenticate as a person would on the step-up page."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code in (200, 302), response.status_code


@dataclass
class Chain:
    campaign: Any
    tracebacks: list[Any]
    providers: list[Any]
    reports: list[Any]


def make_chain(world: Any, *, calls: int = 3, number: str = "+19195550142") -> Chain:
    """A campaign with call reports and completed tracebacks through three providers."""
    from robotrace.campaigns.models import Campaign
    from robotrace.ingest.models import CallReport
    from robotrace.providers.models import Provider
    from robotrace.tracebacks.models import Hop, Traceback

    base = timezone.now().replace(microsecond=0) - timedelta(days=5)
    campaign = Campaign.objects.create(
        name="Auto warranty final notice", category="auto_warranty", status="confirmed",
        representative_transcript="This is your final notice about your car's extended warranty. Press 1.",
        first_seen_at=base, last_seen_at=base + timedelta(days=2), report_count=calls, caller_id_count=1, state_count=1,
    )
    # Provider organisations get their registry record when they are created.
    term = Provider.objects.get(organisation=world.provider_a)
    transit = Provider.objects.get(organisation=world.provider_b)
    origin = Provider.objects.create(name="Origin VoIP", frn="0000000013", ocns=["OV03"], contact_email="abuse@ov.example")
    tracebacks, reports = [], []
    for i in range(calls):
        at = base + timedelta(hours=6 * i)
        reports.append(
            CallReport.objects.create(
                reporter=world.reporter_a, source_report_id=f"r-{i}", report_type="carrier_analytics",
                received_at=at + timedelta(minutes=5), call_started_at=at, calling_number=number, calling_number_e164=number,
                called_number=f"+1919555{1000 + i}", called_state="NC", duration_seconds=12, campaign=campaign,
                transcript="final notice about your car's extended warranty",
            )
        )
        tb = Traceback.objects.create(
            campaign=campaign, call_started_at=at, calling_number=number, called_number=f"+1919555{1000 + i}",
            created_at=at + timedelta(hours=1), status="completed", outcome="origin_and_customer",
            originating_provider=origin, originating_customer={"name": "Dialer LLC", "account": f"A-{i}"},
            completed_at=at + timedelta(hours=20),
        )
        for seq, (prov, named_by, resp, upstream) in enumerate(
            [(term, None, "upstream", transit), (transit, term, "upstream", origin), (origin, transit, "originated", None)], start=1
        ):
            received = at + timedelta(hours=1 + 3 * seq)
            Hop.objects.create(
                traceback=tb, sequence=seq, provider=prov, named_by=named_by, status="answered",
                received_at=received, clock_starts_at=received, due_at=received + timedelta(hours=24),
                answered_at=received + timedelta(hours=2), response=resp, upstream_provider=upstream,
                customer={"name": "Dialer LLC", "account": f"A-{i}"} if resp == "originated" else {},
                attestation_seen="A",
            )
        tracebacks.append(tb)
    return Chain(campaign=campaign, tracebacks=tracebacks, providers=[term, transit, origin], reports=reports)


@pytest.fixture
def chain(world: Any) -> Chain:
    return make_chain(world)


def stale_login(client: Client) -> Client:
    """Age the session's sign-in past the step-up window, as if the person signed in an
    hour ago (a fresh sign-in counts as a step-up for a few minutes)."""
    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    session = client.session
    methods = session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    for m in methods:
        m["at"] = m.get("at", 0) - 3600
    session[AUTHENTICATION_METHODS_SESSION_KEY] = methods
    session.save()
    return client
