from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from robotrace.core.navigation import panels_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    org = request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here
    if org is None:
        return render(request, "core/no_organisation.html", status=403)
    return render(request, "core/home.html", {"org": org, "panels": panels_for(request)})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def webhook_secret_page(request: HttpRequest, *, url: str, secret: str, verb: str, purpose: str, done_url: str) -> HttpResponse:
    """The one page that shows a new webhook signing secret: rendered straight from the POST
    that issued it, never stored in the session, never cached, never shown again."""
    resp = render(request, "webhook_secret.html", {"url": url, "secret": secret, "verb": verb, "purpose": purpose, "done_url": done_url})
    resp["Cache-Control"] = "no-store"
    return resp


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the form's `next` if it is a page of this site, else to `default` (a URL
    or a URL name): a `next` from the request is the requester's word, and an unchecked one
    sends people who trust our links to someone else's site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)
