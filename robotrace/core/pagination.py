"""Opaque cursor pagination for API lists (by descending id)."""

from __future__ import annotations

import base64
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from robotrace.core.problems import ApiProblem

M = TypeVar("M", bound=Model)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "Bad cursor", "the cursor is not one this API returned") from exc


def page(qs: QuerySet[M], cursor: str | None, limit: int = 100) -> tuple[list[M], str | None]:
    limit = max(1, min(limit, 1000))
    qs = qs.order_by("-id")
    if cursor:
        qs = qs.filter(id__lt=decode_cursor(cursor))
    rows = list(qs[: limit + 1])
    nxt = encode_cursor(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], nxt


def page_response(items: list[Any], nxt: str | None) -> dict[str, Any]:
    return {"items": items, "next": nxt}
