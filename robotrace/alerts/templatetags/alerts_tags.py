from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def isotime(value: str | None, fmt: str = "Y-m-d H:i") -> str:
    """Format an ISO timestamp kept in an evidence snapshot, in the viewer's time zone."""
    if not value:
        return "—"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(dt):
        dt = timezone.localtime(dt)
    return date_format(dt, fmt)
