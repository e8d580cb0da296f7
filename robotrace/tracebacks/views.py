"""Pages: the consortium board and traceback detail, the provider inbox and response form,
start-traceback actions, and agency traceback requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from robotrace.audit import services as audit
from robotrace.core.access import require_kind
from robotrace.core.views import redirect_back
from robotrace.ingest import queries as ingest_queries
from robotrace.providers import queries as registry
from robotrace.tracebacks import queries, services
from robotrace.tracebacks.models import Hop, HopEvidence, Traceback, TracebackRequest


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


@require_kind("consortium")
def board(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.tracebacks_for(org).select_related("campaign", "originating_provider", "non_responsive_provider", "point_of_entry_provider")
    status = request.GET.get("status", "")
    outcome = request.GET.get("outcome", "")
    if status:
        qs = qs.filter(status=status)
    if outcome:
        qs = qs.filter(outcome=outcome)
    outcomes = queries.outcome_counts(org)
    ctx = {
        "stats": queries.board_stats(org),
        "tracebacks": qs[:50],
        "by_provider": queries.open_by_provider(org),
        "by_campaign": queries.open_by_campaign(org),
        "escalations": queries.escalations(org),
        "requests": TracebackRequest.objects.for_org(org).filter(status=TracebackRequest.Status.SUBMITTED).select_related("agency")[:20],
        "statuses": Traceback.Status.choices,
        "outcomes": Traceback.Outcome.choices,
        "status": status,
        "outcome": outcome,
        "outcome_chart": {"labels": [label for _, label, _ in outcomes], "data": [n for _, _, n in outcomes]},
    }
    return render(request, "tracebacks/board.html", ctx)


@require_kind("consortium", "agency")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    tb = queries.tracebacks_for(org).select_related(
        "campaign", "originating_provider", "point_of_entry_provider", "non_responsive_provider", "shaken_signer").filter(id=pk).first()
    if tb is None:
        raise Http404
    chain = queries.chain(tb)
    path_nodes = [h for h in chain if not (h.is_direct_signer_request and h.named_by_id is None)]
    elapsed = ""
    if tb.completed_at:
        seconds = (tb.completed_at - tb.created_at).total_seconds()
        elapsed = f"{seconds:.1f} s" if seconds < 120 else (f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h")
    callbacks: list[str] = []
    if org.is_consortium and tb.sample_report_id and tb.kind == Traceback.Kind.TRACEBACK:
        report = ingest_queries.report_for(org, tb.sample_report_id)
        callbacks = list(report.callback_numbers or []) if report else []
    return render(request, "tracebacks/detail.html", {
        "tb": tb, "elapsed": elapsed, "callbacks": callbacks, "chain": path_nodes, "parallel": [h for h in chain if h not in path_nodes],
        "events": queries.timeline(tb), "is_staff": org.is_consortium,
    })


@require_kind("provider")
def inbox(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    open_hops = queries.hops_for_provider(org).order_by("due_at")
    answered = queries.hops_for_provider(org, open_only=False).exclude(status__in=queries.OPEN).order_by("-answered_at", "-id")[:30]
    return render(request, "tracebacks/inbox.html", {"open_hops": open_hops, "answered": answered, "now": timezone.now()})


class ResponseForm(forms.Form):
    response = forms.ChoiceField(choices=Hop.Response.choices, widget=forms.RadioSelect)
    upstream_provider = forms.ModelChoiceField(
        queryset=registry.active(), required=False,
        help_text="The provider you received the call from", label="Upstream provider (registry)")
    upstream = forms.CharField(required=False, max_length=200, label="…or its name / OCN / trunk if not listed")
    customer_name = forms.CharField(required=False, max_length=200)
    customer_address = forms.CharField(required=False, max_length=300)
    customer_phone = forms.CharField(required=False, max_length=20)
    customer_email = forms.CharField(required=False, max_length=200)
    customer_account_id = forms.CharField(required=False, max_length=100)
    customer_action = forms.ChoiceField(required=False, choices=[("", "—"), ("warned", "Warned"), ("suspended", "Suspended"), ("terminated", "Terminated")])
    no_record_reason = forms.CharField(required=False, max_length=200)
    attestation_seen = forms.ChoiceField(required=False, choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C")])
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(required=False, help_text="CDR lines or SIP headers (.txt, .csv, .log, .json, .pcap, .pdf; 5 MB)")
    evidence_kind = forms.ChoiceField(required=False, choices=HopEvidence.Kind.choices)


@require_kind("provider", write=True)
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    hop = queries.own_hop(org, pk)
    if hop is None:
        raise Http404
    form = ResponseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        customer = {k: d[f"customer_{k}"] for k in ("name", "address", "phone", "email", "account_id") if d.get(f"customer_{k}")}
        try:
            if d.get("evidence"):
                f = d["evidence"]
                services.attach_evidence(actor=request.user, organisation=org, hop_id=hop.id, filename=f.name, content=f.read(),  # type: ignore[arg-type]  # request.user is a signed-in User here
                                         content_type=f.content_type or "", kind=d.get("evidence_kind") or "other")
            if hop.status in queries.OPEN:
                services.answer_hop(
                    actor=request.user, organisation=org, hop_id=hop.id, response=d["response"],  # type: ignore[arg-type]  # request.user is a signed-in User here
                    upstream_provider_id=d["upstream_provider"].id if d.get("upstream_provider") else None,
                    upstream=d.get("upstream", ""), customer=customer, customer_action=d.get("customer_action", ""),
                    no_record_reason=d.get("no_record_reason", ""), attestation_seen=d.get("attestation_seen", ""), notes=d.get("notes", ""),
                )
            messages.success(request, f"Your answer to {hop.traceback.ref} was recorded.")
            return redirect("tracebacks:inbox")
        except services.TracebackError as exc:
            field = exc.field or ""
            target = {"upstream_provider_id": "upstream_provider", "file": "evidence"}.get(field, field.replace("customer.", "customer_"))
            form.add_error(target if target in form.fields else None, exc.message)
    return render(request, "tracebacks/respond.html", {"hop": hop, "form": form, "now": timezone.now()})


@require_kind("provider", "consortium")
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    org = _org(request)
    ev = HopEvidence.objects.for_org(org).select_related("hop").filter(id=pk).first()
    if ev is None:
        raise Http404
    audit.record(action="hop.evidence_downloaded", actor=request.user, obj=ev, subject_org=ev.hop.provider.organisation, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.filename)


@require_POST
@require_kind("consortium", write=True)
def open_from_report(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    try:
        report_id = int(request.POST.get("report_id", ""))
    except ValueError:
        messages.error(request, "report_id must be a number")
        return redirect("tracebacks:board")
    try:
        tb = services.open_traceback(actor=request.user, organisation=org, report_id=report_id, priority=request.POST.get("priority", "normal"))  # type: ignore[arg-type]  # request.user is a signed-in User here
    except services.TracebackError as exc:
        messages.error(request, exc.message)
        return redirect_back(request, reverse("tracebacks:board"))
    messages.success(request, f"Traceback {tb.ref} opened; the terminating provider has been asked.")
    return redirect("tracebacks:detail", pk=tb.id)


@require_POST
@require_kind("consortium", write=True)
def open_from_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    org = _org(request)
    try:
        samples = max(1, min(int(request.POST.get("samples", "1") or 1), 50))
    except ValueError:
        samples = 1
    try:
        tbs = services.open_from_campaign(actor=request.user, organisation=org, campaign_id=campaign_id, samples=samples)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except services.TracebackError as exc:
        messages.error(request, exc.message)
        return redirect_back(request, reverse("tracebacks:board"))
    messages.success(request, f"Opened {len(tbs)} traceback(s): {', '.join(t.ref for t in tbs)}")
    return redirect_back(request, reverse("tracebacks:board"))


@require_POST
@require_kind("consortium", write=True)
def open_forward(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    report_id = request.POST.get("report_id", "")
    try:
        tb = services.open_trace_forward(actor=request.user, organisation=org, callback_number=request.POST.get("callback_number", ""),  # type: ignore[arg-type]  # request.user is a signed-in User here
                                         report_id=int(report_id) if report_id.isdigit() else None)
    except services.TracebackError as exc:
        messages.error(request, exc.message)
        return redirect_back(request, reverse("tracebacks:board"))
    messages.success(request, f"Trace-forward {tb.ref} opened: asking who holds {tb.callback_number}.")
    return redirect("tracebacks:detail", pk=tb.id)


class ManualForm(forms.Form):
    call_started_at = forms.DateTimeField(help_text="Local time of the call in the zone below")
    call_timezone = forms.CharField(initial="America/New_York", max_length=64)
    calling_number = forms.CharField(max_length=40)
    called_number = forms.CharField(max_length=20)
    callback_number = forms.CharField(max_length=20, required=False, help_text="For a trace-forward (callback scam) only")
    transcript = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    priority = forms.ChoiceField(choices=Traceback.Priority.choices)


def _aware(dt: datetime, zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo(zone)
    except Exception as exc:
        raise services.TracebackError(f"unknown time zone {zone!r}", field="call_timezone") from exc
    return dt.replace(tzinfo=tz) if timezone.is_naive(dt) else dt


@require_kind("consortium", write=True)
def open_manual(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    form = ManualForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d.get("callback_number"):
                tb = services.open_trace_forward(actor=request.user, organisation=org, callback_number=d["callback_number"])  # type: ignore[arg-type]  # request.user is a signed-in User here
            else:
                sample = services.SampleCall(call_started_at=_aware(d["call_started_at"], d["call_timezone"]), call_timezone=d["call_timezone"],
                                             calling_number=d["calling_number"], called_number=d["called_number"], transcript=d["transcript"])
                tb = services.open_traceback(actor=request.user, organisation=org, sample=sample, priority=d["priority"])  # type: ignore[arg-type]  # request.user is a signed-in User here
            return redirect("tracebacks:detail", pk=tb.id)
        except services.TracebackError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "tracebacks/open.html", {"form": form})


class RequestForm(forms.Form):
    call_started_at = forms.DateTimeField(help_text="Local time of the call in the zone below (YYYY-MM-DD HH:MM)")
    call_timezone = forms.CharField(initial="America/New_York", max_length=64)
    calling_number = forms.CharField(max_length=40)
    called_number = forms.CharField(max_length=20)
    transcript = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Investigation context (kept confidential)")


@require_kind("agency", write=True)
def agency_requests(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.submit_request(actor=request.user, organisation=org, call_started_at=_aware(d["call_started_at"], d["call_timezone"]),  # type: ignore[arg-type]  # request.user is a signed-in User here
                                    call_timezone=d["call_timezone"], calling_number=d["calling_number"], called_number=d["called_number"],
                                    transcript=d["transcript"], reason=d["reason"])
            messages.success(request, "Your traceback request was sent to the consortium.")
            return redirect("tracebacks:requests")
        except services.TracebackError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    reqs = TracebackRequest.objects.for_org(org).select_related("traceback")
    return render(request, "tracebacks/requests.html", {"form": form, "reqs": reqs})


@require_POST
@require_kind("consortium", write=True)
def decide_request(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    if not TracebackRequest.objects.for_org(org).filter(id=pk).exists():
        raise Http404
    try:
        req = services.decide_request(actor=request.user, organisation=org, request_id=pk,  # type: ignore[arg-type]  # request.user is a signed-in User here
                                      accept=request.POST.get("decision") == "accept", note=request.POST.get("note", ""))
        if req.traceback_id:
            messages.success(request, f"Accepted: traceback {req.traceback.ref} opened.")  # type: ignore[union-attr]  # traceback_id is set, so the row is there
        else:
            messages.info(request, "Request declined.")
    except services.TracebackError as exc:
        messages.error(request, exc.message)
    return redirect("tracebacks:board")
