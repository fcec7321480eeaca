"""Admin pages of the outcomes report: one run, and every run of the organization side by side.

The views hang off the assessment window admin (``outcome_urls(model_admin)`` in its
``get_urls``), so they share its permissions: viewers and up of the active organization;
another organization's run or id answers 404.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from assessments import outcomes, reports
from core.admin_base import active_organization, scope_for_request
from core.models import Organization
from programs.models import Run


def _csv_response(content: str, filename: str) -> HttpResponse:
    # A byte-order mark lets Excel open UTF-8 (Korean) text correctly.
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _silent_days(request) -> tuple[int, list[str]]:
    try:
        return outcomes.validate_silent_days(request.GET.get("silent_days")), []
    except ValueError as error:
        return outcomes.DEFAULT_SILENT_DAYS, [_("Silent for how many days: %(error)s") % {"error": error}]


def _run(model_admin, request, run_id):
    if not model_admin.has_view_permission(request):
        raise Http404
    run = scope_for_request(Run._default_manager.all(), request).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


def _organization(model_admin, request, organization_id):
    """The active organization (any, for platform superusers); another one is 404."""
    if not model_admin.has_view_permission(request):
        raise Http404
    organization = active_organization(request)
    if request.user.is_superuser:
        organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or organization.pk != organization_id:
        raise Http404
    return organization


def outcome_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view

    def context(request, **extra):
        return {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, **extra}

    def run_view(request, run_id):
        run = _run(model_admin, request, run_id)
        silent_days, errors = _silent_days(request)
        report = outcomes.run_outcomes(organization=run.organization, run=run, silent_days=silent_days)
        csv_url = reverse("admin:assessments_run_outcomes_csv", args=[run.pk])
        return TemplateResponse(
            request,
            "admin/assessments/run_outcomes.html",
            context(
                request,
                title=_("Outcomes and process: %(run)s") % {"run": run},
                report=report,
                row=report.row,
                errors=errors,
                csv_url=f"{csv_url}?silent_days={silent_days}",
                organization_url=reverse("admin:assessments_organization_outcomes", args=[run.organization_id]),
                cohort_report_url=reverse("admin:assessments_cohort_report", args=[run.pk]),
                stages_url=reverse("admin:assessments_run_survey_stages", args=[run.pk]),
            ),
        )

    def stages_view(request, run_id):
        run = _run(model_admin, request, run_id)
        report = reports.survey_report_by_stage(organization=run.organization, run=run)
        return TemplateResponse(
            request,
            "admin/assessments/survey_stages.html",
            context(
                request,
                title=_("Value gaps by stage: %(run)s") % {"run": run},
                report=report,
                csv_url=reverse("admin:assessments_run_survey_stages_csv", args=[run.pk]),
                run_url=reverse("admin:assessments_run_outcomes", args=[run.pk]),
            ),
        )

    def stages_csv_view(request, run_id):
        run = _run(model_admin, request, run_id)
        report = reports.survey_report_by_stage(organization=run.organization, run=run)
        return _csv_response(reports.survey_report_by_stage_csv(report), f"value-gaps-by-stage-{run.pk}.csv")

    def run_csv_view(request, run_id):
        run = _run(model_admin, request, run_id)
        silent_days, _errors = _silent_days(request)
        report = outcomes.run_outcomes(organization=run.organization, run=run, silent_days=silent_days)
        return _csv_response(outcomes.run_outcomes_csv(report), f"outcomes-run-{run.pk}.csv")

    def organization_view(request, organization_id):
        organization = _organization(model_admin, request, organization_id)
        silent_days, errors = _silent_days(request)
        report = outcomes.organization_outcomes(organization=organization, silent_days=silent_days)
        csv_url = reverse("admin:assessments_organization_outcomes_csv", args=[organization.pk])
        return TemplateResponse(
            request,
            "admin/assessments/organization_outcomes.html",
            context(
                request,
                title=_("Outcomes and process across runs: %(organization)s") % {"organization": organization},
                report=report,
                errors=errors,
                csv_url=f"{csv_url}?silent_days={silent_days}",
            ),
        )

    def organization_csv_view(request, organization_id):
        organization = _organization(model_admin, request, organization_id)
        silent_days, _errors = _silent_days(request)
        report = outcomes.organization_outcomes(organization=organization, silent_days=silent_days)
        return _csv_response(outcomes.organization_outcomes_csv(report), f"outcomes-{organization.slug}.csv")

    return [
        path("outcomes/run/<int:run_id>/", view(run_view), name="assessments_run_outcomes"),
        path("outcomes/run/<int:run_id>/csv/", view(run_csv_view), name="assessments_run_outcomes_csv"),
        path("outcomes/run/<int:run_id>/stages/", view(stages_view), name="assessments_run_survey_stages"),
        path(
            "outcomes/run/<int:run_id>/stages/csv/",
            view(stages_csv_view),
            name="assessments_run_survey_stages_csv",
        ),
        path(
            "outcomes/organization/<int:organization_id>/",
            view(organization_view),
            name="assessments_organization_outcomes",
        ),
        path(
            "outcomes/organization/<int:organization_id>/csv/",
            view(organization_csv_view),
            name="assessments_organization_outcomes_csv",
        ),
    ]
