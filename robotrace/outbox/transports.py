"""How a delivery leaves the platform: a signed webhook over `core.webhooks`' one sender, or
an e-mail over Django's mail. Nothing here touches the database (the relay runs it on its
own threads) and nothing raises: every failure is an `Outcome` the caller retries."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from robotrace.core import webhooks
from robotrace.outbox import conf


@dataclass(frozen=True)
class Endpoint:
    """Where a webhook goes and what signs it, as the app owning the address says now."""

    url: str
    secret: str
    allow_insecure: bool = False
    user_agent: str = "Robotrace/1"


@dataclass(frozen=True)
class Message:
    """Everything needed to make one attempt at a claimed delivery."""

    delivery_id: int
    number: int  # the attempt this is (the row's `attempts` when it was claimed)
    channel: str
    msg_id: str
    payload: dict[str, Any]
    endpoint: Endpoint | None = None
    recipients: tuple[str, ...] = ()
    # Why it cannot be sent at all (an endpoint removed or disabled): given up at once.
    refusal: str = ""


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    number: int
    ok: bool
    at: datetime
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    permanent: bool = False  # no point in retrying


def send(message: Message) -> Outcome:
    started = time.monotonic()
    code: int | None = None
    permanent = False
    if message.refusal:
        error, permanent = message.refusal, True
    elif message.channel == "webhook":
        code, error = _post(message)
    else:
        error = _mail(message)
    return Outcome(message.delivery_id, message.number, not error, timezone.now(), code, error[:500],
                   int((time.monotonic() - started) * 1000), permanent)  # fmt: skip


def _post(message: Message) -> tuple[int | None, str]:
    ep = message.endpoint
    if ep is None:
        return None, "no webhook endpoint"
    body = json.dumps(message.payload, separators=(",", ":"), default=str).encode()
    # The same webhook-id on every attempt lets receivers drop repeats; the timestamp is
    # fresh, so a late retry still falls inside the receiver's 5-minute window.
    return webhooks.post_signed(ep.url, body, ep.secret, msg_id=message.msg_id, timeout=conf.WEBHOOK_TIMEOUT_SECONDS,
                                allow_insecure=ep.allow_insecure, user_agent=ep.user_agent)  # fmt: skip


def _mail(message: Message) -> str:
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection

    if not message.recipients:
        return "no recipients"
    try:
        connection = get_connection(fail_silently=False, timeout=conf.EMAIL_TIMEOUT_SECONDS)
        EmailMessage(str(message.payload.get("subject", ""))[:300], str(message.payload.get("body", "")), settings.DEFAULT_FROM_EMAIL,
                     list(message.recipients), connection=connection).send(fail_silently=False)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - every mail failure (refused, timed out, bad address) is retried
        return f"{type(exc).__name__}: {exc}"[:500]
    return ""
