from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from matching.models import MAX_RANK
from programs.services import PARTICIPANT_TEXT_MAX_LENGTH
from programs.vocabulary import Area, Industry, Stage, label_of


def mentor_label(mentor) -> str:
    areas = ", ".join(label_of(Area, code) for code in (mentor.expertise_areas or [])[:3])
    return f"{mentor} · {areas}" if areas else str(mentor)


def add_rank_fields(form, options, *, label, first) -> dict:
    """Add ``choice_1`` … ``choice_<MAX_RANK>`` selects over ``options``; return them by key."""
    by_key = {str(option.pk): option for option in options}
    choices = [("", "—"), *((key, label(option)) for key, option in by_key.items())]
    labels = [first, _("Second choice"), _("Third choice")]
    for rank in range(1, MAX_RANK + 1):
        form.fields[f"choice_{rank}"] = forms.ChoiceField(
            label=labels[rank - 1] if rank <= len(labels) else _("Choice %(rank)d") % {"rank": rank},
            choices=choices,
            required=False,
        )
    return by_key


def ranked_choices(form, cleaned: dict, by_key: dict, already_chosen) -> list:
    """The chosen options, first choice first; one chosen twice is an error on its later select."""
    chosen = []
    for rank in range(1, MAX_RANK + 1):
        key = cleaned.get(f"choice_{rank}")
        if not key:
            continue
        if by_key[key] in chosen:
            form.add_error(f"choice_{rank}", already_chosen)
            continue
        chosen.append(by_key[key])
    return chosen


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
        self.mentors = add_rank_fields(self, mentors, label=mentor_label, first=_("First choice of mentor"))

    def clean(self):
        cleaned = super().clean()
        cleaned["mentors"] = ranked_choices(self, cleaned, self.mentors, _("You chose this mentor already."))
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
        self.enrollments = add_rank_fields(self, enrollments, label=mentee_label, first=_("First choice of mentee"))

    def clean(self):
        cleaned = super().clean()
        cleaned["enrollments"] = ranked_choices(self, cleaned, self.enrollments, _("You chose this mentee already."))
        return cleaned
