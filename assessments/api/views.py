"""Tenant API of the assessments app (``/api/v1/orgs/<org_slug>/...``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from assessments import reports, services
from assessments.api import serializers as s
from assessments.models import (
    Assessment,
    AssessmentWindow,
    Framework,
    Indicator,
    Level,
    StatementRating,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core.api.base import TenantModelViewSet, TenantViewSetMixin
from core.api.problems import Conflict
from core.api.serializers import django_to_drf_errors
from programs.models import Run


def _csv(content: str, filename: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class FrameworkViewSet(TenantModelViewSet):
    """Assessment frameworks: ordered levels with behavioural indicators, in Korean and English."""

    model = Framework
    serializer_class = s.FrameworkSerializer
    filterset_fields = ["key", "is_default", "consensus_method"]
    ordering_fields = ["key", "id", "created_at"]
    ordering = ["key", "id"]


class LevelViewSet(TenantModelViewSet):
    model = Level
    serializer_class = s.LevelSerializer
    filterset_fields = ["framework", "number"]
    ordering_fields = ["number", "id"]
    ordering = ["number", "id"]

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related(Prefetch("indicators", queryset=Indicator.objects.order_by("position", "id")))


class IndicatorViewSet(TenantModelViewSet):
    model = Indicator
    serializer_class = s.IndicatorSerializer
    filterset_fields = ["level", "level__framework"]
    ordering_fields = ["position", "id"]
    ordering = ["level_id", "position", "id"]


class AssessmentWindowViewSet(TenantModelViewSet):
    """Assessment windows of runs: pre, mid, post or custom, with open and close moments."""

    model = AssessmentWindow
    serializer_class = s.AssessmentWindowSerializer
    filterset_fields = ["run", "framework", "kind"]
    ordering_fields = ["opens_at", "closes_at", "id"]
    ordering = ["opens_at", "id"]

    def perform_destroy(self, instance):
        if instance.assessments.exists():
            # 409 like every row that others still refer to (docs/api.md), not a 400 on a valid request.
            raise Conflict(_("This window has assessments; it cannot be deleted."), code="protected")
        instance.delete()


def _evidence(data: dict) -> dict:
    return {
        "level": data["level"],
        "notes": data.get("notes", ""),
        "links": data.get("links", []),
        "observations": [
            services.ObservationInput(indicator=o["indicator"], note=o.get("note", ""))
            for o in data.get("observations", [])
        ],
        "check_ins": data.get("check_ins", []),
        "help_requests": data.get("help_requests", []),
    }


@extend_schema_view(
    create=extend_schema(request=s.AssessmentCreateSerializer, responses={201: s.AssessmentSerializer}),
    update=extend_schema(request=s.AssessmentEvidenceInputSerializer, responses=s.AssessmentSerializer),
    partial_update=extend_schema(request=s.AssessmentEvidenceInputSerializer, responses=s.AssessmentSerializer),
)
class AssessmentViewSet(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Assessments: one per window, subject and assessor. Never deleted; changes keep versions.

    POST records an assessment (by default the requesting program manager's own,
    ``assessor_role`` "pm"). PUT/PATCH revise it while its window is open.
    """

    model = Assessment
    express_lists = True  # next pages with an API key: integrations.express
    serializer_class = s.AssessmentSerializer
    filterset_fields = ["window", "window__run", "subject_enrollment", "subject_mentor", "assessor_role", "level"]
    ordering_fields = ["submitted_at", "id"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return queryset.select_related("level").prefetch_related("observations", "references")

    def create(self, request, *args, **kwargs):
        serializer = s.AssessmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            assessment = services.assessment_submit(
                organization=self.organization,
                window=data["window"],
                subject_enrollment=data.get("subject_enrollment"),
                subject_mentor=data.get("subject_mentor"),
                assessor_role=data["assessor_role"],
                assessor_user=request.user,
                assessor_mentor=data.get("assessor_mentor"),
                assessor_enrollment=data.get("assessor_enrollment"),
                recorded_by=request.user,
                **_evidence(data),
            )
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error
        return Response(s.AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        assessment = self.get_object()
        serializer = s.AssessmentEvidenceInputSerializer(data=request.data, context=self.get_serializer_context())
        if kwargs.get("partial"):
            # PATCH: fields left out keep their current values.
            current = {
                "level": assessment.level_id,
                "notes": assessment.notes,
                "links": assessment.links,
                "observations": [{"indicator": o.indicator_id, "note": o.note} for o in assessment.observations.all()],
                "check_ins": [r.check_in_id for r in assessment.references.all() if r.check_in_id],
                "help_requests": [r.help_request_id for r in assessment.references.all() if r.help_request_id],
            }
            serializer = s.AssessmentEvidenceInputSerializer(
                data={**current, **request.data}, context=self.get_serializer_context()
            )
        serializer.is_valid(raise_exception=True)
        try:
            assessment = services.assessment_revise(
                organization=self.organization,
                assessment=assessment,
                recorded_by=request.user,
                **_evidence(serializer.validated_data),
            )
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error
        return Response(s.AssessmentSerializer(assessment).data)

    @extend_schema(responses=s.AssessmentVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, *args, **kwargs):
        """Every submitted version of the assessment, oldest first."""
        assessment = self.get_object()
        versions = assessment.versions.order_by("number")
        return Response(s.AssessmentVersionSerializer(versions, many=True).data)


class ValueSurveyViewSet(TenantModelViewSet):
    """Value-gap surveys: the values the organization believes it delivers, asked of participants and mentors."""

    model = ValueSurvey
    serializer_class = s.ValueSurveySerializer
    filterset_fields = ["program", "run", "is_anonymous"]
    ordering_fields = ["opens_at", "closes_at", "id"]
    ordering = ["-opens_at", "-id"]

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related(Prefetch("statements", queryset=ValueStatement.objects.order_by("position")))

    def perform_destroy(self, instance):
        if instance.responses.exists():
            raise Conflict(_("This survey has responses; it cannot be deleted."), code="protected")
        instance.delete()

    @extend_schema(responses=s.SurveyReportSerializer)
    @action(detail=True, methods=["get"])
    def report(self, request, *args, **kwargs):
        """Statements ranked by the gap between predicted and rated importance, per respondent group."""
        survey = self.get_object()
        report = reports.survey_report(organization=self.organization, survey=survey)
        return Response(s.SurveyReportSerializer(report).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="report-csv")
    def report_csv(self, request, *args, **kwargs):
        """The report as CSV: aggregates only, never one row per respondent."""
        survey = self.get_object()
        report = reports.survey_report(organization=self.organization, survey=survey)
        return _csv(reports.survey_report_csv(report), f"value-gap-report-{survey.pk}.csv")


class ValueStatementViewSet(TenantModelViewSet):
    model = ValueStatement
    serializer_class = s.ValueStatementSerializer
    filterset_fields = ["survey", "tier"]
    ordering_fields = ["position", "id"]
    ordering = ["survey_id", "position", "id"]

    def perform_destroy(self, instance):
        if StatementRating.objects.for_organization(self.organization).filter(statement=instance).exists():
            raise Conflict(_("This statement has ratings; it cannot be deleted."), code="protected")
        instance.delete()


@extend_schema_view(
    create=extend_schema(request=s.SurveyResponseCreateSerializer, responses={201: s.SurveyResponseSerializer})
)
class SurveyResponseViewSet(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Answers to value-gap surveys that are not anonymous.

    Anonymous surveys' answers are never listed one by one: read them through the
    survey's report, which hides groups of fewer than three. POST records answers
    on someone's behalf (e.g. from a paper form) and accepts anonymous surveys too.
    """

    model = SurveyResponse
    serializer_class = s.SurveyResponseSerializer
    filterset_fields = ["survey", "respondent_kind", "enrollment", "mentor"]
    ordering_fields = ["submitted_at", "id"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return queryset.filter(survey__is_anonymous=False).prefetch_related("ratings")

    def create(self, request, *args, **kwargs):
        serializer = s.SurveyResponseCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            response = services.survey_response_submit(
                organization=self.organization,
                survey=data["survey"],
                enrollment=data.get("enrollment"),
                mentor=data.get("mentor"),
                ratings={r["statement"]: (r["importance"], r["satisfaction"]) for r in data["ratings"]},
                own_values=data.get("own_values", ""),
                improve=data.get("improve", ""),
                stop=data.get("stop", ""),
            )
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error
        body = s.SurveyResponseSerializer(response).data
        if response.survey.is_anonymous:
            body = {"id": response.pk, "survey": response.survey_id, "respondent_kind": response.respondent_kind}
        return Response(body, status=status.HTTP_201_CREATED)


class CohortReportViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """Assessment report of one run (cohort): levels, growth, perception gap, mentors."""

    model = Run
    serializer_class = s.CohortReportSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_url_kwarg = "run_id"

    def _report(self, request):
        run = self.get_object()
        window_ids = set(
            AssessmentWindow.objects.for_organization(self.organization).filter(run=run).values_list("pk", flat=True)
        )
        # ?before= / ?after= must name windows of this run: a 400 field error otherwise (an
        # unknown id used to fall back to the default window without a word).
        query = s.CohortReportQuerySerializer(data=request.query_params, context={"window_ids": window_ids})
        query.is_valid(raise_exception=True)
        return reports.cohort_report(
            organization=self.organization,
            run=run,
            before_window_id=query.validated_data.get("before"),
            after_window_id=query.validated_data.get("after"),
        )

    @extend_schema(parameters=[s.CohortReportQuerySerializer], responses=s.CohortReportSerializer)
    def retrieve(self, request, *args, **kwargs):
        return Response(s.CohortReportSerializer(self._report(request)).data)

    @extend_schema(parameters=[s.CohortReportQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def csv(self, request, *args, **kwargs):
        report = self._report(request)
        return _csv(reports.cohort_report_csv(report), f"cohort-report-{report.run.pk}.csv")

    def _organization_report(self, request):
        query = s.OrganizationReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return reports.organization_report(
            organization=self.organization,
            before_kind=query.validated_data["before_kind"],
            after_kind=query.validated_data["after_kind"],
        )

    @extend_schema(
        summary="Assessment report over every run of the organization",
        parameters=[s.OrganizationReportQuerySerializer],
        responses=s.OrganizationReportSerializer,
    )
    @action(detail=False, methods=["get"], url_path="organization")
    def organization_report(self, request, *args, **kwargs):
        """Levels and perception gap per window kind, growth, runs side by side, mentors; constant queries."""
        return Response(s.OrganizationReportSerializer(self._organization_report(request)).data)

    @extend_schema(parameters=[s.OrganizationReportQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path="organization/csv")
    def organization_report_csv(self, request, *args, **kwargs):
        report = self._organization_report(request)
        return _csv(reports.organization_report_csv(report), f"organization-report-{self.organization.slug}.csv")
