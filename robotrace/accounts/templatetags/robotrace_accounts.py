from __future__ import annotations

from django import template
from django.http import HttpRequest

from robotrace.accounts.adapters import BANNER_FIELD
from robotrace.accounts.middleware import END_REASONS

register = template.Library()


@register.simple_tag
def session_end_reason(request: HttpRequest) -> str:
    """The sentence for `?ended=<code>` on the login page (unknown codes show nothing)."""
    return END_REASONS.get(request.GET.get("ended", ""), "")


@register.simple_tag
def banner_field() -> str:
    return BANNER_FIELD


@register.simple_tag
def banner_checked(request: HttpRequest) -> bool:
    return request.method == "POST" and bool(request.POST.get(BANNER_FIELD))
