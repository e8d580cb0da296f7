"""Every refusal audited, without letting refusals flood the trail.

A refused request is recorded once (audit.middleware finds them all; a view that audits its
own refusal marks the request and is not recorded twice). Refusals are counted per actor (the
person, else the API key, else the address, IPv6 by /64) and action, in one-minute windows:
the first AUDIT_DENIALS_PER_MINUTE of a window are written as events of their own; the rest
are only counted, in the cache, and once the window is over one summary event per actor and
action (`access.denials_summarised`, written by audit.tasks.summarise_denials) carries the
window's total. Callers without identity also share one budget of individual events per
minute (AUDIT_ANONYMOUS_DENIALS_PER_MINUTE), so many addresses cannot flood the trail either.

Every event appended takes the chain's lock, so a flood of individual events would also slow
every real change: that is why the bound is per window, not per day. The counters live in the
cache (Redis in production, shared by every process). When the cache fails, each refusal is
written as its own event: the trail may grow then, but it loses nothing.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from robotrace.audit import services as audit
from robotrace.audit.models import AuditEvent

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Counters outlive their window long enough for a stopped worker to summarise them later.
TTL_SECONDS = 2 * 3600
LOOKBACK_WINDOWS = TTL_SECONDS // WINDOW_SECONDS - 5
SUMMARY_ACTION = "access.denials_summarised"
PREFIX = "audit:denials"


@dataclass(frozen=True)
class Actor:
    key: str  # what refusals are counted under
    label: str
    user: Any = None
    organisation: Any = None

    @property
    def anonymous(self) -> bool:
        return self.user is None and self.organisation is None


def _address_key(request: HttpRequest) -> str:
    raw = audit.client_ip(request) or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return f"ip:{raw[:64]}"
    if address.version == 6:
        # One host usually holds a whole /64: counting by address would let it rotate freely.
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


def actor_of(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return Actor(key=f"user:{user.pk}", label=user.email, user=user)
    # accounts.apiauth names the caller before checking its scope and kind.
    principal = getattr(request, "principal", None)
    api_key = getattr(principal, "api_key", None)
    if api_key is not None:
        return Actor(key=f"key:{api_key.pk}", label=principal.label, organisation=principal.organisation)  # type: ignore[union-attr]  # a principal is set whenever its api_key is
    return Actor(key=_address_key(request), label="anonymous")


_clock = time.time  # tests pin it, so a burst falls in one window


def window_of(now: float | None = None) -> int:
    return int((_clock() if now is None else now) // WINDOW_SECONDS)


def _incr(key: str) -> int:
    try:
        return int(cache.incr(key))
    except ValueError:  # not there yet (or evicted)
        if cache.add(key, 1, TTL_SECONDS):
            return 1
        return int(cache.incr(key))


def _should_write(actor: Actor, action: str, request: HttpRequest, window: int) -> bool:
    base = f"{PREFIX}:{window}"
    counter = f"{base}:{action}:{actor.key}"
    write = _incr(counter) <= settings.AUDIT_DENIALS_PER_MINUTE
    if write and actor.anonymous:
        write = _incr(f"{base}:anonymous") <= settings.AUDIT_ANONYMOUS_DENIALS_PER_MINUTE
    if write:
        _incr(f"{counter}:written")
    elif cache.add(f"{counter}:slotted", 1, TTL_SECONDS):
        # The first refusal of this actor and action not written: have the window summarised.
        slot = _incr(f"{base}:slots")
        cache.set(f"{base}:slot:{slot}", {
            "action": action, "actor": actor.key, "label": actor.label,
            "user_id": actor.user.pk if actor.user is not None else None,
            "organisation_id": actor.organisation.pk if actor.organisation is not None else None,
            "ip": audit.client_ip(request), "first_path": request.path[:200],
        }, TTL_SECONDS)  # fmt: skip
    return write


def record_denial(request: HttpRequest, *, action: str, status: int, reason: str = "") -> None:
    """Audit one refused request, within the per-actor bound. Never raises for the cache."""
    if getattr(request, "audit_denial_recorded", False):
        return
    request.audit_denial_recorded = True  # type: ignore[attr-defined]  # a marker on this request object
    actor = actor_of(request)
    try:
        write = _should_write(actor, action, request, window_of())
    except Exception:
        logger.warning("denial counters unavailable; auditing this refusal on its own", exc_info=True)
        write = True
    if not write:
        return
    audit.record(
        action=action,
        outcome=AuditEvent.Outcome.DENIED,
        actor=actor.user,
        actor_org=actor.organisation,
        actor_label=actor.label,
        object_type="path",
        object_id=request.path[:80],
        data={"reason": reason[:300], "method": request.method, "status": status},
        request=request,
    )


def _related(field: str, pk: int | None) -> Any:
    if pk is None:
        return None
    # The user and organisation models sit above the audit app: reached through its own keys.
    model = AuditEvent._meta.get_field(field).related_model
    return model._default_manager.filter(pk=pk).first()  # type: ignore[union-attr]  # a foreign key's model is never None


def summarise(*, now: float | None = None) -> int:
    """Write the summary events of every finished window not summarised yet; returns how many.
    A window is taken once (a claim in the cache), so two workers never both summarise it."""
    last_finished = window_of(now) - 2  # a full minute of grace for refusals still in flight
    windows = range(last_finished - LOOKBACK_WINDOWS, last_finished + 1)
    pending = cache.get_many([f"{PREFIX}:{w}:slots" for w in windows])
    written = 0
    for slots_key, slots in sorted(pending.items()):
        window = int(slots_key.split(":")[2])
        base = f"{PREFIX}:{window}"
        if not cache.add(f"{base}:summarised", 1, TTL_SECONDS):
            continue
        try:
            with transaction.atomic():
                written += _summarise_window(window, int(slots))
        except Exception:
            cache.delete(f"{base}:summarised")  # the next run tries again
            raise
    return written


def _summarise_window(window: int, slots: int) -> int:
    base = f"{PREFIX}:{window}"
    infos = cache.get_many([f"{base}:slot:{i}" for i in range(1, slots + 1)])
    if len(infos) < slots:
        logger.warning("denial summary of window %s: %d of %d actors' counters were evicted", window, slots - len(infos), slots)
    start = datetime.fromtimestamp(window * WINDOW_SECONDS, UTC)
    end = datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, UTC)
    for info in infos.values():
        counter = f"{base}:{info['action']}:{info['actor']}"
        counts = cache.get_many([counter, f"{counter}:written"])
        total, individually = int(counts.get(counter, 0)), int(counts.get(f"{counter}:written", 0))
        audit.record(
            action=SUMMARY_ACTION,
            outcome=AuditEvent.Outcome.DENIED,
            actor=_related("actor_user", info["user_id"]),
            actor_org=_related("actor_org", info["organisation_id"]),
            actor_label=info["label"],
            object_type="path",
            object_id=info["first_path"][:80],
            data={
                "action": info["action"], "actor": info["actor"], "ip": info["ip"],
                "window_start": start.isoformat(), "window_end": end.isoformat(),
                "count": total, "recorded_individually": individually, "summarised": max(0, total - individually),
            },
        )  # fmt: skip
    return len(infos)
