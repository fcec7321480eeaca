"""Read-only API of the outcomes report (outcomes beside process health), JSON and CSV.

``GET runs/{run_id}/outcomes/`` (and ``.../csv/``) for one run, ``GET reports/outcomes/``
(and ``.../csv/``) for one row per run of the organization. The numbers are the admin
page's (``assessments.outcomes``). API keys need ``assessments:read``.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from assessments import outcomes, reports
from assessments.api.serializers import StatementFiguresSerializer
from core.api.base import TenantViewSetMixin
from programs.models import Run


def _csv(content: str, filename: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class OutcomesQuerySerializer(serializers.Serializer):
    silent_days = serializers.IntegerField(
        min_value=1,
        max_value=outcomes.MAX_SILENT_DAYS,
        default=outcomes.DEFAULT_SILENT_DAYS,
        help_text=_("A participant is silent after this many days without contact."),
    )


class RoleGrowthSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="self, mentor or pm")
    subjects = serializers.IntegerField(help_text="Participants with this role's rating in both windows.")
    mean_before = serializers.FloatField(allow_null=True)
    mean_after = serializers.FloatField(allow_null=True)
    mean_delta = serializers.FloatField(allow_null=True)


class RunOutcomeRowSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    name = serializers.CharField(source="run.name")
    silent_days = serializers.IntegerField()
    enrollments = serializers.IntegerField(help_text="Current enrollments (applied or active, not archived).")
    before_window = serializers.IntegerField(source="before_window.pk", allow_null=True, default=None)
    after_window = serializers.IntegerField(source="after_window.pk", allow_null=True, default=None)
    growth = RoleGrowthSerializer(source="growth_by_role", many=True)
    milestones = serializers.IntegerField()
    milestones_due = serializers.IntegerField(help_text="Milestones whose due date has passed.")
    milestones_done = serializers.IntegerField(source="done", help_text="Milestone x enrollment pairs done.")
    milestone_completion_percent = serializers.FloatField(source="completion_percent", allow_null=True)
    milestones_done_on_time = serializers.IntegerField(source="done_on_time")
    on_time_percent = serializers.FloatField(
        allow_null=True, help_text="Of the pairs already due, the share done by the due date."
    )
    check_ins = serializers.IntegerField()
    weeks = serializers.FloatField(allow_null=True, help_text="Weeks of the run so far; null before it starts.")
    check_ins_per_participant_week = serializers.FloatField(allow_null=True)
    silent = serializers.IntegerField(help_text="Current enrollments without contact for more than silent_days.")
    help_requests = serializers.IntegerField(source="responses.help_requests")
    help_requests_answered = serializers.IntegerField(source="responses.answered")
    median_first_response_seconds = serializers.FloatField(source="responses.median_seconds", allow_null=True)
    median_first_response_hours = serializers.FloatField(source="responses.median_hours", allow_null=True)
    sessions_held = serializers.IntegerField(source="sessions")
    session_ratings = serializers.IntegerField(source="ratings.count")
    average_session_rating = serializers.FloatField(
        source="ratings.average", allow_null=True, help_text="Null below three ratings (ratings are anonymous)."
    )
    session_ratings_withheld = serializers.IntegerField(
        source="ratings.withheld", help_text="Ratings of sessions with fewer than three raters: never averaged."
    )


class LevelBarSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    self = serializers.IntegerField(source="counts.self")
    mentor = serializers.IntegerField(source="counts.mentor")
    pm = serializers.IntegerField(source="counts.pm")


class WindowDistributionSerializer(serializers.Serializer):
    window = serializers.IntegerField(source="window.pk")
    kind = serializers.CharField(source="window.kind")
    label = serializers.CharField(source="window.label")
    levels = LevelBarSerializer(source="bars", many=True)


class ParticipantRoleLevelsSerializer(serializers.Serializer):
    role = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)


class ParticipantLevelsSerializer(serializers.Serializer):
    enrollment = serializers.IntegerField(source="enrollment_id")
    name = serializers.CharField()
    levels = ParticipantRoleLevelsSerializer(source="role_levels", many=True)


class MentorProcessSerializer(serializers.Serializer):
    mentor = serializers.IntegerField(source="mentor_id")
    name = serializers.CharField()
    help_requests = serializers.IntegerField(source="responses.help_requests")
    help_requests_answered = serializers.IntegerField(source="responses.answered")
    median_first_response_seconds = serializers.FloatField(source="responses.median_seconds", allow_null=True)
    median_first_response_hours = serializers.FloatField(source="responses.median_hours", allow_null=True)
    sessions_held = serializers.IntegerField(source="sessions")
    session_ratings = serializers.IntegerField(source="ratings.count")
    average_session_rating = serializers.FloatField(source="ratings.average", allow_null=True)
    session_ratings_withheld = serializers.IntegerField(source="ratings.withheld")


class RunOutcomesSerializer(serializers.Serializer):
    outcomes = RunOutcomeRowSerializer(source="row")
    distributions = WindowDistributionSerializer(many=True)
    participants = ParticipantLevelsSerializer(many=True)
    mentors = MentorProcessSerializer(many=True)


class OrganizationOutcomesSerializer(serializers.Serializer):
    silent_days = serializers.IntegerField()
    runs = RunOutcomeRowSerializer(source="rows", many=True)


class _OutcomesMixin(TenantViewSetMixin):
    pagination_class = None
    filter_backends: list = []

    def _silent_days(self, request) -> int:
        query = OutcomesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["silent_days"]


class RunOutcomesViewSet(_OutcomesMixin, viewsets.GenericViewSet):
    """Outcomes beside process health of one run; another organization's run answers 404."""

    model = Run
    serializer_class = RunOutcomesSerializer
    lookup_url_kwarg = "run_id"

    def _report(self, request):
        silent_days = self._silent_days(request)
        return outcomes.run_outcomes(organization=self.organization, run=self.get_object(), silent_days=silent_days)

    @extend_schema(
        summary="Outcomes and process health of one run",
        parameters=[OutcomesQuerySerializer],
        responses=RunOutcomesSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(RunOutcomesSerializer(self._report(request)).data)

    @extend_schema(
        summary="Outcomes and process health of one run, as CSV",
        parameters=[OutcomesQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def csv(self, request, *args, **kwargs):
        report = self._report(request)
        return _csv(outcomes.run_outcomes_csv(report), f"outcomes-run-{report.run.pk}.csv")


class OrganizationOutcomesViewSet(_OutcomesMixin, viewsets.GenericViewSet):
    """One row per run of the organization, with the run page's measures."""

    model = Run
    serializer_class = OrganizationOutcomesSerializer

    def _report(self, request):
        silent_days = self._silent_days(request)
        return outcomes.organization_outcomes(organization=self.organization, silent_days=silent_days)

    @extend_schema(
        summary="Outcomes and process health of every run, side by side",
        parameters=[OutcomesQuerySerializer],
        responses=OrganizationOutcomesSerializer,
    )
    def outcomes_report(self, request, *args, **kwargs):
        return Response(OrganizationOutcomesSerializer(self._report(request)).data)

    @extend_schema(
        summary="Outcomes and process health of every run, as CSV",
        parameters=[OutcomesQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def outcomes_report_csv(self, request, *args, **kwargs):
        return _csv(outcomes.organization_outcomes_csv(self._report(request)), f"outcomes-{self.organization.slug}.csv")


class StageStatementSerializer(StatementFiguresSerializer):
    """A statement's figures within one stage (the survey report's fields without groups and quadrant)."""


class StageSurveySerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    title = serializers.CharField(source="survey.title")
    is_anonymous = serializers.BooleanField(source="survey.is_anonymous")
    respondents = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), help_text="Per group; null: hidden (fewer than three)."
    )
    hidden_groups = serializers.ListField(child=serializers.CharField())
    mean_gap = serializers.FloatField(allow_null=True)
    statements = StageStatementSerializer(many=True)


class StageSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(source="milestone.pk", allow_null=True, default=None)
    label = serializers.CharField(help_text="The milestone's name, or 'whole run' for surveys without a stage.")
    due_on = serializers.DateField(source="milestone.due_on", allow_null=True, default=None)
    surveys = StageSurveySerializer(many=True)


class StageCellSerializer(serializers.Serializer):
    respondents = serializers.IntegerField()
    importance = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(allow_null=True)
    predicted = serializers.FloatField(allow_null=True)
    gap = serializers.FloatField(allow_null=True)


class StatementAcrossStagesSerializer(serializers.Serializer):
    text = serializers.CharField()
    tier = serializers.CharField()
    stages = StageCellSerializer(
        source="cells", many=True, help_text="One per stage, in order; respondents 0: not asked or not answered."
    )


class StageReportSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    stages = StageSerializer(many=True)
    statements = StatementAcrossStagesSerializer(many=True)


class SurveyStagesViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """The value-gap surveys of one run grouped by stage (milestone); another organization's run answers 404."""

    model = Run
    serializer_class = StageReportSerializer
    lookup_url_kwarg = "run_id"
    pagination_class = None
    filter_backends: list = []

    def _report(self):
        return reports.survey_report_by_stage(organization=self.organization, run=self.get_object())

    @extend_schema(summary="Value gaps of one run's surveys, by stage", responses=StageReportSerializer)
    def retrieve(self, request, *args, **kwargs):
        return Response(StageReportSerializer(self._report()).data)

    @extend_schema(
        summary="Value gaps of one run's surveys, by stage, as CSV", responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def csv(self, request, *args, **kwargs):
        report = self._report()
        return _csv(reports.survey_report_by_stage_csv(report), f"value-gaps-by-stage-{report.run.pk}.csv")
