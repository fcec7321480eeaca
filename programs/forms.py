"""Forms of the participant pages and the admin's run pages (planning, deadline move, import, calendar)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from programs.models import MilestoneProgress


class CheckInForm(forms.Form):
    done = forms.CharField(
        label=_("What did you do since the last check-in?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    next = forms.CharField(
        label=_("What will you do next?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    blockers = forms.CharField(
        label=_("What is blocking you?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=4000,
    )
    confidence = forms.TypedChoiceField(
        label=_("How confident are you about reaching your goal?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
        help_text=_("1 = not at all, 5 = very"),
    )


class HelpRequestForm(forms.Form):
    """Asking for help in AID form: Act, Impact, Desired outcome."""

    act = forms.CharField(
        label=_("Act: what happened, or what did you do?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    impact = forms.CharField(
        label=_("Impact: why does it matter, what does it affect?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )
    desired_outcome = forms.CharField(
        label=_("Desired outcome: what would good help look like?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class CommitmentsForm(forms.Form):
    """The participant's own definition of success and commitments, edited on their home page."""

    success_definition = forms.CharField(
        label=_("My definition of success"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text=_("What does success in this program look like for you, in your own words?"),
    )
    commitments = forms.CharField(
        label=_("My commitments"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4000,
        help_text=_("One commitment per line."),
    )


class ProgressForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneProgress.Status.choices)
    evidence_url = forms.URLField(label=_("Link to your work"), required=False, assume_scheme="https", max_length=200)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)


class DeadlineMoveForm(forms.Form):
    final_deadline = forms.DateField(label=_("New final deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    accept_before_start = forms.BooleanField(
        label=_("I accept milestones that fall before the run starts"), required=False
    )
    move_finished = forms.BooleanField(
        label=_("Also move the finished milestones (they keep their dates otherwise)"), required=False
    )


class PlanForm(forms.Form):
    accept_before_start = forms.BooleanField(
        label=_("I accept milestones that fall before the run starts"), required=False
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, UTF-8 with BOM or CP949 from Korean Excel) or XLSX, with a header row."),
    )


class CalendarRotateForm(forms.Form):
    """Confirms replacing a run's calendar address: no fields, posting the page is the confirmation."""
