"""Forms of the participant pages, the mentor portal and the admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import RATING_MAX, RATING_MIN, Assessment, Level
from assessments.services import ObservationInput

RATING_CHOICES = [(str(n), str(n)) for n in range(RATING_MIN, RATING_MAX + 1)]

# Where a service's field errors land on the forms below (core.forms.form_errors_from).
SERVICE_FIELD_TO_FORM_FIELD = {"observations": "observed"}


class LevelAssessmentForm(forms.Form):
    """Choose a level, tick the behaviours seen, and give evidence."""

    level = forms.ChoiceField(label=_("Level"), widget=forms.RadioSelect)
    observed = forms.MultipleChoiceField(
        label=_("Behaviours observed"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=_("Evidence and notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What did you see or do that shows this level? Concrete examples help most."),
    )
    links = forms.CharField(
        label=_("Links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One web address per line: interview notes, prototypes, documents."),
    )

    def __init__(self, *args, levels: list[Level], assessment: Assessment | None = None, **kwargs):
        self.levels = levels
        self.indicators = {indicator.pk: indicator for level in levels for indicator in level.indicators.all()}
        if assessment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "level": str(assessment.level_id),
                "observed": [str(o.indicator_id) for o in assessment.observations.all()],
                "notes": assessment.notes,
                "links": "\n".join(assessment.links),
            }
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [(str(level.pk), str(level)) for level in levels]
        self.fields["observed"].choices = [(str(pk), str(indicator)) for pk, indicator in self.indicators.items()]

    def level_rows(self):
        """Levels with their indicators and whether each is selected, for the template."""
        selected_level = str(self["level"].value() or "")
        observed = {str(value) for value in (self["observed"].value() or [])}
        return [
            {
                "level": level,
                "checked": str(level.pk) == selected_level,
                "indicators": [
                    {"indicator": indicator, "checked": str(indicator.pk) in observed}
                    for indicator in level.indicators.all()
                ],
            }
            for level in self.levels
        ]

    def selected_level(self) -> Level:
        wanted = int(self.cleaned_data["level"])
        return next(level for level in self.levels if level.pk == wanted)

    def observations(self) -> list[ObservationInput]:
        return [ObservationInput(indicator=self.indicators[int(pk)]) for pk in self.cleaned_data["observed"]]

    def link_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]


class SurveyAnswerForm(forms.Form):
    """Importance and satisfaction per value statement, and three open questions."""

    own_values = forms.CharField(
        label=_("What do you value?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In your own words, one value per line: what matters to you that we did not list?"),
    )
    improve = forms.CharField(
        label=_("What should we improve?"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    stop = forms.CharField(label=_("What should we stop?"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, statements, response=None, **kwargs):
        self.statements = list(statements)
        if response is not None and "initial" not in kwargs:
            initial = {"own_values": response.own_values, "improve": response.improve, "stop": response.stop}
            for rating in response.ratings.all():
                initial[f"importance_{rating.statement_id}"] = str(rating.importance)
                initial[f"satisfaction_{rating.statement_id}"] = str(rating.satisfaction)
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for statement in self.statements:
            self.fields[f"importance_{statement.pk}"] = forms.ChoiceField(
                label=_("How important is it to you?"), choices=RATING_CHOICES, widget=forms.RadioSelect
            )
            self.fields[f"satisfaction_{statement.pk}"] = forms.ChoiceField(
                label=_("How satisfied are you with it?"), choices=RATING_CHOICES, widget=forms.RadioSelect
            )

    def statement_rows(self):
        return [
            {
                "statement": statement,
                "importance": self[f"importance_{statement.pk}"],
                "satisfaction": self[f"satisfaction_{statement.pk}"],
            }
            for statement in self.statements
        ]

    def ratings(self) -> dict[int, tuple[str, str]]:
        return {
            statement.pk: (
                self.cleaned_data[f"importance_{statement.pk}"],
                self.cleaned_data[f"satisfaction_{statement.pk}"],
            )
            for statement in self.statements
        }
