from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from matching.models import MAX_RANK
from mentors.vocabulary import Area, Industry, Stage, label_of
from programs.services import PARTICIPANT_TEXT_MAX_LENGTH


def mentor_label(mentor) -> str:
    areas = ", ".join(label_of(Area, code) for code in (mentor.expertise_areas or [])[:3])
    return f"{mentor} · {areas}" if areas else str(mentor)


class ParticipantPreferencesForm(forms.Form):
    """A participant's needs in this run and up to three mentors, first choice first (phone-friendly)."""

    needs = forms.MultipleChoiceField(
        label=_("What do you want help with?"),
        choices=Area.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    industry = forms.ChoiceField(label=_("Industry"), choices=[("", "—"), *Industry.choices], required=False)
    stage = forms.ChoiceField(label=_("Stage"), choices=[("", "—"), *Stage.choices], required=False)
    mentor_wish = forms.CharField(
        label=_("What do you want from a mentor?"),
        required=False,
        max_length=PARTICIPANT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In your own words: how they could help, how often, in which language."),
    )

    def __init__(self, *args, mentors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.mentors = {str(mentor.pk): mentor for mentor in mentors}
        choices = [("", "—"), *((key, mentor_label(mentor)) for key, mentor in self.mentors.items())]
        for rank in range(1, MAX_RANK + 1):
            self.fields[f"choice_{rank}"] = forms.ChoiceField(
                label=[_("First choice of mentor"), _("Second choice"), _("Third choice")][rank - 1],
                choices=choices,
                required=False,
            )

    def clean(self):
        cleaned = super().clean()
        chosen = []
        for rank in range(1, MAX_RANK + 1):
            key = cleaned.get(f"choice_{rank}")
            if not key:
                continue
            if self.mentors[key] in chosen:
                self.add_error(f"choice_{rank}", _("You chose this mentor already."))
                continue
            chosen.append(self.mentors[key])
        cleaned["mentors"] = chosen
        return cleaned


def mentee_label(enrollment) -> str:
    needs = ", ".join(label_of(Area, code) for code in (enrollment.needs or [])[:3])
    return f"{enrollment} · {needs}" if needs else str(enrollment)


class MentorPreferencesForm(forms.Form):
    """A mentor's choice of up to three mentees in one run, first choice first (phone-friendly).

    Only the enrollments passed in can be chosen: an id of another run or organization, or
    one that is not a number, is an invalid choice like any other.
    """

    def __init__(self, *args, enrollments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollments = {str(enrollment.pk): enrollment for enrollment in enrollments}
        choices = [("", "—"), *((key, mentee_label(enrollment)) for key, enrollment in self.enrollments.items())]
        labels = [_("First choice of mentee"), _("Second choice"), _("Third choice")]
        for rank in range(1, MAX_RANK + 1):
            self.fields[f"choice_{rank}"] = forms.ChoiceField(
                label=labels[rank - 1] if rank <= len(labels) else _("Choice %(rank)d") % {"rank": rank},
                choices=choices,
                required=False,
            )

    def clean(self):
        cleaned = super().clean()
        chosen = []
        for rank in range(1, MAX_RANK + 1):
            key = cleaned.get(f"choice_{rank}")
            if not key:
                continue
            if self.enrollments[key] in chosen:
                self.add_error(f"choice_{rank}", _("You chose this mentee already."))
                continue
            chosen.append(self.enrollments[key])
        cleaned["enrollments"] = chosen
        return cleaned
