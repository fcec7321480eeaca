"""Enrollments and mentor assignments (through the services: capacity, one write path)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline, TenantStackedInline
from programs import links, services
from programs.admin.base import (
    ConstantQueryChoicesMixin,
    assignment_form,
    current_request,
    save_assignments_through_service,
)
from programs.models import (
    CheckIn,
    Enrollment,
    MentorAssignment,
    MilestoneProgress,
)


class EnrollmentMentorInline(ConstantQueryChoicesMixin, TenantInline):
    model = MentorAssignment
    fk_name = "enrollment"
    fields = ["mentor", "run"]
    readonly_fields = ["run"]
    verbose_name_plural = _("mentors")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("mentor__user", "run", "enrollment__participant", "enrollment__team")
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = assignment_form(
            formset.form,
            run_of=lambda form, cleaned: form.instance.enrollment.run if obj is not None else None,
            enrollment_of=lambda form, cleaned: obj,
        )
        return formset


class MilestoneProgressInline(ConstantQueryChoicesMixin, TenantInline):
    model = MilestoneProgress
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["milestone", "status", "evidence_url", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("milestone").order_by("milestone__due_on")

    def narrow_choices(self, db_field, queryset, parent):
        if db_field.name == "milestone" and parent is not None:
            return queryset.filter(run_id=parent.run_id)
        return queryset


class CheckInInline(TenantStackedInline):
    model = CheckIn
    fields = ["created_at", "done", "next", "blockers", "confidence"]
    readonly_fields = fields
    can_delete = False
    max_num = 0
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True)


@admin.register(Enrollment)
class EnrollmentAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["__str__", "run", "status", "last_contact_at", "mentor_names"]
    list_filter = ["status", "run"]
    list_select_related = ["run", "participant", "team"]
    search_fields = ["participant__name", "participant__email", "participant__company", "team__name"]
    fields = [
        "run",
        "participant",
        "team",
        "status",
        "success_definition",
        "commitments",
        "last_contact_at",
        "participant_links",
    ]
    readonly_fields = ["last_contact_at", "participant_links"]
    autocomplete_fields = ["participant", "team"]
    inlines = [EnrollmentMentorInline, MilestoneProgressInline, CheckInInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("mentor_assignments__mentor__user")

    @admin.display(description=_("mentors"))
    def mentor_names(self, obj):
        return ", ".join(sorted({str(a.mentor) for a in obj.mentor_assignments.all()}))

    @admin.display(description=_("participant links"))
    def participant_links(self, obj):
        if obj is None or obj.pk is None:
            return ""
        request = current_request.get()
        rows = [
            (label, request.build_absolute_uri(links.participant_link(obj, purpose)))
            for purpose, label in (
                (links.PURPOSE_HOME, _("Overview (all actions)")),
                (links.PURPOSE_CHECK_IN, _("Check-in")),
                (links.PURPOSE_PROGRESS, _("Milestone progress")),
                (links.PURPOSE_HELP, _("Help request")),
            )
        ]
        return format_html(
            "{}<div class='help'>{}</div>",
            format_html_join(
                "",
                '<div><strong>{}</strong><br><input type="text" readonly value="{}" style="width: 46em" '
                "data-select-on-click></div>",
                rows,
            ),
            _("Send these to the participant; they work without an account for %(days)d days.")
            % {"days": links.default_valid_days()},
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        current_request.set(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            services.enrollment_emit(enrollment=obj, created=not change)

    def save_formset(self, request, form, formset, change):
        if formset.model is MentorAssignment:
            # Through the service: it enforces the mentor's capacity.
            save_assignments_through_service(
                formset, run=form.instance.run, enrollment_of=lambda _assignment: form.instance
            )
            return
        if formset.model is MilestoneProgress:
            instances = formset.save(commit=False)
            for obj in formset.deleted_objects:
                obj.delete()
            for instance in instances:
                services.milestone_progress_update(
                    organization=form.instance.organization,
                    enrollment=form.instance,
                    milestone=instance.milestone,
                    status=instance.status,
                    evidence_url=instance.evidence_url,
                    note=instance.note,
                )
            return
        super().save_formset(request, form, formset, change)


@admin.register(MentorAssignment)
class MentorAssignmentAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["mentor", "run", "enrollment"]
    list_filter = ["run"]
    list_select_related = ["mentor__user", "run", "enrollment__participant", "enrollment__team"]
    search_fields = ["mentor__user__name", "mentor__user__email", "enrollment__participant__name"]
    autocomplete_fields = ["enrollment"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = services.mentor_assign(
            organization=obj.run.organization, run=obj.run, mentor=obj.mentor, enrollment=obj.enrollment
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at

    def get_form(self, request, obj=None, change=False, **kwargs):
        return assignment_form(
            super().get_form(request, obj, change, **kwargs),
            run_of=lambda form, cleaned: cleaned.get("run"),
            enrollment_of=lambda form, cleaned: cleaned.get("enrollment"),
        )

    def delete_model(self, request, obj):
        services.mentor_unassign(organization=obj.organization, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.mentor_unassign(organization=assignment.organization, assignment=assignment)
