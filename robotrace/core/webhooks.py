"""Standard Webhooks signing and verification (HMAC-SHA256 over `id.timestamp.body`).

One implementation for every outbound webhook (hop requests, agency alerts) and for the
reference provider agent that receives them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid

TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    return base64.b64decode(raw)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int | None = None) -> str:
    """Return the message id if the signature is valid and fresh, else raise."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        signatures = lower["webhook-signature"]
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("missing or malformed webhook headers") from exc
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("timestamp outside the 5-minute window")
    expected = sign(secret, msg_id, timestamp, body)
    for candidate in signatures.split(" "):
        if hmac.compare_digest(candidate.strip(), expected):
            return msg_id
    raise WebhookVerificationError("no matching signature")
