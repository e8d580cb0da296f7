from __future__ import annotations

from typing import Any, cast

from django import forms

from robotrace.providers.models import Provider


class ListField(forms.CharField):
    """A JSON list edited as comma-separated text."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list field: one value in, a list out
        text = super().to_python(value) or ""
        return [v.strip() for v in text.split(",") if v.strip()]


class ProviderForm(forms.ModelForm):
    dba_names = ListField(required=False, label="Doing-business-as names", help_text="Comma-separated")
    ocns = ListField(required=False, label="OCNs", help_text="Comma-separated")
    roles = forms.MultipleChoiceField(choices=Provider.Role.choices, required=False, widget=forms.CheckboxSelectMultiple)
    business_days = forms.MultipleChoiceField(
        choices=[(str(i), d) for i, d in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], 1)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means Monday to Friday",
    )

    class Meta:
        model = Provider
        fields = [
            "name", "dba_names", "frn", "ocns", "spc", "country", "roles", "status", "contact_name", "contact_email",
            "contact_phone", "fallback_contact_email", "timezone", "business_hours_start", "business_hours_end", "business_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [c for c in Provider.Status.choices if c[0] != Provider.Status.MERGED]
        if self.instance and self.instance.pk:
            self.initial["business_days"] = [str(d) for d in self.instance.business_days]

    def clean_business_days(self) -> list[int]:
        return [int(d) for d in self.cleaned_data.get("business_days") or []]

    def clean_frn(self) -> str:
        frn = (self.cleaned_data.get("frn") or "").strip()
        if frn and (not frn.isdigit() or len(frn) > 10):
            raise forms.ValidationError("an FRN is up to 10 digits")
        return frn.zfill(10) if frn else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("business_hours_start"), data.get("business_hours_end")
        if start is not None and end is not None and not (0 <= start < end <= 24):
            self.add_error("business_hours_end", "business hours must end after they start, within 0-24")
        return data


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Provider.objects.exclude(status=Provider.Status.MERGED), label="Merge into")
    reason = forms.CharField(required=False, max_length=300)
