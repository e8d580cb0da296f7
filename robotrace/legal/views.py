"""Pages of the law-enforcement portal (agencies) and the legal review desk (consortium).

Objects of another agency answer 404 (their existence is never confirmed); pages for the
wrong kind of organisation answer 403. Reading a legal document, a production or a package
is audited; downloading one needs a fresh login.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from robotrace.accounts import queries as accounts
from robotrace.accounts.stepup import require_recent_login
from robotrace.audit import services as audit
from robotrace.campaigns import queries as campaign_queries
from robotrace.core.access import deny, require_kind
from robotrace.legal import queries, services
from robotrace.legal.models import EvidencePackage, LegalDocument, LegalRequest, LegalTarget, PreservationHold, Production
from robotrace.legal.uploads import UploadRejected, check_pdf, full_path

C, A = "consortium", "agency"


def _org(request: HttpRequest) -> Any:
    return request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here


def _get_request(request: HttpRequest, pk: int) -> LegalRequest:
    obj = queries.requests_for(_org(request)).filter(pk=pk).first()
    if obj is None:
        raise Http404("no such request")
    return obj


def _error_text(exc: services.LegalError) -> str:
    if exc.errors:
        parts = []
        for e in exc.errors:
            where = f"line {e['line']}, " if e.get("line") else ""
            parts.append(f"{where}{e.get('field') or 'request'}: {e['reason']}")
        return "; ".join(parts)
    return str(exc)


def _approved(request: HttpRequest) -> None:
    if getattr(request.user, "approval", "approved") != "approved":
        deny(request, "your account has not been approved yet")


# --- agency: intake -----------------------------------------------------------------------------


class RequestForm(forms.Form):
    type = forms.ChoiceField(choices=LegalRequest.Type.choices)
    issuing_authority = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": "w-full"}), help_text="Who issued the process (court, office, official)")
    legal_basis = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"class": "w-full"}), help_text="The statute or rule relied on")
    case_number = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"class": "w-full"}))
    date_signed = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ndo = forms.BooleanField(required=False, label="A non-disclosure order applies")
    ndo_ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Non-disclosure ends on")
    records_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    records_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    targets = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "+1 919 555 0142\nC-12\nTB-000034 2026-01-01..2026-03-31\nP-7"}),
        help_text="One per line: a phone number, C-<campaign>, TB-<traceback> or P-<provider>, optionally followed by a date range YYYY-MM-DD..YYYY-MM-DD.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    document = forms.FileField(help_text="The signed legal process, as a PDF")


@require_kind(A)
def my_requests(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.requests_for(org).order_by("-created_at", "-id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    productions = [p for p in queries.productions_for(org).order_by("-created_at")[:10]]
    packages = list(queries.packages_for(org).filter(status="done")[:10])
    return render(request, "legal/my_requests.html", {"page": page, "productions": productions, "packages": packages})


@require_kind(A, write=True)
def new_request(request: HttpRequest) -> HttpResponse:
    _approved(request)
    org = _org(request)
    # Pre-filled targets when coming from a campaign or alert page (?targets=C-12).
    form = RequestForm(request.POST or None, request.FILES or None, initial={"targets": request.GET.get("targets", "")[:500]})
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            upload = d["document"]
            checked = check_pdf(upload.file, upload.name)
            targets = services.parse_targets_text(d["targets"])
            req = services.file_request(
                actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
                organisation=org,
                data=services.NewRequest(
                    type=d["type"], issuing_authority=d["issuing_authority"], legal_basis=d["legal_basis"],
                    case_number=d["case_number"], date_signed=d["date_signed"], due_date=d["due_date"],
                    ndo=d["ndo"], ndo_ends_on=d["ndo_ends_on"], records_from=d["records_from"], records_to=d["records_to"],
                    description=d["description"], targets=targets,
                ),
                document=checked,
                http_request=request,
            )
        except UploadRejected as exc:
            form.add_error("document", str(exc))
        except services.LegalError as exc:
            for e in exc.errors or [{"field": None, "reason": str(exc), "line": None}]:
                field = e.get("field")
                where = f"Line {e['line']}: " if e.get("line") else ""
                target_field = field if field in form.fields else ("targets" if e.get("line") or field in ("phone", "campaign", "traceback", "provider", "kind") else None)
                form.add_error(target_field, f"{where}{e['reason']}")
        else:
            doc = req.documents.first()
            messages.success(request, f"Filed {req.ref}. Document SHA-256: {doc.sha256 if doc else '-'}")
            return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))
    return render(request, "legal/new.html", {"form": form, "errors": errors})


# --- both: a request ----------------------------------------------------------------------------


@require_kind(C, A)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    req = _get_request(request, pk)
    with transaction.atomic():
        audit.record(action="legal.request.viewed", actor=request.user, obj=req, subject_org=req.agency, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    ctx: dict[str, Any] = {
        "req": req,
        "targets": list(req.targets.all()),
        "documents": list(req.documents.all()),
        "msgs": list(req.messages.all()),
        "productions": list(req.productions.all()),
        "holds": list(req.holds.all()),
        "packages": list(EvidencePackage.objects.for_org(org).filter(request=req)),
        "is_staff": org.is_consortium,
        "can_decide": org.is_consortium and req.status in services.TRANSITIONS and bool(services.TRANSITIONS[req.status] & {"accepted", "narrowed", "rejected", "clarification_needed"}),
        "can_produce": org.is_consortium and req.status in ("accepted", "narrowed", "produced"),
        "can_withdraw": org.is_agency and "withdrawn" in services.TRANSITIONS.get(req.status, set()),
    }
    if org.is_consortium:
        ctx["staff"] = accounts.staff(org)
        ctx["duplicate"] = req.duplicate_of
        ctx["related"] = list(LegalRequest.objects.for_org(org).filter(pk__in=req.related_request_ids).select_related("agency"))
        # Pre-select the targeted campaign when staff go on to build an evidence package.
        ctx["first_campaign_id"] = next((t.campaign_id for t in ctx["targets"] if t.campaign_id), None)
    return render(request, "legal/detail.html", ctx)


@require_kind(C, A)
def document(request: HttpRequest, pk: int, doc_id: int) -> HttpResponseBase:
    req = _get_request(request, pk)
    doc = LegalDocument.objects.for_org(_org(request)).filter(pk=doc_id, request=req).first()
    if doc is None:
        raise Http404("no such document")
    with transaction.atomic():
        audit.record(action="legal.document.viewed", actor=request.user, obj=doc, subject_org=req.agency, data={"sha256": doc.sha256}, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    response = FileResponse(open(full_path(doc.stored_name), "rb"), content_type="application/pdf", as_attachment=True, filename=doc.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_kind(C, A, write=True)
@require_POST
def message(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    try:
        services.post_message(actor=request.user, organisation=_org(request), request=req, body=request.POST.get("body", ""))  # type: ignore[arg-type]  # request.user is a signed-in User here
        messages.success(request, "Message sent. The other side gets an e-mail saying there is a message, without its content.")
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]) + "#messages")


@require_kind(A, write=True)
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    try:
        services.withdraw(actor=request.user, organisation=_org(request), request=req, reason=request.POST.get("reason", ""))  # type: ignore[arg-type]  # request.user is a signed-in User here
        messages.success(request, f"{req.ref} withdrawn.")
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))


@require_kind(A, write=True)
@require_POST
def upload_document(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    upload = request.FILES.get("document")
    if upload is None:
        messages.error(request, "document: choose a PDF")
    else:
        try:
            doc = services.attach_document(actor=request.user, organisation=_org(request), request=req, checked=check_pdf(upload.file, upload.name))  # type: ignore[arg-type]  # request.user is a signed-in User here
            messages.success(request, f"Uploaded {doc.original_name}. SHA-256: {doc.sha256}")
        except (UploadRejected, services.LegalError) as exc:
            messages.error(request, f"document: {exc}")
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))


@require_kind(C, A, write=True)
@require_POST
def renew_hold(request: HttpRequest, pk: int, hold_id: int) -> HttpResponse:
    req = _get_request(request, pk)
    hold = PreservationHold.objects.for_org(_org(request)).filter(pk=hold_id, request=req).first()
    if hold is None:
        raise Http404("no such hold")
    try:
        h = services.renew_hold(actor=request.user, organisation=_org(request), hold=hold)  # type: ignore[arg-type]  # request.user is a signed-in User here
        messages.success(request, f"Hold renewed until {h.expires_at:%Y-%m-%d}.")
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]) + "#holds")


@require_kind(C, write=True)
@require_POST
def release_hold(request: HttpRequest, pk: int, hold_id: int) -> HttpResponse:
    req = _get_request(request, pk)
    hold = PreservationHold.objects.for_org(_org(request)).filter(pk=hold_id, request=req).first()
    if hold is None:
        raise Http404("no such hold")
    try:
        services.release_hold(actor=request.user, organisation=_org(request), hold=hold, reason=request.POST.get("reason", ""))  # type: ignore[arg-type]  # request.user is a signed-in User here
        messages.success(request, "Hold released.")
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]) + "#holds")


# --- consortium: review -------------------------------------------------------------------------


@require_kind(C)
def queue(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    status = request.GET.get("status", "open")
    due = request.GET.get("due", "")
    mine = request.GET.get("mine") == "1"
    qs = queries.queue(org, status=status, due=due, mine_for=request.user if mine else None)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "legal/queue.html",
        {"page": page, "counts": queries.queue_counts(org), "status": status, "due": due, "mine": mine, "statuses": LegalRequest.Status.choices},
    )


@require_kind(C, write=True)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    raw = request.POST.get("assignee", "")
    assignee = accounts.member(_org(request), raw) if raw else None  # type: ignore[arg-type]  # the id as posted; the lookup converts it
    if raw and assignee is None:
        messages.error(request, "assignee: not a member of the consortium")
    else:
        try:
            services.assign(actor=request.user, organisation=_org(request), request=req, assignee=assignee)  # type: ignore[arg-type]  # request.user is a signed-in User here
            messages.success(request, f"{req.ref} assigned to {assignee.email if assignee else 'nobody'}.")
        except services.LegalError as exc:
            messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))


def _decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    decision = request.POST.get("decision", "")
    target_decisions: dict[int, str] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("target_") and key[7:].isdigit() and value:
            target_decisions[int(key[7:])] = value
    try:
        after = services.decide(
            actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
            organisation=_org(request),
            request=req,
            decision=decision,
            note=request.POST.get("note", ""),
            target_decisions=target_decisions or None,
        )
        if after.is_emergency and after.status != "accepted" and decision == "accept":
            messages.success(request, "First approval recorded. A second, different person must approve this emergency disclosure.")
        else:
            messages.success(request, f"{after.ref}: {after.get_status_display()}.")
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]))


_decide_fresh = require_recent_login(_decide)


@require_kind(C, write=True)
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    # Approving an emergency disclosure needs a fresh login (S5); other decisions do not.
    if req.is_emergency and request.POST.get("decision") == "accept":
        return _decide_fresh(request, pk)
    return _decide(request, pk)


@require_kind(C, write=True)
@require_POST
def produce(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get_request(request, pk)
    try:
        prod = services.create_production(actor=request.user, organisation=_org(request), request=req)  # type: ignore[arg-type]  # request.user is a signed-in User here
        messages.success(request, f"{prod.ref} ready ({prod.size // 1024 or 1} KB, SHA-256 {prod.sha256[:16]}…). The agency has been told by e-mail (link only).")
    except services.LegalError as exc:
        messages.error(request, _error_text(exc))
    return HttpResponseRedirect(reverse("legal:detail", args=[req.pk]) + "#productions")


# --- downloads ----------------------------------------------------------------------------------


def _production_or_404(request: HttpRequest, pk: int) -> Production:
    prod = queries.productions_for(_org(request)).filter(pk=pk).first()
    if prod is None:
        raise Http404("no such production")
    return prod


@require_kind(C, A)
def production(request: HttpRequest, pk: int) -> HttpResponse:
    prod = _production_or_404(request, pk)
    with transaction.atomic():
        audit.record(action="legal.production.viewed", actor=request.user, obj=prod, subject_org=prod.request.agency, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    status = 410 if prod.is_expired else 200
    return render(request, "legal/production.html", {"prod": prod, "files": sorted((prod.manifest or {}).get("files", {}).items())}, status=status)


@require_kind(C, A)
@require_recent_login
def production_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    prod = _production_or_404(request, pk)
    try:
        services.record_download(actor=request.user, organisation=_org(request), production=prod, http_request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except services.Gone as exc:
        return render(request, "legal/gone.html", {"reason": str(exc), "prod": prod}, status=410)
    response = FileResponse(open(full_path(prod.zip_path), "rb"), content_type="application/zip", as_attachment=True, filename=f"{prod.request.ref}-{prod.ref}.zip")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# --- evidence packages --------------------------------------------------------------------------


class EvidenceForm(forms.Form):
    campaign = forms.IntegerField(required=False, min_value=1)
    tracebacks = forms.CharField(required=False, help_text="Comma-separated traceback ids, when the package is not for a whole campaign.")
    produced_to = forms.IntegerField(required=False)
    request = forms.IntegerField(required=False)


def _tb_ids(text: str) -> list[int]:
    import re

    ids = []
    for token in re.split(r"[\s,;]+", text or ""):
        token = token.strip()
        if not token:
            continue
        digits = re.sub(r"^TB-?", "", token, flags=re.IGNORECASE).lstrip("0")
        if not digits.isdigit():
            raise services.LegalError(f"tracebacks: {token!r} is not a traceback id", errors=[{"line": None, "field": "tracebacks", "reason": f"{token!r} is not a traceback id"}])
        ids.append(int(digits))
    return ids


@require_kind(C, A)
def evidence_list(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.packages_for(org)
    if org.is_agency:
        qs = qs.filter(status="done")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "legal/evidence_list.html", {"page": page, "is_staff": org.is_consortium})


@require_kind(C, write=True)
def evidence_new(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    campaigns = campaign_queries.recent(org, limit=200)
    agencies = list(accounts.organisations_of_kind("agency", active_only=True))
    open_requests = list(queries.requests_for(org).filter(status__in=["accepted", "narrowed", "produced"]).order_by("-created_at")[:100])
    initial = {"campaign": request.GET.get("campaign") or None, "request": request.GET.get("request") or None}
    form = EvidenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            produced_to = accounts.organisation(d["produced_to"], kind="agency") if d["produced_to"] else None
            if d["produced_to"] and produced_to is None:
                raise services.LegalError("produced_to: not an agency", errors=[{"line": None, "field": "produced_to", "reason": "not an agency"}])
            legal_req = queries.requests_for(org).filter(pk=d["request"]).first() if d["request"] else None
            pkg = services.start_evidence_package(
                actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
                organisation=org,
                campaign_id=d["campaign"],
                traceback_ids=_tb_ids(d["tracebacks"]),
                produced_to=produced_to,
                request=legal_req,
            )
        except services.LegalError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"{pkg.ref} is being built in the background.")
            return HttpResponseRedirect(reverse("legal:evidence_detail", args=[pkg.pk]))
    selected = str(request.POST.get("campaign") or request.GET.get("campaign") or "")
    return render(
        request,
        "legal/evidence_new.html",
        {"form": form, "campaigns": campaigns, "agencies": agencies, "open_requests": open_requests, "selected": selected,
         "selected_request": str(request.POST.get("request") or request.GET.get("request") or "")},
    )


def _package_or_404(request: HttpRequest, pk: int) -> EvidencePackage:
    org = _org(request)
    pkg = queries.packages_for(org).filter(pk=pk).first()
    # Agencies only ever see finished packages made for them.
    if pkg is None or (org.is_agency and pkg.status != EvidencePackage.Status.DONE):
        raise Http404("no such package")
    return pkg


@require_kind(C, A)
def evidence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pkg = _package_or_404(request, pk)
    with transaction.atomic():
        audit.record(action="legal.evidence.viewed", actor=request.user, obj=pkg, subject_org=pkg.produced_to, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    return render(request, "legal/evidence_detail.html", {"pkg": pkg, "files": sorted((pkg.manifest or {}).get("files", {}).items())})


@require_kind(C, A)
def evidence_progress(request: HttpRequest, pk: int) -> HttpResponse:
    pkg = _package_or_404(request, pk)
    response = render(request, "legal/_evidence_progress.html", {"pkg": pkg})
    if pkg.status in (EvidencePackage.Status.DONE, EvidencePackage.Status.FAILED):
        # Reload the whole page once so the file list and download button appear.
        response["HX-Refresh"] = "true"
    return response


@require_kind(C, write=True)
@require_POST
def evidence_retry(request: HttpRequest, pk: int) -> HttpResponse:
    pkg = _package_or_404(request, pk)
    if pkg.status == EvidencePackage.Status.FAILED:
        from robotrace.legal.tasks import build_evidence_package_task

        build_evidence_package_task(pkg.pk)
    return HttpResponseRedirect(reverse("legal:evidence_detail", args=[pkg.pk]))


@require_kind(C, A)
@require_recent_login
def evidence_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    pkg = _package_or_404(request, pk)
    try:
        services.record_package_download(actor=request.user, organisation=_org(request), package=pkg, http_request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except services.LegalError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("legal:evidence_detail", args=[pkg.pk]))
    response = FileResponse(open(full_path(pkg.zip_path), "rb"), content_type="application/zip", as_attachment=True, filename=f"{pkg.ref}.zip")
    response["Cache-Control"] = "no-store"
    return response


# --- statistics ---------------------------------------------------------------------------------


@require_kind(C, A)
def stats(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    summary = queries.statistics_summary(agency=None if org.is_consortium else org)
    return render(request, "legal/stats.html", {"s": summary, "is_staff": org.is_consortium})


# Keep the target decision choices in one place for the templates.
TARGET_DECISIONS = LegalTarget.Decision.choices
