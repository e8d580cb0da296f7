"""Audit events for what core announces (core.signals): core sits below the audit app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.audit import services as audit


def access_denied(sender: Any, request: HttpRequest, reason: str, **kwargs: Any) -> None:
    user = getattr(request, "user", None)
    audit.record(
        action="access.denied",
        outcome="denied",
        actor=user if user is not None and user.is_authenticated else None,
        object_type="path",
        object_id=request.path[:80],
        data={"reason": reason, "method": request.method},
        request=request,
    )


def secrets_resealed(sender: Any, counts: dict[str, int], **kwargs: Any) -> None:
    audit.record(action="core.secrets_resealed", actor_label="robotrace reseal-secrets", data=counts)
