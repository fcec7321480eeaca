"""Runs: the change page with the D-n timeline, plan, deadline move, dashboard, import and export."""

from __future__ import annotations

import base64
import binascii
import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_base import TenantAdmin, TenantInline
from programs import imports, planning, selectors, services
from programs.admin.base import (
    MAX_UPLOAD_BYTES,
    ConstantQueryChoicesMixin,
    assignment_form,
    current_request,
    save_assignments_through_service,
)
from programs.extensions import dashboard_parts
from programs.forms import DeadlineMoveForm, ImportUploadForm, PlanForm
from programs.models import (
    Enrollment,
    MentorAssignment,
    Milestone,
    Run,
)


class EnrollmentInline(ConstantQueryChoicesMixin, TenantInline):
    """The run's enrollments. Who is enrolled is shown, not chosen, here: a select of
    every participant on every row would make the page grow with the organization
    (10,000 participants × 200 rows). New enrollments are added on their own page
    (with a search box) or by import; see the buttons above the form."""

    model = Enrollment
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


class RunMentorAssignmentInline(ConstantQueryChoicesMixin, TenantInline):
    """The run's mentor assignments, shown (and removable) here; assigning is done on
    the assignment page, whose search boxes stay small however many mentors and
    enrollments there are."""

    model = MentorAssignment
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
class RunAdmin(TenantAdmin):
    list_display = ["name", "program", "status", "starts_on", "final_deadline", "enrollment_count", "dashboard_link"]
    list_filter = ["status", "program"]
    list_select_related = ["program"]
    search_fields = ["name", "program__name"]
    date_hierarchy = "starts_on"
    inlines = [EnrollmentInline, MilestoneInline, RunMentorAssignmentInline]
    change_form_template = "admin/programs/run/change_form.html"
    readonly_fields = ["calendar_feed"]

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
        return (
            super()
            .get_queryset(request)
            .annotate(
                enrollment_total=Count("enrollments", filter=Q(enrollments__archived_at__isnull=True), distinct=True)
            )
        )

    @admin.display(description=_("enrollments"), ordering="enrollment_total")
    def enrollment_count(self, obj):
        return obj.enrollment_total

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:programs_run_dashboard", args=[obj.pk]), _("open"))

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

    # --- the run's own pages ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/dashboard/", view(self.dashboard_view), name="programs_run_dashboard"),
            path("<path:object_id>/plan/", view(self.plan_view), name="programs_run_plan"),
            path("<path:object_id>/move-deadline/", view(self.move_deadline_view), name="programs_run_move_deadline"),
            path("<path:object_id>/import/", view(self.import_view), name="programs_run_import"),
            path("<path:object_id>/export/<str:fmt>/", view(self.export_view), name="programs_run_export"),
            path(
                "<path:object_id>/rotate-calendar/",
                view(self.rotate_calendar_view),
                name="programs_run_rotate_calendar",
            ),
            *super().get_urls(),
        ]

    def _run_or_404(self, request, object_id, *, change: bool = False) -> Run:
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        allowed = self.has_change_permission(request, run) if change else self.has_view_permission(request, run)
        if not allowed:
            raise Http404
        return run

    def _context(self, request, run, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": run,
            "run": run,
            "title": title,
            "has_change_permission": self.has_change_permission(request, run),
            **extra,
        }

    def dashboard_view(self, request, object_id):
        run = self._run_or_404(request, object_id)
        dashboard = selectors.run_dashboard(organization=run.organization, run=run)
        context = self._context(
            request,
            run,
            gettext("Dashboard: %(run)s") % {"run": run.name},
            dashboard=dashboard,
            # What other apps know of the run (the reminders' delivery health: programs/extensions.py).
            **dashboard_parts(organization=run.organization, run=run),
            now=timezone.now(),
            **timeline_context(
                run,
                [m.milestone for m in dashboard.milestones],
                {m.milestone.pk: (m.done, m.total) for m in dashboard.milestones},
            ),
        )
        return TemplateResponse(request, "admin/programs/run/dashboard.html", context)

    def plan_view(self, request, object_id):
        run = self._run_or_404(request, object_id, change=True)
        organization = run.organization
        form = PlanForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                milestones = services.run_plan(
                    organization=organization, run=run, accept_before_start=form.cleaned_data["accept_before_start"]
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, gettext("%(n)d milestones planned.") % {"n": len(milestones)})
                return HttpResponseRedirect(reverse("admin:programs_run_change", args=[run.pk]))
        preview = services.run_plan_preview(organization=organization, run=run)
        context = self._context(
            request,
            run,
            gettext("Plan milestones backwards: %(run)s") % {"run": run.name},
            preview=preview,
            form=form,
            plan_rows=[
                (row, planning.holiday_name(row.planned.counted_on, country=organization.country))
                for row in preview.rows
            ],
        )
        return TemplateResponse(request, "admin/programs/run/plan.html", context)

    def move_deadline_view(self, request, object_id):
        """Two steps: the PM sees old and new dates side by side, then confirms."""
        run = self._run_or_404(request, object_id, change=True)
        organization = run.organization
        preview = None
        form = DeadlineMoveForm(
            request.POST if request.method == "POST" else None, initial={"final_deadline": run.final_deadline}
        )
        if request.method == "POST" and form.is_valid():
            new_deadline = form.cleaned_data["final_deadline"]
            accept = form.cleaned_data["accept_before_start"]
            move_finished = form.cleaned_data["move_finished"]
            try:
                if request.POST.get("confirm") == "yes":
                    services.run_deadline_move(
                        organization=organization,
                        run=run,
                        new_deadline=new_deadline,
                        accept_before_start=accept,
                        move_finished=move_finished,
                    )
                    messages.success(
                        request,
                        gettext("The final deadline is now %(date)s; finished milestones were moved too.")
                        % {"date": f"{new_deadline:%Y-%m-%d}"}
                        if move_finished
                        else gettext("The final deadline is now %(date)s; open milestones were re-planned.")
                        % {"date": f"{new_deadline:%Y-%m-%d}"},
                    )
                    return HttpResponseRedirect(reverse("admin:programs_run_change", args=[run.pk]))
                preview = services.run_deadline_move_preview(
                    organization=organization, run=run, new_deadline=new_deadline
                )
            except ValidationError as error:
                form.add_error("final_deadline", error.messages)
                preview = None
        context = self._context(
            request,
            run,
            gettext("Move the final deadline: %(run)s") % {"run": run.name},
            form=form,
            preview=preview,
        )
        return TemplateResponse(request, "admin/programs/run/move_deadline.html", context)

    def import_view(self, request, object_id):
        run = self._run_or_404(request, object_id, change=True)
        organization = run.organization
        report = None
        carried = None
        form = ImportUploadForm()
        if request.method == "POST":
            if request.POST.get("confirm") == "yes":
                try:
                    content = base64.b64decode(request.POST.get("content", ""), validate=True)
                except (binascii.Error, ValueError):
                    content = b""
                filename = request.POST.get("filename", "upload.csv")
                report = imports.import_apply(organization=organization, run=run, filename=filename, content=content)
                if report.applied:
                    messages.success(
                        request,
                        gettext("Imported %(filename)s: %(new)d new, %(updated)d updated, %(same)d unchanged.")
                        % {
                            "filename": filename,
                            "new": report.count(imports.ACTION_CREATE),
                            "updated": report.count(imports.ACTION_UPDATE),
                            "same": report.count(imports.ACTION_UNCHANGED),
                        },
                    )
                    return HttpResponseRedirect(reverse("admin:programs_run_change", args=[run.pk]))
            else:
                form = ImportUploadForm(request.POST, request.FILES)
                if form.is_valid():
                    upload = form.cleaned_data["file"]
                    if upload.size > MAX_UPLOAD_BYTES:
                        form.add_error("file", gettext("The file is larger than 5 MB."))
                    else:
                        content = upload.read()
                        report = imports.import_preview(
                            organization=organization, run=run, filename=upload.name, content=content
                        )
                        if not report.has_errors:
                            carried = {"filename": upload.name, "content": base64.b64encode(content).decode()}
        context = self._context(
            request,
            run,
            gettext("Import participants: %(run)s") % {"run": run.name},
            form=form,
            report=report,
            carried=carried,
            columns=imports.COLUMNS,
            required_columns=imports.REQUIRED_COLUMNS,
        )
        return TemplateResponse(request, "admin/programs/run/import.html", context)

    def export_view(self, request, object_id, fmt):
        run = self._run_or_404(request, object_id)
        stamp = timezone.localdate().strftime("%Y%m%d")
        if fmt == "csv":
            body = imports.export_csv(organization=run.organization, run=run)
            content_type = "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = imports.export_xlsx(organization=run.organization, run=run)
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise Http404
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-enrollments-{stamp}.{fmt}"'
        return response

    def rotate_calendar_view(self, request, object_id):
        run = self._run_or_404(request, object_id, change=True)
        if request.method == "POST":
            services.run_calendar_token_rotate(organization=run.organization, run=run)
            messages.success(request, gettext("The calendar address was replaced; the old one no longer works."))
            return HttpResponseRedirect(reverse("admin:programs_run_change", args=[run.pk]))
        context = self._context(request, run, gettext("Replace the calendar address: %(run)s") % {"run": run.name})
        return TemplateResponse(request, "admin/programs/run/rotate_calendar.html", context)


def calendar_url(request, run: Run) -> str:
    path_ = reverse("programs:run_calendar", args=[run.organization.slug, run.calendar_token])
    return request.build_absolute_uri(path_) if request is not None else path_


def timeline_context(run: Run, milestones: list[Milestone], completion: dict[int, tuple[int, int]]) -> dict:
    """Positions (percent of the run) for the D-n timeline drawn with plain CSS.

    ``completion`` maps a milestone id to (enrollments done, current enrollments): a
    milestone is done when the PM marked it or everyone finished it, late when its
    date has passed otherwise.
    """
    today = selectors.today_for(run.organization)
    first = min([run.starts_on, *[m.due_on for m in milestones]])
    last = max([run.final_deadline, run.ends_on])
    span = max((last - first).days, 1)

    def at(day) -> float:
        return round(100 * (day - first).days / span, 2)

    points = []
    for m in milestones:
        done_count, total = completion.get(m.pk, (0, 0))
        done = m.completed_at is not None or (total > 0 and done_count >= total)
        points.append(
            {
                "milestone": m,
                "left": at(m.due_on),
                "done": done,
                "late": not done and m.due_on < today,
                "done_count": done_count,
                "total": total,
                "moved": m.due_on != run.final_deadline - datetime.timedelta(days=m.days_before_deadline),
            }
        )
    return {
        "timeline_points": points,
        "timeline_deadline_left": at(run.final_deadline),
        "timeline_start_left": at(run.starts_on),
        "timeline_today_left": at(today) if first <= today <= last else None,
        "timeline_run": run,
    }
