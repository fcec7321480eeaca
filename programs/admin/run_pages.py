"""The run's own admin pages: dashboard, plan, deadline move, import, export and calendar address.

Ordinary class-based views, mounted by ``RunAdmin.get_urls`` as ``View.as_view(model_admin=self)``:
the model admin arrives as an attribute of the view instance made for each request, so nothing of
a request is kept on the ModelAdmin that every thread shares.
"""

from __future__ import annotations

import base64
import binascii
import datetime

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from core.forms import form_errors_from
from programs import imports, planning, selectors, services
from programs.admin.base import MAX_UPLOAD_BYTES
from programs.extensions import dashboard_parts
from programs.forms import CalendarRotateForm, DeadlineMoveForm, ImportUploadForm, PlanForm
from programs.models import Milestone, Run


class RunPageView(ContextMixin, View):
    """A page of one run, for the organization's program managers.

    ``model_admin`` (the ``RunAdmin``, given to ``as_view``) finds the run: a run of another
    organization, or one the user may not see (``needs_change``: may not change), answers 404.
    ``title`` is formatted with the run's name.
    """

    model_admin: admin.ModelAdmin | None = None
    needs_change: bool = False
    title = ""

    def dispatch(self, request, *args, **kwargs):
        self.run = self.get_run(kwargs["object_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_run(self, object_id: str) -> Run:
        model_admin = self.model_admin
        run = model_admin.get_object(self.request, object_id)
        if run is None:
            raise Http404
        if self.needs_change:
            allowed = model_admin.has_change_permission(self.request, run)
        else:
            allowed = model_admin.has_view_permission(self.request, run)
        if not allowed:
            raise Http404
        return run

    def get_context_data(self, **kwargs) -> dict:
        """The admin's context for a page of the run (what ``_page.html`` and the admin's base need)."""
        model_admin, run = self.model_admin, self.run
        return super().get_context_data(
            **model_admin.admin_site.each_context(self.request),
            opts=model_admin.model._meta,
            original=run,
            run=run,
            title=str(self.title) % {"run": run.name},
            has_change_permission=model_admin.has_change_permission(self.request, run),
            **kwargs,
        )

    def run_page_url(self) -> str:
        """The run's change page, where a done action returns."""
        return reverse("admin:programs_run_change", args=[self.run.pk])


class RunFormView(RunPageView, FormView):
    """A run page with a form; a valid form that changed something returns to the run's page."""

    needs_change = True

    def get_success_url(self) -> str:
        return self.run_page_url()


class DashboardView(TemplateResponseMixin, RunPageView):
    template_name = "admin/programs/run/dashboard.html"
    title = _("Dashboard: %(run)s")

    def get(self, request, *args, **kwargs):
        run = self.run
        dashboard = selectors.run_dashboard(organization=run.organization, run=run)
        context = self.get_context_data(
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
        return self.render_to_response(context)


class PlanView(RunFormView):
    """The program's milestone templates counted back from the deadline; the PM confirms to save them."""

    form_class = PlanForm
    template_name = "admin/programs/run/plan.html"
    title = _("Plan milestones backwards: %(run)s")

    def form_valid(self, form):
        try:
            milestones = services.run_plan(
                organization=self.run.organization,
                run=self.run,
                accept_before_start=form.cleaned_data["accept_before_start"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, gettext("%(n)d milestones planned.") % {"n": len(milestones)})
        return super().form_valid(form)

    def get_context_data(self, **kwargs) -> dict:
        organization = self.run.organization
        preview = services.run_plan_preview(organization=organization, run=self.run)
        plan_rows = [
            (row, planning.holiday_name(row.planned.counted_on, country=organization.country)) for row in preview.rows
        ]
        return super().get_context_data(preview=preview, plan_rows=plan_rows, **kwargs)


class MoveDeadlineView(RunFormView):
    """Two steps: the PM sees old and new dates side by side, then confirms (``confirm=yes``)."""

    form_class = DeadlineMoveForm
    template_name = "admin/programs/run/move_deadline.html"
    title = _("Move the final deadline: %(run)s")

    def get_initial(self) -> dict:
        return {"final_deadline": self.run.final_deadline}

    def form_valid(self, form):
        run, organization = self.run, self.run.organization
        new_deadline = form.cleaned_data["final_deadline"]
        move_finished = form.cleaned_data["move_finished"]
        try:
            if self.request.POST.get("confirm") != "yes":
                preview = services.run_deadline_move_preview(
                    organization=organization, run=run, new_deadline=new_deadline
                )
                return self.render_to_response(self.get_context_data(form=form, preview=preview))
            services.run_deadline_move(
                organization=organization,
                run=run,
                new_deadline=new_deadline,
                accept_before_start=form.cleaned_data["accept_before_start"],
                move_finished=move_finished,
            )
        except ValidationError as error:
            # The page shows the errors next to the date: the service's form-wide ones go there too.
            form_errors_from(form, error, non_field="final_deadline")
            return self.form_invalid(form)
        if move_finished:
            message = gettext("The final deadline is now %(date)s; finished milestones were moved too.")
        else:
            message = gettext("The final deadline is now %(date)s; open milestones were re-planned.")
        messages.success(self.request, message % {"date": f"{new_deadline:%Y-%m-%d}"})
        return super().form_valid(form)

    def get_context_data(self, **kwargs) -> dict:
        kwargs.setdefault("preview", None)
        return super().get_context_data(**kwargs)


class ImportView(RunFormView):
    """Two steps: an uploaded file is previewed; its content, carried in the page (base64), is
    imported when the PM confirms (``confirm=yes``). A file with any error imports nothing."""

    form_class = ImportUploadForm
    template_name = "admin/programs/run/import.html"
    title = _("Import participants: %(run)s")

    def post(self, request, *args, **kwargs):
        if request.POST.get("confirm") == "yes":
            return self.confirm()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", gettext("The file is larger than 5 MB."))
            return self.form_invalid(form)
        content = upload.read()
        report = imports.import_preview(
            organization=self.run.organization, run=self.run, filename=upload.name, content=content
        )
        carried = None
        if not report.has_errors:
            carried = {"filename": upload.name, "content": base64.b64encode(content).decode()}
        return self.render_to_response(self.get_context_data(form=form, report=report, carried=carried))

    def confirm(self):
        """Import the carried content (checked again: it came back from the browser)."""
        try:
            content = base64.b64decode(self.request.POST.get("content", ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        filename = self.request.POST.get("filename", "upload.csv")
        report = imports.import_apply(
            organization=self.run.organization, run=self.run, filename=filename, content=content
        )
        if not report.applied:
            return self.render_to_response(self.get_context_data(form=self.get_form_class()(), report=report))
        messages.success(
            self.request,
            gettext("Imported %(filename)s: %(new)d new, %(updated)d updated, %(same)d unchanged.")
            % {
                "filename": filename,
                "new": report.count(imports.ACTION_CREATE),
                "updated": report.count(imports.ACTION_UPDATE),
                "same": report.count(imports.ACTION_UNCHANGED),
            },
        )
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs) -> dict:
        kwargs.setdefault("report", None)
        kwargs.setdefault("carried", None)
        return super().get_context_data(columns=imports.COLUMNS, required_columns=imports.REQUIRED_COLUMNS, **kwargs)


class ExportView(RunPageView):
    """The run's enrollments with their progress, as a CSV or XLSX download (``fmt``)."""

    CONTENT_TYPES = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    def get(self, request, *args, fmt: str, **kwargs):
        run = self.run
        if fmt == "csv":
            body = imports.export_csv(organization=run.organization, run=run)
        elif fmt == "xlsx":
            body = imports.export_xlsx(organization=run.organization, run=run)
        else:
            raise Http404
        stamp = timezone.localdate().strftime("%Y%m%d")
        response = HttpResponse(body, content_type=self.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-enrollments-{stamp}.{fmt}"'
        return response


class RotateCalendarView(RunFormView):
    """Replace the run's secret calendar address after a confirmation page."""

    form_class = CalendarRotateForm
    template_name = "admin/programs/run/rotate_calendar.html"
    title = _("Replace the calendar address: %(run)s")

    def form_valid(self, form):
        services.run_calendar_token_rotate(organization=self.run.organization, run=self.run)
        messages.success(self.request, gettext("The calendar address was replaced; the old one no longer works."))
        return super().form_valid(form)


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
