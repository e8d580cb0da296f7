from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from robotrace.audit import anchors, chain
from robotrace.audit.chain import GENESIS, ChainProblem
from robotrace.audit.models import AuditChainHead, AuditEvent
from robotrace.core.filters import filter_given

__all__ = ["ChainProblem", "action_names", "events", "iter_all", "verify_chain"]


@dataclass(frozen=True)
class ChainReport:
    problems: list[ChainProblem]
    events: int
    keyed_events: int
    anchors: int


def _event_problems(event: AuditEvent, *, keyed_seen: bool, unknown_keys: dict[str, list[int]]) -> list[ChainProblem]:
    if event.mac_version == chain.UNKEYED:
        if keyed_seen:
            return [ChainProblem(event.id, "unkeyed event after the chain became keyed: it was written or rewritten "
                                           "without the chain key")]  # fmt: skip
        if not chain.same(chain.unkeyed_hash(event), event.hash):
            return [ChainProblem(event.id, "contents do not match the hash: the event was edited")]
        return []
    if event.mac_version == chain.HMAC_SHA256:
        key = chain.key_by_id(event.key_id)
        if key is None:
            # Reported once per key at the end: a wrong AUDIT_CHAIN_KEY would otherwise name
            # every event.
            unknown_keys.setdefault(event.key_id, []).append(event.id)
            return []
        if not chain.same(chain.mac(event, key), event.hash):
            return [ChainProblem(event.id, "contents do not match the HMAC: the event was edited")]
        return []
    return [ChainProblem(event.id, f"unknown MAC version {event.mac_version}")]


def check_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in order and check it against every anchor outside the database; report
    every edited, reordered, deleted or unkeyed-rewritten event and every anchor that the
    chain no longer matches."""
    found, anchor_problems = anchors.read_anchors()
    problems: list[ChainProblem] = list(anchor_problems)
    trusted = []
    for anchor in found:
        bad = anchors.check_signature(anchor)
        if bad is None:
            trusted.append(anchor)
        else:
            problems.append(bad)
    anchored_ids = {a.event_id for a in trusted}
    seen: dict[int, tuple[int, str]] = {}
    unknown_keys: dict[str, list[int]] = {}
    prev = GENESIS
    count = keyed = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            count += 1
            if event.prev_hash != prev:
                problems.append(ChainProblem(event.id, "previous hash does not match: an event before it was deleted or edited"))
            problems.extend(_event_problems(event, keyed_seen=keyed > 0, unknown_keys=unknown_keys))
            if event.mac_version == chain.HMAC_SHA256:
                keyed += 1
            if event.id in anchored_ids:
                seen[event.id] = (count, event.hash)
            prev = event.hash
            last_id = event.id
    for kid, ids in unknown_keys.items():
        problems.append(ChainProblem(ids[0], f"{len(ids)} event(s) from #{ids[0]} on are signed with key {kid!r}, which "
                                             "is not configured (AUDIT_CHAIN_KEY): a wrong or missing key, or events "
                                             "forged without the key"))  # fmt: skip
    if count and not keyed:
        problems.append(ChainProblem(None, f"none of the {count} events is keyed: since the chain became keyed, that "
                                           "is what a rewrite without the chain key looks like"))  # fmt: skip
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None:
        if head.last_hash != prev:
            problems.append(ChainProblem(None, "the newest events were deleted: chain head does not match"))
        if head.count != count:
            problems.append(ChainProblem(None, f"the head counts {head.count} events but {count} remain"))
    for anchor in trusted:
        problems.extend(anchors.check_against_chain(anchor, total=count, seen=seen))
    return ChainReport(problems=problems, events=count, keyed_events=keyed, anchors=len(found))


def verify_chain(batch_size: int = 5000) -> list[ChainProblem]:
    """The problems `check_chain` finds; empty when the chain and its anchors are intact."""
    return check_chain(batch_size).problems


def events(
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    org_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    outcome: str = "",
) -> QuerySet[AuditEvent]:
    qs = filter_given(
        AuditEvent.objects.select_related("actor_org", "subject_org").order_by("-id"),
        at__gte=since,
        at__lt=until,
        outcome=outcome,
        action__icontains=action,
        actor_label__icontains=actor,
        object_type=object_type,
        object_id=object_id,
    )
    if org_id:
        qs = qs.filter(Q(subject_org_id=org_id) | Q(actor_org_id=org_id))
    return qs


def action_names() -> list[str]:
    """Distinct actions, for the filter's suggestions."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:500])


def iter_all() -> Iterator[AuditEvent]:
    yield from AuditEvent.objects.order_by("id").iterator()


def organisations() -> QuerySet[Any]:
    """Every organisation, by name, for the browser's filter: reached through the events' own
    foreign key, as the audit app sits below accounts and does not import it."""
    organisation = AuditEvent._meta.get_field("subject_org").related_model
    return organisation.objects.order_by("name")  # type: ignore[union-attr]  # a foreign key's model is never None


def daily_counts(*, actions: tuple[str, ...], since: date) -> dict[tuple[date, str], int]:
    """How many events of each action per day (in the current time zone) since a day."""
    rows = (
        AuditEvent.objects.filter(action__in=actions, at__date__gte=since)
        .annotate(day=TruncDate("at"))
        .values("day", "action")
        .annotate(n=Count("id"))
    )
    return {(r["day"], r["action"]): r["n"] for r in rows}


def recent(*, action_regex: str, limit: int) -> list[AuditEvent]:
    """The newest events whose action matches, with the organisation they concern."""
    return list(AuditEvent.objects.filter(action__regex=action_regex).select_related("subject_org").order_by("-id")[:limit])


def object_ids(*, action: str, object_type: str, data_to: str) -> set[str]:
    """Ids of the objects of a type that an event of the action moved to a state (data.to)."""
    return set(AuditEvent.objects.filter(action=action, object_type=object_type, data__to=data_to).values_list("object_id", flat=True))
