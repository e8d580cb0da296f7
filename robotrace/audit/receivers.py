"""Audit events for what core announces (core.signals): core sits below the audit app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from robotrace.audit import denials
from robotrace.audit import services as audit


def access_denied(sender: Any, request: HttpRequest, reason: str, **kwargs: Any) -> None:
    # Bounded per actor like every other refusal (audit.denials).
    denials.record_denial(request, action="access.denied", status=403, reason=reason)


def secrets_resealed(sender: Any, counts: dict[str, int], **kwargs: Any) -> None:
    audit.record(action="core.secrets_resealed", actor_label="robotrace reseal-secrets", data=counts)
