"""Signed checkpoints of the audit chain's head, kept outside the database.

The keyed chain stops a rewrite by someone who can write the database but not read the key;
it cannot stop them deleting the newest events and moving the head row back. An anchor can:
every few minutes (audit.tasks.anchor_chain) the head's event id, count and hash are written
with the time and an HMAC under the chain key to a file in the `audit_anchors` storage
(AUDIT_ANCHOR_DIR, by default var/audit-anchors/ beside the database), one file per checkpoint
in a folder per day, never rewritten. `robotrace audit verify` checks every anchor against the
chain. Where AUDIT_TSA_URL names a timestamp authority, the anchor also carries its RFC 3161
token over the checkpoint (audit.tsa), which dates it without trusting our own clock or key.

Keep the anchor folder where the database's writers cannot write (another volume, host or
bucket with object lock): an anchor only protects what its own store protects.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from robotrace.audit import chain
from robotrace.audit.chain import ChainProblem
from robotrace.audit.models import AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)

PURPOSE = "robotrace audit anchor v1"
SIGNED_FIELDS = ("v", "event_id", "count", "hash", "at", "key_id")


@dataclass(frozen=True)
class Anchor:
    name: str
    event_id: int
    count: int
    hash: str
    at: str
    key_id: str
    mac: str
    tsa: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=dict, repr=False)


def storage() -> Storage:
    return storages["audit_anchors"]


def _signed(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in SIGNED_FIELDS}


def signed_bytes(doc: dict[str, Any]) -> bytes:
    """The checkpoint as one canonical byte string: what the HMAC and a timestamp token cover."""
    return json.dumps({**_signed(doc), "mac": doc.get("mac")}, sort_keys=True, separators=(",", ":")).encode()


def current_head() -> tuple[int, int, str] | None:
    """(event id, count, hash) of the chain's newest event; None for an empty chain."""
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None or head.count == 0:
        return None
    # The head row and its event commit together, so the event is there (unless someone
    # deleted it, which verify reports; an anchor of a head without its event is refused).
    event_id = AuditEvent.objects.filter(hash=head.last_hash).values_list("id", flat=True).first()
    if event_id is None:
        raise RuntimeError("the audit chain head names an event that is missing: run `robotrace audit verify`")
    return event_id, head.count, head.last_hash


def _latest_event_id(day: str) -> int | None:
    try:
        _, files = storage().listdir(day)
    except (FileNotFoundError, NotADirectoryError):
        return None
    names = sorted(f for f in files if f.endswith(".json"))
    if not names:
        return None
    try:
        return int(names[-1].rsplit("-", 1)[1].removesuffix(".json"))
    except (IndexError, ValueError):
        return None


def write_anchor(*, force: bool = False, now: datetime | None = None) -> dict[str, Any] | None:
    """Write a checkpoint of the chain head now. Without `force`, a head already anchored
    today is not written again (an idle platform adds one file a day, not one per run).
    Returns the document written, or None when there was nothing to anchor."""
    head = current_head()
    if head is None:
        return None
    event_id, count, last_hash = head
    now = (now or timezone.now()).astimezone(UTC)
    day = f"{now:%Y-%m-%d}"
    if not force and _latest_event_id(day) == event_id:
        return None
    key = chain.signing_key()
    doc: dict[str, Any] = {
        "v": 1,
        "event_id": event_id,
        "count": count,
        "hash": last_hash,
        "at": now.isoformat(timespec="microseconds"),
        "key_id": key.id,
    }
    doc["mac"] = chain.sign_document(_signed(doc), key, purpose=PURPOSE)
    if getattr(settings, "AUDIT_TSA_URL", ""):
        from robotrace.audit import tsa

        try:
            doc["tsa"] = tsa.timestamp(signed_bytes(doc))
        except tsa.TimestampError as exc:
            # The signed checkpoint is still worth writing; the missing token is logged and
            # the next run asks again.
            logger.error("audit anchor %s: no timestamp token: %s", event_id, exc)
    name = f"{day}/{now:%Y%m%dT%H%M%S%fZ}-{event_id}.json"
    storage().save(name, ContentFile(json.dumps(doc, sort_keys=True).encode() + b"\n"))
    return doc


def read_anchors() -> tuple[list[Anchor], list[ChainProblem]]:
    """Every anchor in the store, oldest first, and a problem for each file that is not one."""
    store = storage()
    anchors: list[Anchor] = []
    problems: list[ChainProblem] = []
    try:
        days, _ = store.listdir("")
    except FileNotFoundError:
        return anchors, problems
    for day in sorted(days):
        _, files = store.listdir(day)
        for file_name in sorted(files):
            name = f"{day}/{file_name}"
            try:
                with store.open(name, "rb") as fh:
                    doc = json.loads(fh.read(64 * 1024))
                anchors.append(Anchor(
                    name=name, event_id=int(doc["event_id"]), count=int(doc["count"]), hash=str(doc["hash"]),
                    at=str(doc["at"]), key_id=str(doc["key_id"]), mac=str(doc["mac"]), tsa=doc.get("tsa"), fields=doc,
                ))  # fmt: skip
            except (OSError, ValueError, KeyError, TypeError) as exc:
                problems.append(ChainProblem(None, f"anchor {name} cannot be read ({exc.__class__.__name__}): it was damaged or is not an anchor"))
    return anchors, problems


def check_signature(anchor: Anchor) -> ChainProblem | None:
    key = chain.key_by_id(anchor.key_id)
    if key is None:
        return ChainProblem(anchor.event_id, f"anchor {anchor.name} is signed with key {anchor.key_id!r}, which is not "
                                              "configured (AUDIT_CHAIN_KEY)")  # fmt: skip
    if not chain.same(chain.sign_document(_signed(anchor.fields), key, purpose=PURPOSE), anchor.mac):
        return ChainProblem(anchor.event_id, f"anchor {anchor.name}: its HMAC does not match: the file was edited, "
                                              "or written without the chain key")  # fmt: skip
    if anchor.tsa:
        from robotrace.audit import tsa

        reason = tsa.check(anchor.tsa, signed_bytes(anchor.fields))
        if reason:
            return ChainProblem(anchor.event_id, f"anchor {anchor.name}: its timestamp token {reason}")
    return None


def check_against_chain(anchor: Anchor, *, total: int, seen: dict[int, tuple[int, str]]) -> list[ChainProblem]:
    """Compare a correctly signed anchor with the chain as walked: `total` events, and for
    each anchored event id still present, its position (1-based) and hash."""
    problems = []
    if total < anchor.count:
        problems.append(ChainProblem(None, f"the chain has {total} events but anchor {anchor.name} counted "
                                            f"{anchor.count}: the newest events were deleted"))  # fmt: skip
    position_hash = seen.get(anchor.event_id)
    if position_hash is None:
        problems.append(ChainProblem(anchor.event_id, f"anchor {anchor.name} names event {anchor.event_id}, which is "
                                                       "missing: events were deleted after it was anchored"))  # fmt: skip
        return problems
    position, event_hash = position_hash
    if not chain.same(event_hash, anchor.hash):
        problems.append(ChainProblem(anchor.event_id, f"event {anchor.event_id} does not have the hash anchored in "
                                                       f"{anchor.name}: the chain was rewritten after it was anchored"))  # fmt: skip
    elif position != anchor.count:
        problems.append(ChainProblem(anchor.event_id, f"{position} events up to event {anchor.event_id} but anchor "
                                                       f"{anchor.name} counted {anchor.count}: events before it were "
                                                       "deleted or inserted"))  # fmt: skip
    return problems
