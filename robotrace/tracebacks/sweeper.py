"""The 24-hour clock: reminders before a hop's deadline, the overdue state with its
escalation to consortium staff, and the non-responsive outcome after the grace period.

Each step claims its hop with a conditional UPDATE and acts only if it changed exactly one
row, so two sweepers running at once never remind or escalate twice; the messages it causes
are written to the outbox in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from robotrace.accounts.queries import member_emails
from robotrace.audit import services as audit
from robotrace.core.db import write_turn
from robotrace.tracebacks import conf, notifications
from robotrace.tracebacks.models import Hop, Traceback
from robotrace.tracebacks.services import _complete, _event, consortium_org


def _staff_emails() -> list[str]:
    consortium = consortium_org()
    return member_emails(consortium.id) if consortium is not None else []


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Drive every hop's clock as of `now`; returns how many hops each step moved."""
    now = now or timezone.now()
    counts = {"reminded": 0, "overdue": 0, "non_responsive": 0}
    hops = Hop.objects.unscoped(reason="24-hour clock sweeper")
    remind_from = now + timedelta(hours=conf.REMINDER_HOURS_BEFORE)
    for hop_id in list(hops.filter(status=Hop.Status.REQUESTED, reminded_at__isnull=True, due_at__lte=remind_from, due_at__gt=now).values_list("id", flat=True)[:1000]):
        with write_turn(), transaction.atomic():
            if hops.filter(id=hop_id, status=Hop.Status.REQUESTED, reminded_at=None).update(reminded_at=now) != 1:
                continue
            hop = hops.select_related("traceback", "provider", "named_by").get(id=hop_id)
            _event(hop.traceback, "hop.reminder", f"reminder sent to {hop.provider.name}", hop=hop, at=now)
            audit.record(action="hop.reminded", obj=hop, subject_org=hop.provider.organisation)
            notifications.queue(hop, kind="reminder")
            counts["reminded"] += 1
    for hop_id in list(hops.filter(status=Hop.Status.REQUESTED, due_at__lte=now).values_list("id", flat=True)[:1000]):
        with write_turn(), transaction.atomic():
            if hops.filter(id=hop_id, status=Hop.Status.REQUESTED).update(status=Hop.Status.OVERDUE, escalated_at=now) != 1:
                continue
            hop = hops.select_related("traceback", "provider", "named_by").get(id=hop_id)
            _event(hop.traceback, "hop.overdue", f"{hop.provider.name} missed the 24-hour deadline; escalated to consortium staff", hop=hop, at=now)
            audit.record(action="hop.overdue", obj=hop, subject_org=hop.provider.organisation)
            notifications.queue(hop, kind="overdue")
            notifications.escalate(hop, to=_staff_emails())
            counts["overdue"] += 1
    limit = now - timedelta(hours=conf.NON_RESPONSIVE_GRACE_HOURS)
    for hop_id in list(hops.filter(status=Hop.Status.OVERDUE, due_at__lte=limit).values_list("id", flat=True)[:1000]):
        with write_turn(), transaction.atomic():
            if hops.filter(id=hop_id, status=Hop.Status.OVERDUE).update(status=Hop.Status.NON_RESPONSIVE) != 1:
                continue
            hop = hops.select_related("traceback", "provider").get(id=hop_id)
            tb = Traceback.objects.unscoped(reason="sweeper").select_for_update().get(id=hop.traceback_id)
            _event(tb, "hop.non_responsive", f"{hop.provider.name} is non-responsive", hop=hop, at=now)
            audit.record(action="hop.non_responsive", obj=hop, subject_org=hop.provider.organisation, data={"traceback": tb.id})
            if tb.status == Traceback.Status.IN_PROGRESS and not (hop.is_direct_signer_request and hop.named_by_id is None):
                tb.outcome = Traceback.Outcome.NON_RESPONSIVE
                tb.non_responsive_provider = hop.provider
                _complete(tb, now=now)
            counts["non_responsive"] += 1
    return counts
