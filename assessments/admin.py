"""Admin pages: frameworks, windows, assessments by program managers, surveys and reports."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from assessments import extensions, reports, services
from assessments.admin_outcomes import outcome_urls
from assessments.models import (
    Assessment,
    AssessmentVersion,
    AssessmentWindow,
    Framework,
    Indicator,
    Level,
    StatementRating,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline, active_organization, scope_for_request
from core.forms import form_errors_from
from core.models import Organization
from programs.models import Run


def _scoped_object(request, model, pk):
    """An object of the active organization (any organization for superusers), else 404."""
    obj = scope_for_request(model._default_manager.all(), request).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _csv_response(content: str, filename: str) -> HttpResponse:
    # A byte-order mark lets Excel open UTF-8 (Korean) text correctly.
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ReadOnlyInline(TenantInline):
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Frameworks ----------------------------------------------------------------------


class LevelInline(TenantInline):
    model = Level
    create_service = services.level_create
    update_service = services.level_update
    fields = ["number", "name_ko", "name_en", "description_ko", "description_en"]
    show_change_link = True
    formfield_overrides = {
        Level._meta.get_field("description_ko").__class__: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}
    }


@admin.register(Framework)
class FrameworkAdmin(TenantAdmin):
    list_display = ["name", "key", "consensus_method", "is_default", "level_count"]
    search_fields = ["key", "name_ko", "name_en"]
    fields = ["key", "name_ko", "name_en", "description_ko", "description_en", "consensus_method"]
    inlines = [LevelInline]
    create_service = services.framework_create
    update_service = services.framework_update
    ordering = ["-is_default", "key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(level_count=Count("levels"))

    @admin.display(description=_("number of levels"), ordering="level_count")
    def level_count(self, obj):
        return obj.level_count


class IndicatorInline(TenantInline):
    model = Indicator
    create_service = services.indicator_create
    update_service = services.indicator_update
    fields = ["position", "text_ko", "text_en"]
    formfield_overrides = {
        Indicator._meta.get_field("text_ko").__class__: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 50})}
    }


@admin.register(Level)
class LevelAdmin(TenantAdmin):
    list_display = ["__str__", "framework", "number"]
    list_filter = ["framework"]
    list_select_related = ["framework"]
    search_fields = ["name_ko", "name_en"]
    fields = ["framework", "number", "name_ko", "name_en", "description_ko", "description_en"]
    inlines = [IndicatorInline]
    create_service = services.level_create
    update_service = services.level_update
    ordering = ["framework", "number"]


# --- Windows and the cohort report -------------------------------------------------


@admin.register(AssessmentWindow)
class AssessmentWindowAdmin(TenantAdmin):
    list_display = ["label", "run", "framework", "opens_at", "closes_at", "state", "assessment_count", "report_link"]
    list_filter = ["kind", "run"]
    list_select_related = ["run", "framework"]
    search_fields = ["name", "run__name"]
    fields = ["run", "framework", "kind", "name", "opens_at", "closes_at"]
    create_service = services.assessment_window_create
    update_service = services.assessment_window_update
    service_object = "window"
    ordering = ["-opens_at", "id"]
    change_list_template = "admin/assessments/assessmentwindow/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assessment_count=Count("assessments"))

    def changelist_view(self, request, extra_context=None):
        organization = active_organization(request)
        if organization is not None:
            url = reverse("admin:assessments_organization_report", args=[organization.pk])
            outcomes_url = reverse("admin:assessments_organization_outcomes", args=[organization.pk])
            extra_context = {**(extra_context or {}), "organization_report_url": url, "outcomes_url": outcomes_url}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("number of assessments"), ordering="assessment_count")
    def assessment_count(self, obj):
        return obj.assessment_count

    @admin.display(description=_("state"))
    def state(self, obj):
        now = timezone.now()
        if obj.is_open(now):
            return _("open")
        return _("closed") if obj.has_closed(now) else _("not open yet")

    @admin.display(description=_("report"))
    def report_link(self, obj):
        url = reverse("admin:assessments_cohort_report", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, _("Cohort report"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/<int:run_id>/", view(self.cohort_report_view), name="assessments_cohort_report"),
            path("report/<int:run_id>/csv/", view(self.cohort_report_csv_view), name="assessments_cohort_report_csv"),
            path(
                "organization-report/<int:organization_id>/",
                view(self.organization_report_view),
                name="assessments_organization_report",
            ),
            path(
                "organization-report/<int:organization_id>/csv/",
                view(self.organization_report_csv_view),
                name="assessments_organization_report_csv",
            ),
            *outcome_urls(self),
            *super().get_urls(),
        ]

    def _report(self, request, run_id):
        if not self.has_view_permission(request):
            raise Http404
        run = _scoped_object(request, Run, run_id)

        def window_id(name):
            value = request.GET.get(name, "")
            return int(value) if value.isdigit() else None

        return reports.cohort_report(
            organization=run.organization,
            run=run,
            before_window_id=window_id("before"),
            after_window_id=window_id("after"),
        )

    def cohort_report_view(self, request, run_id):
        report = self._report(request, run_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Cohort report: %(run)s") % {"run": report.run},
            "report": report,
            "csv_url": reverse("admin:assessments_cohort_report_csv", args=[run_id]) + "?" + request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/assessments/cohort_report.html", context)

    def cohort_report_csv_view(self, request, run_id):
        report = self._report(request, run_id)
        return _csv_response(reports.cohort_report_csv(report), f"cohort-report-{run_id}.csv")

    def _organization_report(self, request, organization_id):
        """The report of the active organization (any, for platform superusers); another one is 404."""
        if not self.has_view_permission(request):
            raise Http404
        organization = active_organization(request)
        if request.user.is_superuser:
            organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None or organization.pk != organization_id:
            raise Http404
        errors = []
        kinds = {}
        for name, default in (("before", "pre"), ("after", "post")):
            value = request.GET.get(name, default)
            if value not in AssessmentWindow.Kind.values:
                errors.append(_("Unknown window kind: %(kind)s") % {"kind": value})
                value = default
            kinds[name] = value
        if kinds["before"] == kinds["after"]:
            errors.append(_("Choose two different window kinds to measure growth."))
            kinds = {"before": "pre", "after": "post"}
        report = reports.organization_report(
            organization=organization, before_kind=kinds["before"], after_kind=kinds["after"]
        )
        return report, errors

    def organization_report_view(self, request, organization_id):
        report, errors = self._organization_report(request, organization_id)
        csv_url = reverse("admin:assessments_organization_report_csv", args=[organization_id])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Organization report: %(organization)s") % {"organization": report.organization},
            "report": report,
            "errors": errors,
            "kind_choices": AssessmentWindow.Kind.choices,
            "csv_url": csv_url + "?" + request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/assessments/organization_report.html", context)

    def organization_report_csv_view(self, request, organization_id):
        report, _errors = self._organization_report(request, organization_id)
        content = reports.organization_report_csv(report)
        return _csv_response(content, f"organization-report-{organization_id}.csv")


# --- Assessments given by program managers ------------------------------------------


class AssessmentAdminForm(forms.ModelForm):
    """Program managers assess in the admin; the services validate and save.

    The service runs while the form is validated, so its messages (level outside
    the framework, window closed, a second assessment...) appear as form errors.
    """

    observed = forms.ModelMultipleChoiceField(
        label=_("Behaviours observed"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    links_text = forms.CharField(
        label=_("Evidence links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One web address per line."),
    )

    class Meta:
        model = Assessment
        fields = ["window", "subject_enrollment", "level", "notes"]

    request = None  # set by AssessmentAdmin.get_form
    saved_assessment = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.instance.organization if self.instance.pk else active_organization(self.request)
        if organization is not None:
            self.fields["observed"].queryset = (
                Indicator.objects.for_organization(organization).select_related("level").order_by("level__number")
            )
        if "subject_enrollment" in self.fields:
            self.fields["subject_enrollment"].required = True
        if self.instance.pk:
            self.initial["observed"] = [o.indicator_id for o in self.instance.observations.all()]
            self.initial["links_text"] = "\n".join(self.instance.links)

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        evidence = {
            "level": data["level"],
            "notes": data.get("notes", ""),
            "links": [line.strip() for line in data.get("links_text", "").splitlines() if line.strip()],
            "observations": [services.ObservationInput(indicator=i) for i in data.get("observed", [])],
            "recorded_by": self.request.user,
        }
        try:
            if self.instance.pk:
                self.saved_assessment = services.assessment_revise(
                    organization=self.instance.organization, assessment=self.instance, **evidence
                )
            else:
                organization = active_organization(self.request)
                if organization is None:
                    raise ValidationError(_("Choose an organization first."))
                self.saved_assessment = services.assessment_submit(
                    organization=organization,
                    window=data["window"],
                    subject_enrollment=data["subject_enrollment"],
                    assessor_role=Assessment.Role.PM,
                    assessor_user=self.request.user,
                    **evidence,
                )
        except ValidationError as error:
            form_errors_from(self, error, field_map={"observations": "observed", "links": "links_text"})


class WindowListFilter(admin.SimpleListFilter):
    """Windows of the active organization, named with their run (one query)."""

    title = _("window")
    parameter_name = "window"

    def lookups(self, request, model_admin):
        windows = scope_for_request(AssessmentWindow.objects.all(), request).select_related("run")
        return [(w.pk, str(w)) for w in windows.order_by("-opens_at", "id")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(window_id=value) if value and value.isdigit() else queryset


class VersionInline(ReadOnlyInline):
    model = AssessmentVersion
    fields = ["number", "level_number", "recorded_by", "created_at", "snapshot"]
    readonly_fields = fields
    ordering = ["-number"]


class AssessmentChangeList(ChangeList):
    """Joins what every row has; fetches the optional subject and assessor rows for the page only.

    One statement joining all fourteen tables cost PostgreSQL about 100 ms of planning alone
    (the join order search), more than reading the page; the optional relations come with one
    query each (none when no row of the page has one), so the count does not grow with rows.
    """

    def get_results(self, request):
        super().get_results(request)
        self.result_list = self.result_list.prefetch_related(*AssessmentAdmin.list_prefetch_related)


@admin.register(Assessment)
class AssessmentAdmin(LargeChangeListMixin, TenantAdmin):
    form = AssessmentAdminForm
    autocomplete_fields = ["subject_enrollment"]  # a cohort can be large; searched within the organization
    list_display = ["subject", "window", "assessor_role", "assessor", "level", "version", "submitted_at"]
    list_filter = ["assessor_role", WindowListFilter]
    # Every assessment has a window (with its run) and a level; most have an enrolled subject.
    list_select_related = ["window__run", "level", "subject_enrollment__participant", "subject_enrollment__team"]
    list_prefetch_related = [
        "subject_mentor__user",
        "assessor_user",
        "assessor_mentor__user",
        "assessor_enrollment__participant",
        "assessor_enrollment__team",
    ]
    search_fields = ["subject_enrollment__participant__name", "subject_enrollment__team__name", "notes"]
    inlines = [VersionInline]
    ordering = ["-submitted_at", "-id"]  # the index assessment_org_submitted (organization first)

    def get_changelist(self, request, **kwargs):
        return AssessmentChangeList

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["window", "subject_enrollment", "level", "observed", "notes", "links_text"]
        return ["window", "subject_enrollment", "assessor_role", "level", "observed", "notes", "links_text"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["window", "subject_enrollment", "assessor_role"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # Nothing changes once the window has closed; only program managers' own
        # assessments are edited here (self and mentor ratings belong to their authors).
        if obj is not None and (obj.window.has_closed() or obj.assessor_role != Assessment.Role.PM):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # assessments keep their history

    @admin.display(description=_("assessor"))
    def assessor(self, obj):
        return obj.assessor_user or obj.assessor_mentor or obj.assessor_enrollment or "—"

    def save_form(self, request, form, change):
        return form.saved_assessment

    def save_model(self, request, obj, form, change):
        pass  # saved by the service while the form was validated

    def save_related(self, request, form, formsets, change):
        # The service saved everything; the inlines are read-only history.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- Value-gap surveys -------------------------------------------------------------


class ValueStatementInline(TenantInline):
    model = ValueStatement
    fields = ["position", "text", "tier", "predicted_importance"]
    create_service = services.value_statement_create
    update_service = services.value_statement_update
    service_object = "statement"
    extra = 3


@admin.register(ValueSurvey)
class ValueSurveyAdmin(TenantAdmin):
    list_display = [
        "title",
        "response_rates",
        "report_link",
        "program",
        "run",
        "milestone",
        "opens_at",
        "closes_at",
    ]
    list_filter = ["program", "is_anonymous"]
    list_select_related = ["program", "run", "milestone"]
    search_fields = ["title"]
    readonly_fields = ["response_rates"]
    fields = [*services.SURVEY_FIELDS, "response_rates"]
    inlines = [ValueStatementInline]
    create_service = services.value_survey_create  # both plan the invitations of a survey open now
    update_service = services.value_survey_update
    service_object = "survey"
    ordering = ["-opens_at", "id"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(response_count=Count("responses"))
        organization = active_organization(request)
        if organization is not None:
            queryset = extensions.annotate_surveys(queryset, organization=organization)
        return queryset

    @staticmethod
    def _rate(answered, invited) -> str:
        if answered is None or invited is None:
            return "–"
        # Someone may answer from their home page before (or without) an invitation: they
        # were asked all the same, so the rate never passes 100%.
        invited = max(invited, answered)
        if not invited:
            return _("%(answered)d answered, none invited yet") % {"answered": answered}
        return _("%(answered)d / %(invited)d (%(percent)d%%)") % {
            "answered": answered,
            "invited": invited,
            "percent": round(100 * answered / invited),
        }

    @admin.display(description=_("participants answered / invited"))
    def participant_rate(self, obj):
        return self._rate(getattr(obj, "answered_participants", None), getattr(obj, "invited_participants", None))

    @admin.display(description=_("mentors answered / invited"))
    def mentor_rate(self, obj):
        return self._rate(getattr(obj, "answered_mentors", None), getattr(obj, "invited_mentors", None))

    @admin.display(description=_("response rates"))
    def response_rates(self, obj):
        if obj is None or not obj.pk:
            return "–"
        return format_html(
            '<span class="nowrap">{}: {}</span><br><span class="nowrap">{}: {}</span>',
            _("Participants"),
            self.participant_rate(obj),
            _("Mentors"),
            self.mentor_rate(obj),
        )

    @admin.display(description=_("number of responses"), ordering="response_count")
    def response_count(self, obj):
        return obj.response_count

    @admin.display(description=_("report"))
    def report_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:assessments_survey_report", args=[obj.pk]), _("Value-gap report")
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:survey_id>/report/", view(self.report_view), name="assessments_survey_report"),
            path("<int:survey_id>/report/csv/", view(self.report_csv_view), name="assessments_survey_report_csv"),
            *super().get_urls(),
        ]

    def _report(self, request, survey_id):
        if not self.has_view_permission(request):
            raise Http404
        survey = _scoped_object(request, ValueSurvey, survey_id)
        return reports.survey_report(organization=survey.organization, survey=survey)

    def report_view(self, request, survey_id):
        report = self._report(request, survey_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Value-gap report: %(survey)s") % {"survey": report.survey},
            "report": report,
            "csv_url": reverse("admin:assessments_survey_report_csv", args=[survey_id]),
        }
        return TemplateResponse(request, "admin/assessments/survey_report.html", context)

    def report_csv_view(self, request, survey_id):
        report = self._report(request, survey_id)
        return _csv_response(reports.survey_report_csv(report), f"value-gap-report-{survey_id}.csv")


class StatementRatingInline(ReadOnlyInline):
    model = StatementRating
    fields = ["statement", "importance", "satisfaction"]
    readonly_fields = fields


@admin.register(SurveyResponse)
class SurveyResponseAdmin(TenantAdmin):
    """Individual answers of named (not anonymous) surveys. Anonymous ones appear only in reports."""

    list_display = ["survey", "respondent_kind", "respondent", "submitted_at"]
    list_filter = ["survey", "respondent_kind"]
    list_select_related = ["survey", "enrollment__participant", "enrollment__team", "mentor__user"]
    fields = ["survey", "respondent_kind", "enrollment", "mentor", "own_values", "improve", "stop", "submitted_at"]
    readonly_fields = fields
    inlines = [StatementRatingInline]
    ordering = ["-submitted_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(survey__is_anonymous=False)

    @admin.display(description=_("respondent"))
    def respondent(self, obj):
        return obj.enrollment or obj.mentor

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
