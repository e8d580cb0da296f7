"""Writes for the outbox: everything the platform sends goes through here.

A caller writes its delivery (`webhook`, `email`) in the transaction of the change that
causes it, so a committed change always has its message and a rolled-back one never does.
Right after the commit the relay sends it; a failed attempt is retried with exponential
backoff by the periodic `sweep`, which also re-sends rows whose sender died mid-send (past
their lease), until the message is delivered or given up after `conf.MAX_ATTEMPTS`. Every
attempt is logged (`Attempt`); failed ones and retries asked for by people are audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from robotrace.audit import services as audit
from robotrace.core.db import write_turn
from robotrace.outbox import conf, relay
from robotrace.outbox.models import Attempt, Delivery
from robotrace.outbox.transports import Endpoint, Message, Outcome

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation, User

S = Delivery.Status
# Rows a claim may take: due for an attempt, or "sending" past their lease (due_at is the
# lease's end while sending).
CLAIMABLE = (S.PENDING, S.RETRYING, S.SENDING)

Resolver = Callable[[int], Endpoint | None]
_RESOLVERS: dict[str, Resolver] = {}


def register_endpoint(kind: str, resolve: Resolver) -> None:
    """Apps that own webhook addresses call this from `AppConfig.ready()`. Before each
    attempt after the first, `resolve(endpoint_id)` gives the endpoint's current address and
    secret, or None when it was removed or disabled (the delivery is then given up)."""
    _RESOLVERS[kind] = resolve


def backoff_seconds(attempt: int) -> int:
    """The wait after `attempt` failed attempts: base × 2^(attempt-1), capped."""
    return int(min(conf.RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0)), conf.RETRY_MAX_SECONDS))


def _about(obj: models.Model | None) -> dict[str, Any]:
    if obj is None:
        return {}
    return {"object_type": obj._meta.label_lower, "object_id": obj.pk}


def webhook(
    *,
    topic: str,
    organisation_id: int | None,
    endpoint_kind: str,
    endpoint_id: int,
    endpoint: Endpoint,
    payload: dict[str, Any],
    about: models.Model | None = None,
    claim_now: bool = False,
) -> Delivery:
    """A signed POST of `payload` to `endpoint` (the address and secret as they are now;
    retries ask the resolver registered for `endpoint_kind`). See `_enqueue` for `claim_now`."""
    d = Delivery(organisation_id=organisation_id, channel=Delivery.Channel.WEBHOOK, topic=topic, endpoint_kind=endpoint_kind,
                 endpoint_id=endpoint_id, url=endpoint.url, payload=payload, **_about(about))  # fmt: skip
    return _enqueue(d, endpoint=endpoint, claim_now=claim_now)


def email(
    *,
    topic: str,
    organisation_id: int | None,
    to: Sequence[str],
    subject: str,
    body: str,
    about: models.Model | None = None,
    claim_now: bool = False,
) -> Delivery | None:
    """An e-mail to `to` (None when there is nobody to send it to). Links only: the content
    stays behind the sign-in."""
    recipients = sorted({a.strip() for a in to if a and a.strip()})
    if not recipients:
        return None
    d = Delivery(organisation_id=organisation_id, channel=Delivery.Channel.EMAIL, topic=topic, recipients=recipients,
                 payload={"subject": subject[:300], "body": body}, **_about(about))  # fmt: skip
    return _enqueue(d, endpoint=None, claim_now=claim_now)


def _enqueue(d: Delivery, *, endpoint: Endpoint | None, claim_now: bool) -> Delivery:
    """Write the row in the caller's transaction and send it once that commits.

    By default the row is pending, and the relay claims it after the commit like any sender.
    `claim_now` writes it already claimed by this process (sending, first attempt counted),
    which saves the claim's own write transaction: for hot paths (hop requests). If the
    process dies before the outcome is written, the sweeper sends it after the lease."""
    now = timezone.now()
    d.msg_id = f"msg_{uuid.uuid4().hex}"
    d.created_at = now
    if claim_now:
        d.status, d.attempts, d.due_at = S.SENDING, 1, now + timedelta(seconds=conf.LEASE_SECONDS)
    else:
        d.status, d.attempts, d.due_at = S.PENDING, 0, now
    d.save(force_insert=True)
    if claim_now:
        message = _message(d, endpoint)
        transaction.on_commit(lambda: relay.dispatch([message], record), robust=True)
    else:
        pk = d.pk
        transaction.on_commit(lambda: relay.dispatch(_claim([pk]), record), robust=True)
    return d


def _message(d: Delivery, endpoint: Endpoint | None = None) -> Message:
    refusal = ""
    if d.channel == Delivery.Channel.WEBHOOK and endpoint is None:
        resolve = _RESOLVERS.get(d.endpoint_kind)
        endpoint = resolve(d.endpoint_id) if resolve is not None and d.endpoint_id is not None else None
        if endpoint is None:
            refusal = "endpoint removed or disabled"
        elif endpoint.url != d.url:
            Delivery.objects.unscoped(reason="outbox: the endpoint moved").filter(pk=d.pk).update(url=endpoint.url)
    return Message(d.pk, d.attempts, d.channel, d.msg_id, d.payload, endpoint, tuple(d.recipients or ()), refusal)


def claim(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Take a due delivery (or one past its lease) for one attempt with a conditional
    UPDATE: only one sender wins."""
    now = now or timezone.now()
    return Delivery.objects.unscoped(reason="outbox: claim a due delivery").filter(
        pk=delivery_id, status__in=CLAIMABLE, due_at__lte=now
    ).update(status=S.SENDING, attempts=F("attempts") + 1, due_at=now + timedelta(seconds=conf.LEASE_SECONDS)) == 1


def _claim(ids: Sequence[int], *, now: datetime | None = None) -> list[Message]:
    """Claim what can be claimed of `ids` and build what sending them needs."""
    if not ids:
        return []
    now = now or timezone.now()
    with write_turn(), transaction.atomic():
        won = [pk for pk in ids if claim(pk, now=now)]
        rows = Delivery.objects.unscoped(reason="outbox: claimed deliveries").filter(pk__in=won).order_by("id")
        return [_message(d) for d in rows]


def attempt(*, delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Claim, send and record one delivery now. None when it is not due (or taken)."""
    messages = _claim([delivery_id], now=now)
    if not messages:
        return None
    record(relay.send_all(messages))
    return Delivery.objects.unscoped(reason="outbox: after an attempt").get(pk=delivery_id)


def sweep(*, now: datetime | None = None, limit: int | None = None) -> int:
    """The periodic task: attempt every due delivery, and re-send those whose sender died
    mid-send. Returns the attempts made."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.unscoped(reason="outbox: sweeper").filter(status__in=CLAIMABLE, due_at__lte=now)
        .order_by("due_at", "id").values_list("id", flat=True)[: limit or conf.SWEEP_BATCH]
    )
    messages = _claim(ids, now=now)
    record(relay.send_all(messages))
    return len(messages)


def _audit_prefix(d: Delivery) -> str:
    # A delivery's events belong with the app of what it is about ("alerts.delivery_failed").
    return d.object_type.split(".")[0] if d.object_type else "outbox"


def record(outcomes: Sequence[Outcome]) -> int:
    """Write attempts' outcomes in one transaction: delivered rows by one UPDATE per status
    code, failures one by one (retrying with backoff, or given up), the attempt log in one
    INSERT, and an audit event per failed attempt. An outcome only settles the claim it
    came from (`attempts` still equal to its number), so a late answer never overwrites a
    newer attempt's state."""
    if not outcomes:
        return 0
    now = timezone.now()
    qs = Delivery.objects.unscoped(reason="outbox: delivery outcomes")
    delivered: dict[int | None, list[int]] = defaultdict(list)
    for o in outcomes:
        if o.ok:
            delivered[o.status_code].append(o.delivery_id)
    with write_turn(), transaction.atomic():
        for code, ids in delivered.items():
            qs.filter(id__in=ids, status=S.SENDING).update(status=S.DELIVERED, delivered_at=now, last_status_code=code, last_error="", due_at=None)
        failed: list[Outcome] = []
        for o in outcomes:
            if o.ok:
                continue
            fields: dict[str, Any] = {"last_status_code": o.status_code, "last_error": o.error}
            if o.permanent or o.number >= conf.MAX_ATTEMPTS:
                fields.update(status=S.GAVE_UP, due_at=None, gave_up_at=now)
            else:
                fields.update(status=S.RETRYING, due_at=now + timedelta(seconds=backoff_seconds(o.number)))
            if qs.filter(id=o.delivery_id, status=S.SENDING, attempts=o.number).update(**fields) == 1:
                failed.append(o)
        Attempt.objects.bulk_create([
            Attempt(delivery_id=o.delivery_id, number=o.number, at=o.at, ok=o.ok, status_code=o.status_code, error=o.error,
                    duration_ms=o.duration_ms)  # fmt: skip
            for o in outcomes
        ])
        if failed:
            rows = qs.select_related("organisation").in_bulk([o.delivery_id for o in failed])
            for o in failed:
                d = rows[o.delivery_id]
                audit.record(
                    action=f"{_audit_prefix(d)}.delivery_failed", outcome="failure", actor_label="outbox", obj=d, subject_org=d.organisation,
                    data={"topic": d.topic, "channel": d.channel, "about": f"{d.object_type}:{d.object_id}" if d.object_type else "",
                          "attempt": o.number, "status": d.status, "status_code": o.status_code, "error": o.error[:200],
                          "next_attempt_at": d.due_at.isoformat() if d.due_at else None},
                )
    return len(outcomes)


def retry_now(*, actor: User | None, organisation: Organisation, delivery_id: int) -> Delivery:
    """Bring a failed or given-up delivery forward (staff, or the recipient's admins): due
    now, one more attempt. Raises Delivery.DoesNotExist for rows `organisation` may not see."""
    with transaction.atomic():
        d = Delivery.objects.for_org(organisation).select_for_update().get(pk=delivery_id)
        if d.can_retry:
            before = d.status
            d.status, d.due_at, d.gave_up_at = S.RETRYING, timezone.now(), None
            d.save(update_fields=["status", "due_at", "gave_up_at"])
            audit.record(action=f"{_audit_prefix(d)}.delivery_retry_requested", actor=actor, actor_org=organisation, obj=d,
                         subject_org=d.organisation, data={"topic": d.topic, "channel": d.channel, "was": before, "attempts": d.attempts})  # fmt: skip
    return d


def forget_endpoint(*, endpoint_kind: str, endpoint_id: int, reason: str) -> int:
    """An endpoint was deleted: deliveries still waiting for it have nowhere to go (given up,
    saying why), and no delivery points at it any more. Returns how many were given up.
    The caller audits the deletion in the same transaction."""
    now = timezone.now()
    qs = Delivery.objects.unscoped(reason="outbox: endpoint removed").filter(endpoint_kind=endpoint_kind, endpoint_id=endpoint_id)
    n = qs.filter(status__in=[S.PENDING, S.RETRYING]).update(status=S.GAVE_UP, last_error=reason[:500], due_at=None, gave_up_at=now)
    qs.update(endpoint_id=None)
    return int(n)
