"""Content-Security-Policy violation reports.

Browsers post a report here for every script, style, frame or form the policy refused
(settings.CONTENT_SECURITY_POLICY names this view in `report-uri`, and the
`Reporting-Endpoints` header in `report-to`). A report is a hint that a page still needs
inline code, or that someone tried to inject some: it goes to the log, one line per
violation, never to the database. Anyone can post here (violations happen on the sign-in
page too), so reports are small, few per address and few overall; the rest are dropped.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("robotrace.csp")

MAX_BODY_BYTES = 16 * 1024
# Reports logged per minute, from one address and from everyone.
PER_ADDRESS_PER_MINUTE = 20
PER_MINUTE = 300
# Violations logged from one request (the Reporting API batches them).
PER_REQUEST = 10
# (our name, report-uri's key, the Reporting API's key)
FIELDS = (
    ("document", "document-uri", "documentURL"),
    ("directive", "effective-directive", "effectiveDirective"),
    ("blocked", "blocked-uri", "blockedURL"),
    ("source", "source-file", "sourceFile"),
    ("line", "line-number", "lineNumber"),
    ("disposition", "disposition", "disposition"),
    ("sample", "script-sample", "sample"),
)


@csrf_exempt
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if length > MAX_BODY_BYTES:
        return HttpResponse(status=413)
    if not _admitted(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(status=429)
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    for violation in violations(payload)[:PER_REQUEST]:
        logger.warning("csp violation: %s", describe(violation))
    return HttpResponse(status=204)


def violations(payload: Any) -> list[dict[str, Any]]:
    """The violation bodies in either format: `{"csp-report": {...}}` from `report-uri`, or
    a list of `{"type": "csp-violation", "body": {...}}` from the Reporting API."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list):
        return [r["body"] for r in payload if isinstance(r, dict) and r.get("type") == "csp-violation" and isinstance(r.get("body"), dict)]
    return []


def describe(violation: dict[str, Any]) -> str:
    """One log line of known fields, each cut short and stripped of control characters, so
    a report cannot forge log lines or fill the log."""
    parts = []
    for name, old_key, new_key in FIELDS:
        value = violation.get(old_key, violation.get(new_key))
        if value not in (None, ""):
            text = "".join(ch if ch.isprintable() else "?" for ch in str(value)[:200])
            parts.append(f"{name}={text!r}")
    return " ".join(parts) or "(no known fields)"


def _admitted(address: str) -> bool:
    minute = int(time.time() // 60)
    for key, limit in ((f"rt:csp:{address}:{minute}", PER_ADDRESS_PER_MINUTE), (f"rt:csp:*:{minute}", PER_MINUTE)):
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            count = 1
        if count > limit:
            return False
    return True
