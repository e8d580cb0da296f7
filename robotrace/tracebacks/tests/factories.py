"""A small network on top of the `world` personas: provider A terminates, B transits,
an originating provider without an account, and a foreign one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from robotrace.providers.models import Provider
from robotrace.providers.services import create_provider
from robotrace.tracebacks import services
from robotrace.tracebacks.models import NumberBlock, Traceback

ALWAYS_OPEN = {"timezone": "UTC", "business_hours_start": 0, "business_hours_end": 24, "business_days": [1, 2, 3, 4, 5, 6, 7]}


@dataclass
class Net:
    term: Provider
    transit: Provider
    origin: Provider
    foreign: Provider


def provider_of(org, **fields) -> Provider:
    """The registry record of a provider organisation (the providers app may create it when
    the organisation is created; otherwise create it here)."""
    provider = Provider.objects.filter(organisation=org).first()
    if provider is None:
        return create_provider(actor=None, organisation=org, **fields)
    for key, value in fields.items():
        setattr(provider, key, value)
    provider.save()
    return provider


def make_net(world, **hours) -> Net:
    fields = {**ALWAYS_OPEN, **hours}
    term = provider_of(world.provider_a, name="Alpha Terminating", roles=["terminating"], contact_email="noc@alpha.test", **fields)
    transit = provider_of(world.provider_b, name="Bravo Transit", roles=["transit"], **fields)
    origin = create_provider(actor=None, name="Origin Telecom", roles=["originating"], ocns=["OT99"], **fields)
    foreign = create_provider(actor=None, name="Faraway Carrier", roles=["foreign"], country="GB", **fields)
    NumberBlock.objects.create(prefix="919555", provider=term)
    return Net(term, transit, origin, foreign)


def sample(at: datetime | None = None) -> services.SampleCall:
    return services.SampleCall(call_started_at=at or timezone.now(), calling_number="+12025550111", called_number="+19195550223")


def open_tb(world, **kw) -> Traceback:
    return services.open_traceback(actor=world.alice, organisation=world.consortium, sample=kw.pop("sample", sample()), **kw)
