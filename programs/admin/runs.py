"""Runs: the change page with the D-n timeline, and the URLs of the run's own pages (in run_pages)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline
from programs import selectors, services
from programs.admin.base import (
    ConstantQueryChoicesMixin,
    assignment_form,
    current_request,
    save_assignments_through_service,
)
from programs.admin.run_pages import (
    DashboardView,
    ExportView,
    ImportView,
    MoveDeadlineView,
    PlanView,
    RotateCalendarView,
    timeline_context,
)
from programs.models import (
    Enrollment,
    MentorAssignment,
    Milestone,
    Run,
)


class CappedRowsInline:
    """An inline of the run page that shows at most ``rows_shown`` rows, with a link to the list
    of all of them: drawing a form row costs about a millisecond, and a run has hundreds of
    enrollments and mentor assignments. ``RunAdmin.get_formset_kwargs`` narrows the rows and
    sets ``rows_total`` (on this inline instance, made anew for each request)."""

    rows_shown = 10
    rows_total = None
    all_rows_url_name = ""
    template = "admin/programs/run/capped_tabular.html"

    def rows_all_url(self):
        return reverse(self.all_rows_url_name) + f"?run__id__exact={self.parent_run_id}"

    @property
    def rows_hidden(self):
        return self.rows_total is not None and self.rows_total > self.rows_shown


class EnrollmentInline(CappedRowsInline, ConstantQueryChoicesMixin, TenantInline):
    """The run's enrollments. Who is enrolled is shown, not chosen, here: a select of
    every participant on every row would make the page grow with the organization
    (10,000 participants × 200 rows). New enrollments are added on their own page
    (with a search box) or by import; see the buttons above the form. The first
    ``rows_shown`` are listed; the rest in the enrollment list (a link says how many)."""

    model = Enrollment
    all_rows_url_name = "admin:programs_enrollment_changelist"
    fields = ["participant", "team", "status", "last_contact_at", "open_link"]
    readonly_fields = ["participant", "team", "last_contact_at", "open_link"]
    show_change_link = True
    ordering = ["id"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True).select_related("participant", "team")

    @admin.display(description=_("details"))
    def open_link(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:programs_enrollment_change", args=[obj.pk]), _("open"))


class MilestoneInline(ConstantQueryChoicesMixin, TenantInline):
    model = Milestone
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 40})}}
    fields = ["name", "days_before_deadline", "due_on", "deliverable", "completed_at"]
    readonly_fields = ["completed_at"]
    ordering = ["due_on", "id"]
    create_service = services.milestone_create
    update_service = services.milestone_update


class RunMentorAssignmentInline(CappedRowsInline, ConstantQueryChoicesMixin, TenantInline):
    """The run's mentor assignments, shown (and removable) here; assigning is done on
    the assignment page, whose search boxes stay small however many mentors and
    enrollments there are. The first ``rows_shown`` are listed, the rest in the list."""

    model = MentorAssignment
    all_rows_url_name = "admin:programs_mentorassignment_changelist"
    ordering = ["id"]
    fields = ["mentor", "enrollment"]
    readonly_fields = ["mentor", "enrollment"]
    verbose_name_plural = _("mentors")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("mentor__user", "enrollment__participant", "enrollment__team")
        )

    def narrow_choices(self, db_field, queryset, parent):
        if db_field.name == "enrollment" and parent is not None:
            return queryset.filter(run=parent)
        return queryset

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = assignment_form(
            formset.form,
            run_of=lambda form, cleaned: obj,
            enrollment_of=lambda form, cleaned: cleaned.get("enrollment"),
        )
        return formset


@admin.register(Run)
class RunAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["name", "program", "status", "starts_on", "final_deadline", "enrollment_count", "dashboard_link"]
    list_filter = ["status", "program"]
    list_select_related = ["program"]
    search_fields = ["name", "program__name"]
    date_hierarchy = "starts_on"
    inlines = [EnrollmentInline, MilestoneInline, RunMentorAssignmentInline]
    change_form_template = "admin/programs/run/change_form.html"
    readonly_fields = ["calendar_feed"]
    create_service = services.run_create
    update_service = services.run_update

    def get_fieldsets(self, request, obj=None):
        main = ["program", "name", "status", ("starts_on", "ends_on"), "final_deadline"]
        fieldsets = [
            (None, {"fields": main}),
            (_("Rhythm"), {"fields": ["checkin_cadence_days", "skip_non_working_days"]}),
        ]
        if obj is not None:
            fieldsets.append((_("Calendar"), {"fields": ["calendar_feed"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # Moving the deadline re-plans milestones: it goes through the confirmation view.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("final_deadline")
        return fields

    def get_queryset(self, request):
        # A correlated subquery, not a join with GROUP BY: the changelist's count and the date
        # hierarchy's queries then read the runs alone instead of joining every enrollment.
        current = (
            Enrollment.objects.filter(run=OuterRef("pk"), archived_at__isnull=True)
            .order_by()
            .values("run")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(enrollment_total=Coalesce(Subquery(current, output_field=IntegerField()), 0))
        )

    @admin.display(description=_("enrollments"), ordering="enrollment_total")
    def enrollment_count(self, obj):
        return obj.enrollment_total

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:programs_run_dashboard", args=[obj.pk]), _("open"))

    def get_object(self, request, object_id, from_field=None):
        # The change view asks three times (the timeline, the 404 check, Django's own view):
        # one query per request, kept on the request (never on this shared instance).
        cache = request.__dict__.setdefault("_programs_run_objects", {})
        key = (object_id, from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, CappedRowsInline) and obj is not None and obj.pk is not None:
            rows = kwargs["queryset"].filter(run=obj)
            inline.rows_total, inline.parent_run_id = rows.count(), obj.pk
            if inline.rows_total > inline.rows_shown:
                # The same first rows on the page and when it is posted back.
                kwargs["queryset"] = rows.filter(pk__in=rows.values("pk")[: inline.rows_shown])
        return kwargs

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, admin.utils.unquote(object_id))
        if run is not None:
            extra_context = {**(extra_context or {}), **self._timeline_for(run)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _timeline_for(self, run: Run) -> dict:
        organization = run.organization
        milestones = list(selectors.milestones_for_run(organization=organization, run=run))
        completion = selectors.milestone_completion_counts(organization=organization, run=run)
        return timeline_context(run, milestones, completion)

    @admin.display(description=_("calendar feed"))
    def calendar_feed(self, obj):
        if obj is None or obj.pk is None:
            return ""
        url = calendar_url(current_request.get(), obj)
        return format_html(
            '<input type="text" readonly value="{}" style="width: 40em" data-select-on-click>'
            '<div class="help">{} <a href="{}">{}</a></div>',
            url,
            _("Anyone with this secret address can subscribe to the run's milestones from their calendar app."),
            reverse("admin:programs_run_rotate_calendar", args=[obj.pk]),
            _("Replace the address"),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        current_request.set(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is MentorAssignment:
            save_assignments_through_service(
                formset, run=form.instance, enrollment_of=lambda assignment: assignment.enrollment
            )
            return
        super().save_formset(request, form, formset, change)
        if formset.model is Enrollment:
            for enrollment in formset.new_objects:
                services.enrollment_emit(enrollment=enrollment, created=True)
            for enrollment, _changed in formset.changed_objects:
                services.enrollment_emit(enrollment=enrollment, created=False)

    # --- the run's own pages (programs/admin/run_pages.py) ---

    def get_urls(self):
        def page(view_class):
            return self.admin_site.admin_view(view_class.as_view(model_admin=self))

        return [
            path("<path:object_id>/dashboard/", page(DashboardView), name="programs_run_dashboard"),
            path("<path:object_id>/plan/", page(PlanView), name="programs_run_plan"),
            path("<path:object_id>/move-deadline/", page(MoveDeadlineView), name="programs_run_move_deadline"),
            path("<path:object_id>/import/", page(ImportView), name="programs_run_import"),
            path("<path:object_id>/export/<str:fmt>/", page(ExportView), name="programs_run_export"),
            path("<path:object_id>/rotate-calendar/", page(RotateCalendarView), name="programs_run_rotate_calendar"),
            *super().get_urls(),
        ]


def calendar_url(request, run: Run) -> str:
    path_ = reverse("programs:run_calendar", args=[run.organization.slug, run.calendar_token])
    return request.build_absolute_uri(path_) if request is not None else path_
