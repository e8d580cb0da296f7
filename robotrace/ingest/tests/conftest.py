from __future__ import annotations

import gzip as gzip_module
from typing import Any

import orjson
import pytest
from django.test import Client

from robotrace.conftest import bearer

URL = "/api/v1/reports"


def good(i: int = 1, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source_report_id": f"r-{i}",
        "report_type": "carrier_analytics",
        "call_started_at": "2026-11-20T14:05:00-05:00",
        "calling_number": "(704) 286-1234",
        "called_number": "919-332-4567",
        "transcript": "Your car warranty is expiring. Call us back at 833-304-1447.",
    }
    row.update(over)
    return row


def nd(*rows: dict[str, Any] | str) -> bytes:
    return b"".join((r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n" for r in rows)


def post(secret: str, body: bytes, *, content_type: str = "application/x-ndjson", gzip: bool = False, **headers: Any) -> Any:
    extra = dict(bearer(secret))
    if gzip:
        body = gzip_module.compress(body)
        extra["HTTP_CONTENT_ENCODING"] = "gzip"
    extra.update(headers)
    return Client().post(URL, data=body, content_type=content_type, **extra)


@pytest.fixture
def reporter_key(world: Any, api_key: Any) -> str:
    return api_key(world.reporter_a, ["ingest"])
