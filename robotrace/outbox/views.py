"""The deliveries pages: consortium staff see every delivery (backlog, failures, given-up
messages, retries and their attempt log); an organisation's admins see those addressed to
their organisation. Another organisation's delivery answers 404."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from robotrace.accounts import queries as accounts
from robotrace.core.access import deny, require_kind
from robotrace.outbox import queries, services
from robotrace.outbox.models import Delivery

KINDS = ("consortium", "provider", "agency")
S = Delivery.Status
# What the status filter offers besides the statuses themselves.
GROUPS = {"waiting": [S.PENDING, S.SENDING, S.RETRYING], "failing": [S.RETRYING, S.GAVE_UP]}


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


def staff_or_org_admin(view: Any) -> Any:
    """Consortium staff, or another organisation's admins (their own deliveries only)."""

    @require_kind(*KINDS)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _org(request).is_consortium and not request.user.is_org_admin:  # type: ignore[union-attr]  # request.user is a signed-in User here
            deny(request, "deliveries are shown to the organisation's admins")
        return view(request, *args, **kwargs)

    return wrapped


@staff_or_org_admin
def delivery_list(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.deliveries_for(org).select_related("organisation")
    status = request.GET.get("status", "")
    if status in GROUPS:
        qs = qs.filter(status__in=GROUPS[status])
    elif status in S.values:
        qs = qs.filter(status=status)
    channel = request.GET.get("channel", "")
    if channel in Delivery.Channel.values:
        qs = qs.filter(channel=channel)
    topic = request.GET.get("topic", "").strip()
    if topic:
        qs = qs.filter(topic=topic)
    organisations: list[Any] = []
    organisation = request.GET.get("organisation", "")
    if org.is_consortium:
        organisations = list(accounts.organisations_except("consortium"))
        if organisation == "none":
            qs = qs.filter(organisation__isnull=True)
        elif organisation.isdigit():
            qs = qs.filter(organisation_id=int(organisation))
    pager = Paginator(qs, 50).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    topics = list(queries.deliveries_for(org).order_by().values_list("topic", flat=True).distinct())
    return render(request, "outbox/list.html", {
        "pager": pager, "backlog": queries.backlog(org), "status": status, "channel": channel, "topic": topic,
        "topics": sorted(topics), "organisations": organisations, "organisation_filter": organisation, "query": keep.urlencode(),
        "statuses": S.choices, "channels": Delivery.Channel.choices,
    })


def _get(request: HttpRequest, delivery_id: int) -> Delivery:
    d = queries.deliveries_for(_org(request)).select_related("organisation").filter(pk=delivery_id).first()
    if d is None:
        raise Http404("no such delivery")
    return d


@staff_or_org_admin
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    d = _get(request, delivery_id)
    return render(request, "outbox/detail.html", {
        "d": d, "attempts": list(queries.attempts_for(_org(request)).filter(delivery=d)),
        "payload": json.dumps(d.payload, indent=2, sort_keys=True, default=str),
    })


@staff_or_org_admin
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    if not request.user.can_write:  # type: ignore[union-attr]  # request.user is a signed-in User here
        deny(request, "read-only users cannot change anything")
    try:
        d = services.retry_now(actor=request.user, organisation=_org(request), delivery_id=delivery_id)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except Delivery.DoesNotExist as exc:
        raise Http404("no such delivery") from exc
    after = services.attempt(delivery_id=d.pk)
    if after is None:
        messages.info(request, "Nothing to retry: the delivery is not failing.")
    elif after.status == S.DELIVERED:
        messages.success(request, "Delivered.")
    else:
        messages.error(request, f"Attempt {after.attempts} failed: {after.last_error or after.last_status_code}")
    return redirect("outbox:detail", delivery_id=d.pk)
