"""Telling providers about their hops, through the outbox: the hop request (signed webhook and
e-mail: the message that starts a provider's 24-hour clock), reminders and overdue notices,
and the escalation of an overdue hop to consortium staff.

Each is written in the transaction of the change that causes it (opening a hop, the
sweeper's claim), so a committed hop request always has its messages; the outbox sends them
right after the commit and retries them until delivered or given up, visibly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from robotrace.accounts.queries import member_emails
from robotrace.outbox import services as outbox
from robotrace.outbox.transports import Endpoint
from robotrace.providers import conf as registry_conf
from robotrace.providers import queries as registry
from robotrace.tracebacks.models import Hop
from robotrace.tracebacks.queries import hop_view

if TYPE_CHECKING:
    from robotrace.providers.models import Provider

# The outbox asks this resolver (registered in TracebacksConfig.ready) for a provider's
# current hop-webhook address and secret before each retry.
ENDPOINT_KIND = "providers.hop_webhook"

SUBJECTS = {
    "requested": "New traceback request",
    "reminder": "Reminder: traceback request due soon",
    "overdue": "Overdue: traceback request",
}


def _endpoint(url: str, secret: str) -> Endpoint:
    return Endpoint(url, secret, allow_insecure=registry_conf.WEBHOOK_ALLOW_INSECURE, user_agent="Robotrace-Hops/1")


def provider_endpoint(provider_id: int) -> Endpoint | None:
    """The resolver: None once the provider removed its webhook (the delivery is given up)."""
    provider = registry.provider(provider_id, only=("webhook_url", "webhook_secret"))
    if provider is None or not (provider.webhook_url and provider.webhook_secret):
        return None
    return _endpoint(provider.webhook_url, provider.webhook_secret)


def hop_payload(hop: Hop, *, event: str = "hop.requested") -> dict[str, Any]:
    """What a provider is told about its own hop: the call and who named it, nothing else."""
    return {
        "type": event,
        "timestamp": timezone.now().isoformat(),
        "data": {
            "hop_id": hop.id,
            **hop_view(hop),
            "respond_url": f"{settings.SITE_URL}/api/v1/hops/{hop.id}/response",
            "portal_url": f"{settings.SITE_URL}{reverse('tracebacks:respond', args=[hop.id])}",
        },
    }


def hop_email(hop: Hop, kind: str) -> tuple[str, str]:
    """Subject and body: a link only, no call data leaves the platform by mail."""
    link = f"{settings.SITE_URL}{reverse('tracebacks:respond', args=[hop.id])}"
    subject = f"{SUBJECTS.get(kind, 'Traceback request')} {hop.traceback.ref}"
    body = (
        f"{hop.provider.name},\n\nA traceback request needs your answer by {hop.due_at:%Y-%m-%d %H:%M} UTC "
        f"(FCC 47 CFR 64.1200(n)(1): within 24 hours).\n\nSign in to answer: {link}\n\n"
        "For your security this message carries no call data.\n"
    )
    return subject, body


def queue(hop: Hop, *, kind: str) -> None:
    """Write the hop's webhook and e-mail deliveries in the caller's transaction. Both are
    written already claimed (`claim_now`): on the hop hot path the sender needs no claim
    transaction of its own. `hop` carries its traceback, provider and named_by."""
    provider = hop.provider
    topic = f"hop.{kind}"
    if provider.webhook_url and provider.webhook_secret:
        outbox.webhook(topic=topic, organisation_id=provider.organisation_id, endpoint_kind=ENDPOINT_KIND, endpoint_id=provider.id,
                       endpoint=_endpoint(provider.webhook_url, provider.webhook_secret), payload=hop_payload(hop, event=topic),
                       about=hop, claim_now=True)  # fmt: skip
    to = provider_contacts(provider)
    if to:
        subject, body = hop_email(hop, kind)
        outbox.email(topic=topic, organisation_id=provider.organisation_id, to=to, subject=subject, body=body, about=hop, claim_now=True)


def escalate(hop: Hop, *, to: list[str]) -> None:
    """Tell consortium staff that a provider missed its deadline (in the sweeper's transaction)."""
    name, ref = hop.provider.name, hop.traceback.ref
    link = f"{settings.SITE_URL}{reverse('tracebacks:detail', args=[hop.traceback_id])}"
    outbox.email(topic="hop.escalation", organisation_id=None, to=to, subject=f"Escalation: {name} is overdue on {ref}",
                 body=f"{name} has not answered hop request {ref} in time.\n\n{link}\n", about=hop)  # fmt: skip


_CONTACTS: dict[int, tuple[float, list[str]]] = {}


def provider_contacts(provider: Provider, *, max_age: float = 30.0) -> list[str]:
    """The provider's contact addresses and its users' e-mails. The user list is cached per
    process for `max_age` seconds: every hop request asks, and users change rarely."""
    emails = [e for e in (provider.contact_email, provider.fallback_contact_email) if e]
    if provider.organisation_id:
        hit = _CONTACTS.get(provider.organisation_id)
        if hit is None or time.monotonic() - hit[0] > max_age:
            hit = _CONTACTS[provider.organisation_id] = (time.monotonic(), member_emails(provider.organisation_id))
        emails += hit[1]
    return sorted(set(emails))


def forget_contacts() -> None:
    """A user or organisation changed: drop the cached contacts."""
    _CONTACTS.clear()
