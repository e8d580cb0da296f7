"""The audit browser: consortium admins filter the append-only trail and verify its chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from robotrace.audit import queries
from robotrace.audit import services as audit
from robotrace.audit.models import AuditEvent
from robotrace.core import csvsafe
from robotrace.core.access import require_kind

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False, label="Actor (e-mail or key)")
    obj = forms.CharField(required=False, label="Object", help_text="type:id, e.g. accounts.user:12, or just an id")
    org = forms.ModelChoiceField(queryset=queries.organisations(), required=False, label="Organisation",
                                 empty_label="All organisations")
    outcome = forms.ChoiceField(choices=[("", "Any outcome")] + list(AuditEvent.Outcome.choices), required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("since") and d.get("until") and d["since"] > d["until"]:
            self.add_error("until", "The end date is before the start date.")
        return d


def _filtered(form: AuditFilterForm) -> Any:
    if not form.is_valid():
        return AuditEvent.objects.none()
    d = form.cleaned_data
    object_type, object_id = "", ""
    raw = (d.get("obj") or "").strip()
    if ":" in raw:
        object_type, object_id = (p.strip() for p in raw.split(":", 1))
    elif raw:
        object_id = raw
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(d["since"], time.min), tz) if d.get("since") else None
    until = timezone.make_aware(datetime.combine(d["until"] + timedelta(days=1), time.min), tz) if d.get("until") else None
    org = d.get("org")
    return queries.events(
        action=d.get("action", "").strip(),
        actor=d.get("actor", "").strip(),
        object_type=object_type,
        object_id=object_id,
        org_id=org.pk if org else None,
        since=since,
        until=until,
        outcome=d.get("outcome", ""),
    )


def _render(request: HttpRequest, verification: dict[str, Any] | None = None) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    qs = _filtered(form) if request.GET else queries.events()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "querystring": params.urlencode(),
            "verification": verification,
            "actions": queries.action_names(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_kind("consortium", admin=True)
def event_list(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_kind("consortium", admin=True)
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    """Walk the whole chain now and show the result; the check itself is recorded."""
    report = queries.check_chain()
    problems = report.problems
    audit.record(
        action="audit.chain_verified",
        actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
        outcome="success" if not problems else "failure",
        data={"events": report.events, "anchors": report.anchors, "problems": len(problems)},
        request=request,
    )
    return _render(request, {"ok": not problems, "problems": problems[:50], "count": report.events,
                             "anchors": report.anchors, "more": max(0, len(problems) - 50)})  # fmt: skip


EXPORT_LIMIT = 100_000


@require_kind("consortium", admin=True)
def export_csv(request: HttpRequest) -> HttpResponseBase:
    """The filtered trail as CSV (oldest first, at most EXPORT_LIMIT rows); the export is audited."""
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _render(request)
    qs = (_filtered(form) if request.GET else queries.events()).order_by("id")[:EXPORT_LIMIT]
    audit.record(
        action="audit.exported",
        actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
        data={"filters": {k: v for k, v in request.GET.items() if v}},
        request=request,
    )

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csvsafe.writer(Echo())
    header = ["id", "at_utc", "action", "outcome", "actor", "actor_org", "subject_org", "object_type", "object_id",
              "source_ip", "data", "prev_hash", "hash"]

    def rows() -> Iterator[Any]:
        yield writer.writerow(header)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow([
                e.id, e.at.astimezone(UTC).isoformat(timespec="microseconds"), e.action, e.outcome, e.actor_label,
                e.actor_org.name if e.actor_org else "", e.subject_org.name if e.subject_org else "",
                e.object_type, e.object_id, e.source_ip or "", json.dumps(e.data, sort_keys=True), e.prev_hash, e.hash,
            ])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response
