"""Pages: the consortium admin area, an org admin's people and API keys, the public agency request.

Every write goes through accounts.services (one transaction, audited). Pages refuse other
kinds with core.access.require_kind (audited 403); an object outside the viewer's reach
answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from robotrace.accounts import queries, services
from robotrace.accounts.forms import (
    AgencyRequestForm,
    ApiKeyForm,
    ApprovalForm,
    OrganisationForm,
    RoleForm,
    UserCreateForm,
    apply_errors,
)
from robotrace.accounts.models import ApiKey, Organisation, User
from robotrace.accounts.stepup import require_recent_login
from robotrace.audit import queries as audit_queries
from robotrace.core.access import require_kind

consortium_admin = require_kind("consortium", admin=True)


def _managed_user(pk: int) -> User:
    return get_object_or_404(User.objects.select_related("organisation"), pk=pk, organisation__isnull=False)


def _service_error(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc))


# --- consortium admin: overview ----------------------------------------------------------------


@consortium_admin
def admin_home(request: HttpRequest) -> HttpResponse:
    recent = audit_queries.recent(action_regex=r"^(user|organisation|api_key)\.", limit=12)
    return render(
        request,
        "accounts/admin_home.html",
        {
            "ov": queries.overview(),
            "pending": queries.pending_approvals()[:8],
            "locked": queries.locked_users()[:8],
            "recent": recent,
            "signins": queries.signins_by_day(),
        },
    )


# --- organisations ------------------------------------------------------------------------------


@consortium_admin
def org_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind and kind not in Organisation.Kind.values:
        kind = ""
    q = request.GET.get("q", "").strip()
    page = Paginator(queries.organisations(kind=kind, q=q), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/org_list.html", {"page": page, "kind": kind, "q": q, "kinds": Organisation.Kind.choices})


@consortium_admin
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            org = services.create_organisation(
                actor=request.user, name=d["name"], kind=d["kind"], slug=d["slug"], **form.service_fields()  # type: ignore[arg-type]  # request.user is a signed-in User here
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{org.name} was created.")
            return redirect("accounts:org_detail", pk=org.pk)
    return render(request, "accounts/org_form.html", {"form": form}, status=400 if form.errors else 200)


@consortium_admin
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=pk)
    users = org.users.order_by("-is_active", "email")
    return render(
        request,
        "accounts/org_detail.html",
        {
            "org": org,
            "users": users,
            "keys": queries.org_keys(org),
            "key_form": ApiKeyForm(),
            "role_choices": User.Role.choices,
        },
    )


# --- people ---------------------------------------------------------------------------------------


def _add_person(request: HttpRequest, org: Organisation, done: HttpResponseRedirect, *, own: bool) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            phone = services.phone_field(d["phone"], field="phone")
            user = services.create_user(
                actor=request.user,  # type: ignore[arg-type]  # request.user is a signed-in User here
                organisation=org,
                email=d["email"],
                password=d["password"],
                role=d["role"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                title=d["title"],
                phone=phone,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except services.PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if user.approval == User.Approval.PENDING:
                messages.success(request, f"{user.email} was added; the consortium verifies agency people (a call-back to your main number) before they can sign in.")
            else:
                messages.success(request, f"{user.email} was added to {org.name} as {user.get_role_display().lower()}.")
            return done
    return render(request, "accounts/user_form.html", {"form": form, "org": org, "own": own}, status=400 if form.errors else 200)


@consortium_admin
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=pk)
    return _add_person(request, org, redirect("accounts:org_detail", pk=org.pk), own=False)


# --- an organisation admin's own people --------------------------------------------------------------


@require_kind(admin=True)
@never_cache
def people(request: HttpRequest) -> HttpResponse:
    org = queries.organisation_of(request)
    users = org.users.order_by("-is_active", "email")
    return render(request, "accounts/people.html", {"org": org, "users": users, "role_choices": User.Role.choices, "person_url": "accounts:person_action"})


@require_kind(admin=True)
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest) -> HttpResponse:
    org = queries.organisation_of(request)
    return _add_person(request, org, redirect("accounts:people"), own=True)


# --- what an admin does to a person: the consortium's admins to anyone (admin area), an
# organisation's admins to their own people (/org/people/). The services check again.

def _act_on_person(request: HttpRequest, user: User, action: str, back: HttpResponseRedirect) -> HttpResponse:
    if action == "role":
        # Role changes need a fresh re-authentication (S5) and end the person's sessions.
        return require_recent_login(lambda r: _change_role(r, user, back))(request)
    try:
        if action == "active":
            active = request.POST.get("active") == "1"
            services.set_active(actor=request.user, user=user, active=active)  # type: ignore[arg-type]  # request.user is a signed-in User here
            messages.success(request, f"{user.email} was {'enabled' if active else 'disabled and signed out everywhere'}.")
        elif action == "end-sessions":
            services.end_sessions(actor=request.user, user=user)  # type: ignore[arg-type]  # request.user is a signed-in User here
            messages.success(request, f"Every session of {user.email} was ended.")
        elif action == "unlock":
            if not user.is_locked:
                messages.info(request, f"{user.email} was not locked.")
            else:
                services.unlock_user(actor=request.user, user=user)  # type: ignore[arg-type]  # request.user is a signed-in User here
                messages.success(request, f"{user.email} was released and can sign in again.")
        else:
            raise Http404("no such action")
    except (ValidationError, services.PermissionDenied) as exc:
        _service_error(request, exc)
    return back


def _change_role(request: HttpRequest, user: User, back: HttpResponseRedirect) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin, member or read-only.")
        return back
    try:
        services.set_role(actor=request.user, user=user, role=form.cleaned_data["role"])  # type: ignore[arg-type]  # request.user is a signed-in User here
    except (ValidationError, services.PermissionDenied) as exc:
        _service_error(request, exc)
    else:
        messages.success(request, f"{user.email} is now {user.get_role_display().lower()}; their sessions were ended.")
    return back


@consortium_admin
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _managed_user(pk)
    back = redirect("accounts:admin_home") if request.POST.get("next") == "home" else redirect("accounts:org_detail", pk=user.organisation_id)
    return _act_on_person(request, user, action, back)


@require_kind(admin=True)
@require_POST
def person_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    # Another organisation's person answers 404, as if there were no such person.
    user = get_object_or_404(User, pk=pk, organisation=request.user.organisation)  # type: ignore[union-attr]  # request.user is a signed-in User here
    return _act_on_person(request, user, action, redirect("accounts:people"))


# --- approvals --------------------------------------------------------------------------------------


@consortium_admin
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/approvals.html", {"pending": queries.pending_approvals()})


@consortium_admin
@require_http_methods(["GET", "POST"])
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User.objects.select_related("organisation"), pk=pk, approval=User.Approval.PENDING)
    form = ApprovalForm(request.POST or None, initial={"method": User.Verification.CALLBACK})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["decision"] == "approve":
                services.approve_user(actor=request.user, user=user, method=d["method"], notes=d["notes"])  # type: ignore[arg-type]  # request.user is a signed-in User here
                messages.success(request, f"{user.email} was approved; they enrol an authenticator at first sign-in.")
            else:
                services.reject_user(actor=request.user, user=user, reason=d["notes"])  # type: ignore[arg-type]  # request.user is a signed-in User here
                messages.success(request, f"The request of {user.email} was rejected.")
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                names = {"verification_method": "method", "verification_notes": "notes", "reason": "notes"}
                exc = ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})
            apply_errors(form, exc)
        else:
            return redirect("accounts:approvals")
    others = user.organisation.users.exclude(pk=user.pk).filter(approval=User.Approval.APPROVED) if user.organisation else []
    return render(
        request, "accounts/approval_decide.html", {"person": user, "form": form, "colleagues": others}, status=400 if form.errors else 200
    )


# --- API keys ----------------------------------------------------------------------------------------


def _issue(request: HttpRequest, org: Organisation, form: ApiKeyForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        issued = services.issue_api_key(
            actor=request.user, organisation=org, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]  # type: ignore[arg-type]  # request.user is a signed-in User here
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    # The secret is rendered once, on this response, and never stored: no redirect, no cache.
    response = render(request, "accounts/key_secret.html", {"org": org, "key": issued.api_key, "secret": issued.secret})
    response["Cache-Control"] = "no-store"
    return response


@consortium_admin
@require_POST
def org_key_issue(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=pk)
    form = ApiKeyForm(request.POST)
    shown = _issue(request, org, form)
    if shown is not None:
        return shown
    for errors in form.errors.values():
        for e in errors:
            messages.error(request, f"API key not issued: {e}")
    return redirect("accounts:org_detail", pk=org.pk)


@consortium_admin
@require_POST
def org_key_revoke(request: HttpRequest, pk: int, key_id: int) -> HttpResponse:
    org = get_object_or_404(Organisation, pk=pk)
    try:
        key = services.revoke_api_key(actor=request.user, organisation=org, key_id=key_id)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except ApiKey.DoesNotExist:
        raise Http404("no such key")
    messages.success(request, f"Key {key.prefix}… was revoked.")
    return redirect("accounts:org_detail", pk=org.pk)


@require_kind(admin=True)
@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """An org admin's own organisation's keys: issue (secret shown once), revoke, last use."""
    org = queries.organisation_of(request)
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST":
        shown = _issue(request, org, form)
        if shown is not None:
            return shown
    return render(request, "accounts/api_keys.html", {"org": org, "keys": queries.org_keys(org), "form": form},
                  status=400 if form.errors else 200)


@require_kind(admin=True)
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    org = request.user.organisation  # type: ignore[union-attr]  # request.user is a signed-in User here
    try:
        key = services.revoke_api_key(actor=request.user, organisation=org, key_id=key_id)  # type: ignore[arg-type]  # request.user is a signed-in User here
    except ApiKey.DoesNotExist:
        raise Http404("no such key")
    messages.success(request, f"Key {key.prefix}… was revoked; requests with it now get 401.")
    return redirect("accounts:api_keys")


# --- public: agency access request ----------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def agency_request(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = AgencyRequestForm(request.POST or None)
    if request.method == "POST" and _request_limit_reached(request):
        form.is_valid()
        form.add_error(None, "Too many access requests from your network in the last hour. Please try again later.")
        return render(request, "accounts/agency_request.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.request_agency_access(
                email=d["email"],
                password=d["password1"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                title=d["title"],
                badge_number=d["badge_number"],
                phone=d["phone"],
                agency=d["agency"],
                new_agency_name=d["new_agency_name"],
                new_agency_level=d["new_agency_level"],
                new_agency_states=form.agency_states(),
                new_agency_phone=d["new_agency_phone"],
                request=request,
            )
        except ValidationError as exc:
            mapping = {"jurisdiction": "new_agency_states", "main_phone": "new_agency_phone", "agency_level": "new_agency_level",
                       "name": "new_agency_name", "password": "password1"}
            if hasattr(exc, "error_dict"):
                exc = ValidationError({mapping.get(k, k): v for k, v in exc.message_dict.items()})
            apply_errors(form, exc)
        else:
            _count_request(request)
            return HttpResponseRedirect(reverse("accounts:agency_request_sent"))
    return render(request, "accounts/agency_request.html", {"form": form}, status=400 if form.errors else 200)


# Successful access requests per source address per hour: the form is public, and every
# request costs a consortium analyst a phone call.
AGENCY_REQUESTS_PER_HOUR = 5


def _request_key(request: HttpRequest) -> str:
    return f"rt:agency-request:{request.META.get('REMOTE_ADDR', '')}"


def _request_limit_reached(request: HttpRequest) -> bool:
    from django.core.cache import cache

    return int(cache.get(_request_key(request), 0)) >= AGENCY_REQUESTS_PER_HOUR


def _count_request(request: HttpRequest) -> None:
    from django.core.cache import cache

    key = _request_key(request)
    if not cache.add(key, 1, timeout=3600):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=3600)


def agency_request_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/agency_request_sent.html")
