from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from annotator.selectors import AuditFilter


class AuditFilterForm(forms.Form):
    """The audit page's filters (GET); the same names as the API's."""

    action = forms.CharField(required=False, max_length=500)
    user = forms.IntegerField(required=False, min_value=1, label="User id")
    object_type = forms.CharField(required=False, max_length=32)
    object_id = forms.IntegerField(required=False, min_value=1)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Until (inclusive)"
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def audit_filter(self) -> AuditFilter:
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        since = datetime.combine(data["since"], time.min, tz) if data.get("since") else None
        until = datetime.combine(data["until"], time.max, tz) if data.get("until") else None
        return AuditFilter(
            actions=tuple(a.strip() for a in (data.get("action") or "").split(",") if a.strip()),
            actor_id=data.get("user"),
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id"),
            since=since,
            until=until,
            before_id=data.get("before"),
        )
