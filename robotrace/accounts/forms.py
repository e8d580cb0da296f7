"""HTML forms of the accounts pages. Validation of meaning stays in services; forms only
shape input and show the service's errors next to the right field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from robotrace.accounts.models import ApiKey, Organisation, User


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, next to the field it names."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, f"{field}: {message}" if target is None and field != "__all__" else message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _split_states(raw: str) -> list[str]:
    return [p.strip().upper() for p in raw.replace(";", ",").replace(" ", ",").split(",") if p.strip()]


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=80, required=False, help_text="Short name used in URLs and API answers; made from the name if blank.")
    kind = forms.ChoiceField(choices=Organisation.Kind.choices)
    # provider
    frn = forms.CharField(label="FCC Registration Number (FRN)", max_length=10, required=False)
    ocn = forms.CharField(label="Operating Company Number (OCN)", max_length=8, required=False)
    country = forms.CharField(max_length=2, required=False, initial="US")
    rmd_number = forms.CharField(label="Robocall Mitigation Database number", max_length=40, required=False)
    spc = forms.CharField(label="STIR/SHAKEN SPC", max_length=16, required=False)
    # reporter
    reporter_type = forms.ChoiceField(choices=[("", "—")] + list(Organisation.ReporterType.choices), required=False)
    # agency
    agency_level = forms.ChoiceField(choices=[("", "—")] + list(Organisation.AgencyLevel.choices), required=False)
    jurisdiction = forms.CharField(required=False, help_text="US states and territories, e.g. NC, SC (blank for federal).")
    main_phone = forms.CharField(label="Main switchboard number", max_length=30, required=False, help_text="Used to call back and verify people who ask for access.")

    def service_fields(self) -> dict[str, object]:
        d = self.cleaned_data
        kind = d["kind"]
        if kind == Organisation.Kind.PROVIDER:
            return {k: d[k] for k in ("frn", "ocn", "country", "rmd_number", "spc")}
        if kind == Organisation.Kind.REPORTER:
            return {"reporter_type": d["reporter_type"]}
        if kind == Organisation.Kind.AGENCY:
            return {"agency_level": d["agency_level"], "jurisdiction": _split_states(d["jurisdiction"]), "main_phone": d["main_phone"]}
        return {}


class UserCreateForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    title = forms.CharField(max_length=120, required=False)
    phone = forms.CharField(max_length=30, required=False)
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.MEMBER)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Initial password: at least 15 characters, not a common password, not the organisation's name. "
        "Hand it over out of band; people in consortium and agency organisations enrol an authenticator at first sign-in.",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=User.Role.choices)


class ApprovalForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect)
    method = forms.ChoiceField(
        label="How was the requester verified?", choices=[("", "—")] + list(User.Verification.choices), required=False
    )
    notes = forms.CharField(
        label="Verification notes",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Who answered at the agency's main number, when, and what they confirmed. For a rejection, why.",
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system uses the key, e.g. “switch CDR exporter”.")
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)


class AgencyRequestForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(label="Official e-mail")
    title = forms.CharField(max_length=120, label="Title or position")
    badge_number = forms.CharField(max_length=40, required=False, label="Badge or employee number")
    phone = forms.CharField(max_length=30, label="Direct phone")
    agency = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False, empty_label="My agency is not listed")
    new_agency_name = forms.CharField(max_length=200, required=False, label="Agency name")
    new_agency_level = forms.ChoiceField(choices=[("", "—")] + list(Organisation.AgencyLevel.choices), required=False, label="Level")
    new_agency_states = forms.CharField(required=False, label="Jurisdiction (states)", help_text="e.g. NC or NC, SC; blank for federal.")
    new_agency_phone = forms.CharField(max_length=30, required=False, label="Agency main switchboard number")
    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text="At least 15 characters. A passphrase of several words works well.")
    password2 = forms.CharField(label="Repeat the password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    attest = forms.BooleanField(
        label="I request access in my official capacity for law-enforcement purposes and understand that false "
        "statements may be prosecuted."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # forwarded to Django's form as given
        from robotrace.accounts.queries import agencies_for_request

        self.fields["agency"].queryset = agencies_for_request()  # type: ignore[attr-defined]  # the agency field is a ModelChoiceField

    def clean(self) -> dict[str, object]:
        d = super().clean() or {}
        if d.get("password1") and d.get("password2") and d["password1"] != d["password2"]:
            self.add_error("password2", "The two passwords differ.")
        if not d.get("agency"):
            if not d.get("new_agency_name"):
                self.add_error("agency", "Choose your agency, or fill in the new agency below.")
            if not d.get("new_agency_level"):
                self.add_error("new_agency_level", "Say whether the new agency is state or federal.")
            if not d.get("new_agency_phone"):
                self.add_error("new_agency_phone", "Give the agency's main number: we call it to verify you.")
        return d

    def agency_states(self) -> list[str]:
        return _split_states(self.cleaned_data.get("new_agency_states") or "")
