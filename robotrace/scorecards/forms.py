from __future__ import annotations

from django import forms

from robotrace.scorecards.models import Dispute


class DisputeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, min_length=10, help_text="What the evidence gets wrong, with traceback references")


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(choices=[(Dispute.Status.UPHELD, "Uphold (withdraw the flag)"), (Dispute.Status.REJECTED, "Reject (flag stands)")])
    resolution = forms.CharField(widget=forms.Textarea, help_text="Shown to the provider")
