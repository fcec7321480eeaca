"""The program manager's admin: programs, runs with their plan and dashboard, participants."""

from __future__ import annotations

import base64
import binascii
import contextvars
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
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_base import TenantAdmin, TenantInline, TenantStackedInline
from core.forms import form_errors_from
from mentors.models import Mentor
from programs import imports, links, planning, selectors, services
from programs.forms import DeadlineMoveForm, ImportUploadForm, PlanForm
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    MilestoneTemplate,
    Participant,
    Program,
    Run,
    Team,
    TeamMembership,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Querysets behind foreign-key selects: what each option's label needs, fetched in one go.
_CHOICE_RELATIONS = {
    Enrollment: ("participant", "team"),
    Mentor: ("user",),
    Milestone: (),
    MilestoneTemplate: ("program",),
}


class ConstantQueryChoicesMixin:
    """Builds each foreign-key select of an inline once per request, not once per row.

    Without this, every inline row runs its own query for the options of every select,
    so the page would grow by a query per row.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related in _CHOICE_RELATIONS and "queryset" not in kwargs:
            kwargs["queryset"] = related._default_manager.select_related(*_CHOICE_RELATIONS[related])
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


# --- programs ----------------------------------------------------------------------------


class MilestoneTemplateInline(TenantInline):
    model = MilestoneTemplate
    fields = ["name", "days_before_deadline", "deliverable"]
    ordering = ["-days_before_deadline"]


# The request whose change form is being drawn, for read-only fields that need its address
# (absolute links). Per thread and task, unlike an attribute on the shared ModelAdmin.
_current_request: contextvars.ContextVar = contextvars.ContextVar("programs_admin_request", default=None)


@admin.register(Program)
class ProgramAdmin(TenantAdmin):
    list_display = ["name", "run_count", "template_count"]
    search_fields = ["name", "description"]
    inlines = [MilestoneTemplateInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                run_total=Count("runs", distinct=True), template_total=Count("milestone_templates", distinct=True)
            )
        )

    @admin.display(description=_("runs"), ordering="run_total")
    def run_count(self, obj):
        return obj.run_total

    @admin.display(description=_("milestone templates"), ordering="template_total")
    def template_count(self, obj):
        return obj.template_total


@admin.register(MilestoneTemplate)
class MilestoneTemplateAdmin(TenantAdmin):
    list_display = ["name", "program", "days_before_deadline"]
    list_filter = ["program"]
    list_select_related = ["program"]
    search_fields = ["name", "deliverable"]
    ordering = ["program__name", "-days_before_deadline"]


# --- runs --------------------------------------------------------------------------------


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
        formset.form = _assignment_form(
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
        url = calendar_url(_current_request.get(), obj)
        return format_html(
            '<input type="text" readonly value="{}" style="width: 40em" data-select-on-click>'
            '<div class="help">{} <a href="{}">{}</a></div>',
            url,
            _("Anyone with this secret address can subscribe to the run's milestones from their calendar app."),
            reverse("admin:programs_run_rotate_calendar", args=[obj.pk]),
            _("Replace the address"),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        _current_request.set(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_formset(self, request, form, formset, change):
        if formset.model is MentorAssignment:
            _save_assignments_through_service(
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
        from notifications.selectors import delivery_health  # the outbox's state, shown where the PM looks

        dashboard = selectors.run_dashboard(organization=run.organization, run=run)
        context = self._context(
            request,
            run,
            gettext("Dashboard: %(run)s") % {"run": run.name},
            dashboard=dashboard,
            delivery=delivery_health(organization=run.organization, run=run),
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


# --- participants and teams --------------------------------------------------------------


@admin.register(Participant)
class ParticipantAdmin(TenantAdmin):
    list_display = ["name", "email", "company", "stage", "language"]
    list_filter = ["language", "stage"]
    search_fields = ["name", "email", "company", "phone"]
    fields = ["name", "email", "phone", "company", "stage", "tags", "language"]


class TeamMembershipInline(ConstantQueryChoicesMixin, TenantInline):
    model = TeamMembership
    fields = ["participant"]
    autocomplete_fields = ["participant"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("participant")


@admin.register(Team)
class TeamAdmin(TenantAdmin):
    list_display = ["name", "member_count"]
    search_fields = ["name", "members__name"]
    inlines = [TeamMembershipInline]

    def get_queryset(self, request):
        # Meta.ordering does not apply to an aggregated (GROUP BY) query: order explicitly.
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("memberships", distinct=True))
            .order_by("name", "id")
        )

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, obj):
        return obj.member_total


# --- enrollments -------------------------------------------------------------------------


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
        formset.form = _assignment_form(
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
class EnrollmentAdmin(TenantAdmin):
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
        request = _current_request.get()
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
        _current_request.set(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            services.enrollment_emit(enrollment=obj, created=not change)

    def save_formset(self, request, form, formset, change):
        if formset.model is MentorAssignment:
            # Through the service: it enforces the mentor's capacity.
            _save_assignments_through_service(
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


def _assignment_form(base, *, run_of, enrollment_of):
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


def _save_assignments_through_service(formset, *, run, enrollment_of) -> None:
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


@admin.register(MentorAssignment)
class MentorAssignmentAdmin(TenantAdmin):
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
        return _assignment_form(
            super().get_form(request, obj, change, **kwargs),
            run_of=lambda form, cleaned: cleaned.get("run"),
            enrollment_of=lambda form, cleaned: cleaned.get("enrollment"),
        )

    def delete_model(self, request, obj):
        services.mentor_unassign(organization=obj.organization, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.mentor_unassign(organization=assignment.organization, assignment=assignment)


# --- milestones, check-ins, help requests -----------------------------------------------


@admin.register(Milestone)
class MilestoneAdmin(TenantAdmin):
    list_display = ["name", "run", "d_minus", "due_on", "completed_at"]
    list_filter = ["run"]
    list_select_related = ["run"]
    search_fields = ["name", "deliverable"]
    readonly_fields = ["completed_at"]
    actions = ["mark_completed"]

    @admin.display(description="D-n", ordering="days_before_deadline")
    def d_minus(self, obj):
        return f"D-{obj.days_before_deadline}"

    @admin.action(description=_("Mark selected milestones completed"))
    def mark_completed(self, request, queryset):
        for milestone in queryset:
            services.milestone_complete(organization=milestone.organization, milestone=milestone)
        messages.success(request, gettext("Milestones marked completed."))


@admin.register(MilestoneProgress)
class MilestoneProgressAdmin(TenantAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["enrollment", "milestone", "status", "evidence_url", "updated_at"]
    list_filter = ["status", "milestone__run"]
    list_select_related = ["enrollment__participant", "enrollment__team", "milestone"]
    search_fields = ["enrollment__participant__name", "milestone__name", "note"]
    autocomplete_fields = ["enrollment"]


@admin.register(CheckIn)
class CheckInAdmin(TenantAdmin):
    list_display = ["enrollment", "created_at", "confidence", "has_blockers"]
    list_filter = ["confidence", "enrollment__run"]
    list_select_related = ["enrollment__participant", "enrollment__team"]
    search_fields = ["done", "next", "blockers", "enrollment__participant__name"]
    autocomplete_fields = ["enrollment"]
    date_hierarchy = "created_at"

    @admin.display(description=_("blockers"), boolean=True)
    def has_blockers(self, obj):
        return bool(obj.blockers.strip())

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = services.check_in_create(
            organization=obj.enrollment.organization,
            enrollment=obj.enrollment,
            done=obj.done,
            next=obj.next,
            blockers=obj.blockers,
            confidence=obj.confidence,
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at


class HelpRequestReplyInline(TenantInline):
    """The replies so far: part of the record, read-only."""

    model = HelpRequestReply
    fields = ["created_at", "mentor", "author", "body"]
    readonly_fields = fields
    can_delete = False
    max_num = 0
    verbose_name_plural = _("replies")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mentor__user", "author")


class HelpRequestNewReplyInline(TenantInline):
    """A new reply from the program manager; it counts as a response like a mentor's."""

    model = HelpRequestReply
    fields = ["body"]
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = _("new reply")
    verbose_name_plural = _("new reply")

    def get_queryset(self, request):
        return super().get_queryset(request).none()


@admin.register(HelpRequest)
class HelpRequestAdmin(TenantAdmin):
    list_display = ["act_short", "enrollment", "status", "age", "first_response"]
    list_filter = ["status", "enrollment__run"]
    list_select_related = ["enrollment__participant", "enrollment__team"]
    search_fields = ["act", "impact", "desired_outcome", "enrollment__participant__name"]
    autocomplete_fields = ["enrollment"]
    fields = ["enrollment", "act", "impact", "desired_outcome", "status", "first_response_at", "resolved_at"]
    readonly_fields = ["first_response_at", "resolved_at"]
    inlines = [HelpRequestReplyInline, HelpRequestNewReplyInline]
    actions = ["resolve"]

    @admin.display(description=_("act"))
    def act_short(self, obj):
        return obj.act[:60]

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj):
        return duration_label(timezone.now() - obj.created_at)

    @admin.display(description=_("time to first response"))
    def first_response(self, obj):
        waited = obj.time_to_first_response
        return duration_label(waited) if waited is not None else "—"

    @admin.action(description=_("Mark selected help requests resolved"))
    def resolve(self, request, queryset):
        for help_request in queryset:
            services.help_request_resolve(organization=help_request.organization, help_request=help_request)
        messages.success(request, gettext("Help requests resolved."))

    def save_model(self, request, obj, form, change):
        if change:
            resolving = "status" in form.changed_data and obj.status == HelpRequest.Status.RESOLVED
            if resolving:
                obj.status = form.initial["status"]  # resolved below, through the service
            super().save_model(request, obj, form, change)
            if resolving:
                services.help_request_resolve(organization=obj.organization, help_request=obj)
            return
        saved = services.help_request_create(
            organization=obj.enrollment.organization,
            enrollment=obj.enrollment,
            act=obj.act,
            impact=obj.impact,
            desired_outcome=obj.desired_outcome,
        )
        obj.pk, obj.organization_id, obj.created_at = saved.pk, saved.organization_id, saved.created_at

    def save_formset(self, request, form, formset, change):
        if formset.model is HelpRequestReply:
            for reply in formset.save(commit=False):
                if reply.pk is None and reply.body.strip():
                    services.help_request_reply(
                        organization=form.instance.organization,
                        help_request=form.instance,
                        mentor=None,
                        author=request.user,
                        body=reply.body,
                    )
            return
        super().save_formset(request, form, formset, change)


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
