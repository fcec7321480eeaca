"""Forms of the mentor portal. They validate input; the services do the writing."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core import sso
from mentors.models import DevelopmentGoal, KeyResult, Mentor, MentoringSession
from programs.vocabulary import Area, Industry, Language, Stage

CONFIDENCE_CHOICES = [
    (1, _("1 · not at all")),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, _("5 · certain")),
]
SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PortalLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        refusal = sso.password_login_refusal(user)  # an organization of theirs requires SSO
        if refusal:
            raise forms.ValidationError(refusal, code="sso_required")


class GoalForm(forms.ModelForm):
    class Meta:
        model = DevelopmentGoal
        fields = [
            "title",
            "why_it_matters",
            "target_date",
            "status",
            "visibility",
            "checkin_cadence_days",
            "practice_areas",
        ]
        widgets = {
            "why_it_matters": forms.Textarea(attrs={"rows": 3}),
            "target_date": DateInput(),
            "visibility": forms.RadioSelect,
        }

    practice_areas = forms.MultipleChoiceField(
        label=_("Areas this goal lets you practise"),
        choices=Area.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Matching proposes mentees who need them, if you share the goal with the program team."),
    )

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()


class KeyResultForm(forms.ModelForm):
    """Defines a key result; its current value moves only with check-ins."""

    class Meta:
        model = KeyResult
        fields = ["title", "start_value", "target_value", "unit"]
        widgets = {
            "start_value": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "target_value": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        }

    def clean(self):
        cleaned = super().clean()
        start, target = cleaned.get("start_value"), cleaned.get("target_value")
        if start is not None and target is not None and start == target:
            self.add_error(
                "target_value", _("The target must differ from the start value, or there is nothing to measure.")
            )
        return cleaned


class BaseKeyResultFormSet(forms.BaseModelFormSet):
    """Key results of one goal. Existing rows are looked up in the given (scoped) queryset only."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Django builds the hidden id field on the model's default manager, which
        # would accept any key result's id; limit it to this goal's key results.
        form.fields[self._pk_field.name].queryset = self.get_queryset()

    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise forms.ValidationError(_("Add at least one key result: it is how progress is measured."))


KeyResultFormSet = forms.modelformset_factory(
    KeyResult, form=KeyResultForm, formset=BaseKeyResultFormSet, extra=1, can_delete=True
)


class GoalCheckInForm(forms.Form):
    """One value per key result, plus a note, a confidence and the goal's status."""

    confidence = forms.TypedChoiceField(
        label=_("Confidence"), choices=CONFIDENCE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    status = forms.ChoiceField(label=_("Status"), choices=DevelopmentGoal.Status.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, goal: DevelopmentGoal, key_results, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].initial = goal.status
        self.key_results = list(key_results)
        for key_result in self.key_results:
            label = f"{key_result.title} ({key_result.unit})" if key_result.unit else key_result.title
            self.fields[f"value_{key_result.pk}"] = forms.DecimalField(
                label=label,
                initial=key_result.current_value,
                max_digits=14,
                decimal_places=2,
                help_text=_("Start %(start)s → target %(target)s")
                % {"start": _number(key_result.start_value), "target": _number(key_result.target_value)},
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
        self.order_fields([f"value_{kr.pk}" for kr in self.key_results] + ["confidence", "status", "note"])

    def key_result_values(self) -> dict[int, object]:
        return {kr.pk: self.cleaned_data[f"value_{kr.pk}"] for kr in self.key_results}


def _number(value) -> str:
    return f"{value.normalize():f}" if value is not None else ""


class SessionForm(forms.ModelForm):
    attendees = forms.ModelMultipleChoiceField(
        label=_("Mentees present"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = MentoringSession
        fields = ["held_on", "duration_minutes", "topics", "notes", "next_steps"]
        widgets = {
            "held_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "next_steps": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, mentees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = mentees


class HelpRequestReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write a reply first."))
        return body


class ApproachForm(forms.Form):
    format = forms.CharField(
        label=_("Format"), max_length=200, required=False, help_text=_("For example: 1:1 video calls, office hours.")
    )
    cadence = forms.CharField(
        label=_("Cadence"), max_length=200, required=False, help_text=_("For example: every two weeks.")
    )
    focus = forms.CharField(
        label=_("Focus"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you will concentrate on with your mentees."),
    )


class ProfileForm(forms.ModelForm):
    expertise = forms.CharField(
        label=_("Expertise areas"), required=False, help_text=_("Separate them with commas."), max_length=500
    )

    class Meta:
        model = Mentor
        fields = ["bio", "motivation", "expertise", "availability", "capacity", "other_affiliations"]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 3}),
            "motivation": forms.Textarea(attrs={"rows": 3}),
            "other_affiliations": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model's help texts speak to program managers; here the mentor reads them.
        self.fields["motivation"].help_text = _("Why you mentor, and what you want to get from it for yourself.")
        self.fields["capacity"].help_text = _("How many mentees you can take on at once.")
        if self.instance and isinstance(self.instance.expertise, list):
            self.initial["expertise"] = ", ".join(self.instance.expertise)

    def clean_expertise(self) -> list[str]:
        return [item.strip() for item in self.cleaned_data["expertise"].split(",") if item.strip()]


class MatchingProfileForm(forms.Form):
    """What matching reads about a mentor: areas, industries, stages and languages, from fixed lists."""

    expertise_areas = forms.MultipleChoiceField(
        label=_("Areas you can help with"), choices=Area.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    industries = forms.MultipleChoiceField(
        label=_("Industries you know"), choices=Industry.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    stages = forms.MultipleChoiceField(
        label=_("Stages you like to help"), choices=Stage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you mentor in"),
        choices=Language.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class InvitationAcceptForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    password1 = forms.CharField(
        label=_("Choose a password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class SessionRatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How useful was the session? (1-5)"), choices=SCORE_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything the mentor should know?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your mentor sees your rating and comment without your name."),
    )


class OrganizationSwitchForm(forms.Form):
    organization = forms.IntegerField()
