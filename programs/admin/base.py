"""What the program manager's admin pages share: constant-query selects, the request being drawn, labels."""

from __future__ import annotations

import contextvars

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from core.forms import form_errors_from
from programs import services
from programs.models import (
    Enrollment,
    Milestone,
    MilestoneTemplate,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Querysets behind foreign-key selects: what each option's label needs, fetched in one go.
# Keyed by model label: the mentor is named, not imported (mentors builds on programs).
_CHOICE_RELATIONS = {
    Enrollment._meta.label_lower: ("participant", "team"),
    "mentors.mentor": ("user",),
    Milestone._meta.label_lower: (),
    MilestoneTemplate._meta.label_lower: ("program",),
}


class ConstantQueryChoicesMixin:
    """Builds each foreign-key select of an inline once per request, not once per row.

    Without this, every inline row runs its own query for the options of every select,
    so the page would grow by a query per row.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        relations = _CHOICE_RELATIONS.get(related._meta.label_lower)
        if relations is not None and "queryset" not in kwargs:
            kwargs["queryset"] = related._default_manager.select_related(*relations)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.get_autocomplete_fields(request):
            # An autocomplete widget renders only the chosen option and needs the real
            # ModelChoiceIterator, so there is no list of choices to cache.
            return formfield
        if formfield is not None and hasattr(formfield, "queryset"):
            parent = getattr(request, "_programs_parent", None)
            formfield.queryset = self.narrow_choices(db_field, formfield.queryset, parent)
            cache = request.__dict__.setdefault("_programs_choice_cache", {})
            key = (type(self).__name__, db_field.name)
            if key not in cache:
                cache[key] = list(formfield.choices)
            formfield.choices = cache[key]
        return formfield

    def narrow_choices(self, db_field, queryset, parent):
        return queryset

    def get_formset(self, request, obj=None, **kwargs):
        request._programs_parent = obj
        return super().get_formset(request, obj, **kwargs)


# The request whose change form is being drawn, for read-only fields that need its address
# (absolute links). Per thread and task, unlike an attribute on the shared ModelAdmin.
current_request: contextvars.ContextVar = contextvars.ContextVar("programs_admin_request", default=None)


def assignment_form(base, *, run_of, enrollment_of):
    """A mentor-assignment form that shows a refused assignment (capacity, status) as a field error."""

    class MentorAssignmentForm(base):
        def clean(self):
            cleaned = super().clean()
            mentor, run = cleaned.get("mentor"), run_of(self, cleaned)
            if self.instance.pk is None and mentor is not None and run is not None:
                try:
                    services.mentor_assignment_validate(
                        organization=run.organization, run=run, mentor=mentor, enrollment=enrollment_of(self, cleaned)
                    )
                except ValidationError as error:
                    form_errors_from(self, error)
            return cleaned

    return MentorAssignmentForm


def save_assignments_through_service(formset, *, run, enrollment_of) -> None:
    instances = formset.save(commit=False)  # sets deleted_objects too (a run added with no assignments has none)
    for obj in formset.deleted_objects:
        services.mentor_unassign(organization=run.organization, assignment=obj)
    for instance in instances:
        if instance.pk is None:
            services.mentor_assign(
                organization=run.organization, run=run, mentor=instance.mentor, enrollment=enrollment_of(instance)
            )
        else:
            instance.save()


def duration_label(delta) -> str:
    """'3d 4h' / '5h 10m': a compact age for lists and the dashboard."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return gettext("%(d)dd %(h)dh") % {"d": days, "h": hours}
    if hours:
        return gettext("%(h)dh %(m)dm") % {"h": hours, "m": minutes}
    return gettext("%(m)dm") % {"m": minutes}
