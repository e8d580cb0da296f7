"""How an audit event's hash is made, and with which key.

Events written since the chain became keyed carry an HMAC-SHA256 (`mac_version` 1) under a
key held outside the database (`AUDIT_CHAIN_KEY`), so whoever can write the database but not
read the key cannot rewrite history and recompute the links. Events written before carry the
unkeyed SHA-256 of the same body (`mac_version` 0); they are verified as they are, and only as
a prefix: an unkeyed event after the first keyed one is refused, because that is what a
rewrite without the key looks like.

The body each form covers is frozen: changing it would make every stored event fail.

Keys: `AUDIT_CHAIN_KEY`, comma-separated, each at least 32 bytes in URL-safe base64. The first
signs; every one verifies (rotation: put the new key first, keep the old ones for as long as
their events must verify). An event names its key by a fingerprint (`key_id`), never by the key.
Without the setting (development and tests only; settings refuse DEBUG=0 without it) the key is
derived from SECRET_KEY and its id starts with "dev-", so such events are recognisable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS = "0" * 64
UNKEYED = 0
HMAC_SHA256 = 1
KEY_BYTES = 32
DEV_KEY_LABEL = b"robotrace audit chain v1: development key derived from SECRET_KEY"


@dataclass(frozen=True)
class ChainProblem:
    """Something `audit verify` found: the event it concerns (None: the chain as a whole)."""

    event_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainKey:
    id: str
    secret: bytes = b""

    def __repr__(self) -> str:  # never print the secret
        return f"ChainKey({self.id!r})"


def key_id(secret: bytes) -> str:
    return hashlib.sha256(b"robotrace audit key id\0" + secret).hexdigest()[:12]


@cache
def _keys(configured: str, secret_key: str) -> tuple[ChainKey, ...]:
    if not configured.strip():
        secret = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=DEV_KEY_LABEL).derive(secret_key.encode())
        return (ChainKey("dev-" + key_id(secret)[:8], secret),)
    found = []
    for n, text in enumerate(configured.split(","), start=1):
        text = text.strip()
        try:
            secret = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"AUDIT_CHAIN_KEY key {n} is not URL-safe base64") from exc
        if len(secret) < KEY_BYTES:
            raise ImproperlyConfigured(f"AUDIT_CHAIN_KEY key {n} is {len(secret)} bytes; at least {KEY_BYTES} are needed")
        found.append(ChainKey(key_id(secret), secret))
    return tuple(found)


def keys() -> tuple[ChainKey, ...]:
    """The configured keys, the signing key first."""
    return _keys(getattr(settings, "AUDIT_CHAIN_KEY", ""), settings.SECRET_KEY)


def signing_key() -> ChainKey:
    return keys()[0]


def key_by_id(kid: str) -> ChainKey | None:
    for key in keys():
        if key.id == kid:
            return key
    return None


def new_key() -> str:
    """A fresh key for AUDIT_CHAIN_KEY."""
    import secrets

    return secrets.token_urlsafe(KEY_BYTES)


def _body(event: Any) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(timespec="microseconds"),
        "action": event.action,
        "outcome": event.outcome,
        "actor_user": event.actor_user_id,
        "actor_label": event.actor_label,
        "actor_org": event.actor_org_id,
        "subject_org": event.subject_org_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "source_ip": event.source_ip,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def unkeyed_hash(event: Any) -> str:
    """The hash of events written before the chain was keyed (mac_version 0)."""
    return hashlib.sha256(_dumps(_body(event))).hexdigest()


def mac(event: Any, key: ChainKey) -> str:
    """The HMAC-SHA256 of an event (mac_version 1); its version and key id are covered too, so
    neither can be changed without breaking it."""
    body = _body(event)
    body["mac_version"] = HMAC_SHA256
    body["key_id"] = key.id
    return hmac.new(key.secret, _dumps(body), hashlib.sha256).hexdigest()


def sign_document(fields: dict[str, Any], key: ChainKey, *, purpose: str) -> str:
    """HMAC over a small JSON document (an anchor); `purpose` keeps it from being mistaken for
    an event's MAC or another document's."""
    message = purpose.encode() + b"\n" + _dumps(fields)
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
