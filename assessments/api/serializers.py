"""Serializers of the assessments API: separate input serializers where a service writes."""

from __future__ import annotations

from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assessments import services
from assessments.models import (
    Assessment,
    AssessmentVersion,
    AssessmentWindow,
    EvidenceReference,
    Framework,
    Indicator,
    Level,
    Observation,
    StatementRating,
    SurveyResponse,
    ValueStatement,
    ValueSurvey,
)
from core.api import lean
from core.api.serializers import ApiModelSerializer, StrictCharField, TenantModelSerializer
from core.models import TenantModel
from mentors.models import Mentor
from programs.models import CheckIn, Enrollment, HelpRequest


class ScopedInputSerializer(serializers.Serializer):
    """A plain serializer whose relations accept only the organization's rows."""

    def get_fields(self):
        fields = super().get_fields()
        organization = self.context.get("organization")
        for field in fields.values():
            target = getattr(field, "child_relation", field)
            queryset = getattr(target, "queryset", None)
            if queryset is not None and issubclass(queryset.model, TenantModel):
                target.queryset = (
                    queryset.for_organization(organization) if organization is not None else queryset.none()
                )
        return fields


# --- Frameworks ----------------------------------------------------------------------


class FrameworkSerializer(TenantModelSerializer):
    create_service = services.framework_create
    update_service = services.framework_update

    name = serializers.CharField(read_only=True, help_text="Name in the request's language.")

    class Meta:
        model = Framework
        fields = [
            "id",
            "key",
            "name",
            "name_ko",
            "name_en",
            "description_ko",
            "description_en",
            "consensus_method",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_default", "created_at", "updated_at"]


class IndicatorSerializer(TenantModelSerializer):
    create_service = services.indicator_create
    update_service = services.indicator_update

    text = serializers.CharField(read_only=True)

    class Meta:
        model = Indicator
        fields = ["id", "level", "position", "text", "text_ko", "text_en"]


class NestedIndicatorSerializer(ApiModelSerializer):
    text = serializers.CharField(read_only=True)

    class Meta:
        model = Indicator
        fields = ["id", "position", "text", "text_ko", "text_en"]
        read_only_fields = fields


class LevelSerializer(TenantModelSerializer):
    create_service = services.level_create
    update_service = services.level_update

    name = serializers.CharField(read_only=True)
    indicators = NestedIndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Level
        fields = [
            "id",
            "framework",
            "number",
            "name",
            "name_ko",
            "name_en",
            "description_ko",
            "description_en",
            "indicators",
        ]


class AssessmentWindowSerializer(TenantModelSerializer):
    create_service = services.assessment_window_create
    update_service = services.assessment_window_update
    service_object = "window"

    is_open = serializers.SerializerMethodField()

    class Meta:
        model = AssessmentWindow
        fields = ["id", "run", "framework", "kind", "name", "opens_at", "closes_at", "is_open", "created_at"]
        read_only_fields = ["created_at"]

    def get_is_open(self, obj) -> bool:
        return obj.is_open()


# --- Assessments ---------------------------------------------------------------------


class ObservationSerializer(ApiModelSerializer):
    class Meta:
        model = Observation
        fields = ["indicator", "note"]
        read_only_fields = fields


class AssessmentSerializer(ApiModelSerializer):
    """Output: an assessment as it stands now (earlier versions at .../versions/)."""

    level_number = serializers.IntegerField(source="level.number", read_only=True)
    observations = ObservationSerializer(many=True, read_only=True)
    check_ins = serializers.SerializerMethodField()
    help_requests = serializers.SerializerMethodField()

    # The lean list path (core.api.lean) reads these in the page's own statement.
    lean_fields = {"observations": lean.json_list, "check_ins": None, "help_requests": None}

    class Meta:
        model = Assessment
        fields = [
            "id",
            "window",
            "subject_enrollment",
            "subject_mentor",
            "assessor_role",
            "assessor_user",
            "assessor_mentor",
            "assessor_enrollment",
            "level",
            "level_number",
            "notes",
            "links",
            "observations",
            "check_ins",
            "help_requests",
            "version",
            "submitted_at",
        ]
        read_only_fields = fields

    @classmethod
    def lean_expressions(cls, organization) -> dict:
        of_row = {"organization": organization, "assessment": OuterRef("pk")}
        observations = Observation.objects.for_organization(organization).filter(**of_row)
        references = EvidenceReference.objects.for_organization(organization).filter(**of_row).order_by("id")
        return {
            "observations": lean.json_objects(
                observations.order_by("indicator_id"), indicator="indicator_id", note="note"
            ),
            "check_ins": lean.id_array(references.filter(check_in__isnull=False), "check_in_id"),
            "help_requests": lean.id_array(references.filter(help_request__isnull=False), "help_request_id"),
        }

    def _references(self, obj) -> list[EvidenceReference]:
        return list(obj.references.all())

    def get_check_ins(self, obj) -> list[int]:
        return [r.check_in_id for r in self._references(obj) if r.check_in_id]

    def get_help_requests(self, obj) -> list[int]:
        return [r.help_request_id for r in self._references(obj) if r.help_request_id]


class ObservationInputSerializer(ScopedInputSerializer):
    indicator = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.all())
    note = StrictCharField(required=False, allow_blank=True, default="")


class AssessmentEvidenceInputSerializer(ScopedInputSerializer):
    level = serializers.PrimaryKeyRelatedField(queryset=Level.objects.all())
    notes = StrictCharField(required=False, allow_blank=True, default="")
    links = serializers.ListField(child=StrictCharField(), required=False, default=list)
    observations = ObservationInputSerializer(many=True, required=False, default=list)
    check_ins = serializers.PrimaryKeyRelatedField(
        queryset=CheckIn.objects.all(), many=True, required=False, default=list
    )
    help_requests = serializers.PrimaryKeyRelatedField(
        queryset=HelpRequest.objects.all(), many=True, required=False, default=list
    )


class AssessmentCreateSerializer(AssessmentEvidenceInputSerializer):
    """Input of POST: program managers record their own assessments or others' (e.g. imported)."""

    window = serializers.PrimaryKeyRelatedField(queryset=AssessmentWindow.objects.all())
    subject_enrollment = serializers.PrimaryKeyRelatedField(
        queryset=Enrollment.objects.all(), required=False, allow_null=True, default=None
    )
    subject_mentor = serializers.PrimaryKeyRelatedField(
        queryset=Mentor.objects.all(), required=False, allow_null=True, default=None
    )
    assessor_role = serializers.ChoiceField(choices=Assessment.Role.choices, default=Assessment.Role.PM)
    assessor_mentor = serializers.PrimaryKeyRelatedField(
        queryset=Mentor.objects.all(), required=False, allow_null=True, default=None
    )
    assessor_enrollment = serializers.PrimaryKeyRelatedField(
        queryset=Enrollment.objects.all(), required=False, allow_null=True, default=None
    )


class AssessmentVersionSerializer(ApiModelSerializer):
    class Meta:
        model = AssessmentVersion
        fields = ["id", "number", "level_number", "snapshot", "recorded_by", "created_at"]
        read_only_fields = fields


# --- Value-gap surveys -------------------------------------------------------------


class ValueStatementSerializer(TenantModelSerializer):
    create_service = services.value_statement_create
    update_service = services.value_statement_update
    service_object = "statement"

    class Meta:
        model = ValueStatement
        fields = ["id", "survey", "position", "text", "tier", "predicted_importance"]


class NestedValueStatementSerializer(ApiModelSerializer):
    class Meta:
        model = ValueStatement
        fields = ["id", "position", "text", "tier", "predicted_importance"]
        read_only_fields = fields


class ValueSurveySerializer(TenantModelSerializer):
    create_service = services.value_survey_create
    update_service = services.value_survey_update
    service_object = "survey"

    statements = NestedValueStatementSerializer(many=True, read_only=True)
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = ValueSurvey
        fields = [
            "id",
            "program",
            "run",
            "title",
            "introduction",
            "opens_at",
            "closes_at",
            "is_open",
            "is_anonymous",
            "ask_participants",
            "ask_mentors",
            "statements",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_is_open(self, obj) -> bool:
        return obj.is_open()


class StatementRatingSerializer(ApiModelSerializer):
    class Meta:
        model = StatementRating
        fields = ["statement", "importance", "satisfaction"]
        read_only_fields = fields


class SurveyResponseSerializer(ApiModelSerializer):
    ratings = StatementRatingSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "survey",
            "respondent_kind",
            "enrollment",
            "mentor",
            "own_values",
            "improve",
            "stop",
            "ratings",
            "submitted_at",
        ]
        read_only_fields = fields


class RatingInputSerializer(ScopedInputSerializer):
    # Ranges are checked by the service, which names the statement in its message.
    statement = serializers.IntegerField()
    importance = serializers.IntegerField()
    satisfaction = serializers.IntegerField()


class SurveyResponseCreateSerializer(ScopedInputSerializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=ValueSurvey.objects.all())
    enrollment = serializers.PrimaryKeyRelatedField(
        queryset=Enrollment.objects.all(), required=False, allow_null=True, default=None
    )
    mentor = serializers.PrimaryKeyRelatedField(
        queryset=Mentor.objects.all(), required=False, allow_null=True, default=None
    )
    ratings = RatingInputSerializer(many=True)
    own_values = StrictCharField(required=False, allow_blank=True, default="")
    improve = StrictCharField(required=False, allow_blank=True, default="")
    stop = StrictCharField(required=False, allow_blank=True, default="")


# --- Reports (output only) ------------------------------------------------------------


class LevelCountSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    consensus = serializers.IntegerField(help_text="Subjects whose consensus level (rounded down) is this level.")
    self = serializers.IntegerField(help_text="Subjects who rated themselves at this level.")


class WindowSummarySerializer(serializers.Serializer):
    window = serializers.IntegerField(source="window.pk")
    label = serializers.CharField(source="window.label")
    kind = serializers.CharField(source="window.kind")
    subjects_rated = serializers.IntegerField()
    subjects_self = serializers.IntegerField()
    mean_consensus = serializers.FloatField(allow_null=True)
    mean_self = serializers.FloatField(allow_null=True)
    mean_gap = serializers.FloatField(allow_null=True, help_text="Self minus consensus.")
    overestimate = serializers.IntegerField()
    underestimate = serializers.IntegerField()
    aligned = serializers.IntegerField()
    distribution = LevelCountSerializer(many=True)


class GrowthSummarySerializer(serializers.Serializer):
    subjects = serializers.IntegerField()
    mean_before = serializers.FloatField(allow_null=True)
    mean_after = serializers.FloatField(allow_null=True)
    mean_delta = serializers.FloatField(allow_null=True)
    moved_up = serializers.IntegerField()
    moved_down = serializers.IntegerField()
    moved_up_share = serializers.FloatField(allow_null=True)


class ParticipantGrowthSerializer(serializers.Serializer):
    enrollment = serializers.IntegerField(source="enrollment_id")
    name = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)
    self_before = serializers.IntegerField(allow_null=True)
    self_after = serializers.IntegerField(allow_null=True)


class MentorGrowthSerializer(serializers.Serializer):
    mentor = serializers.IntegerField(source="mentor_id")
    name = serializers.CharField()
    mentees = serializers.IntegerField()
    with_growth = serializers.IntegerField()
    mean_delta = serializers.FloatField(allow_null=True)
    moved_up = serializers.IntegerField()
    moved_up_share = serializers.FloatField(allow_null=True)


class CohortReportSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    before_window = serializers.IntegerField(source="before_window.pk", allow_null=True, default=None)
    after_window = serializers.IntegerField(source="after_window.pk", allow_null=True, default=None)
    windows = WindowSummarySerializer(many=True)
    growth = GrowthSummarySerializer()
    participants = ParticipantGrowthSerializer(many=True)
    mentors = MentorGrowthSerializer(many=True)


class KindSummarySerializer(serializers.Serializer):
    """Figures over every window of one kind, across all runs."""

    kind = serializers.CharField()
    label = serializers.CharField()
    subjects_rated = serializers.IntegerField()
    subjects_self = serializers.IntegerField()
    mean_consensus = serializers.FloatField(allow_null=True)
    mean_self = serializers.FloatField(allow_null=True)
    mean_gap = serializers.FloatField(allow_null=True, help_text="Self minus consensus.")
    overestimate = serializers.IntegerField()
    underestimate = serializers.IntegerField()
    aligned = serializers.IntegerField()
    distribution = LevelCountSerializer(many=True)


class RunSummarySerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    name = serializers.CharField(source="run.name")
    assessed = serializers.IntegerField(help_text="Enrollments with any rating in any window of the run.")
    growth = GrowthSummarySerializer()


class OrganizationReportSerializer(serializers.Serializer):
    before_kind = serializers.CharField()
    after_kind = serializers.CharField()
    kinds = KindSummarySerializer(many=True)
    growth = GrowthSummarySerializer()
    runs = RunSummarySerializer(many=True)
    mentors = MentorGrowthSerializer(many=True)


class CohortReportQuerySerializer(serializers.Serializer):
    """``?before=`` / ``?after=``: windows of the run to measure growth between.

    Each must be a window of the report's run (``context["window_ids"]``); an unknown
    id, another run's or another organization's window is a field error, never silently
    replaced by the default. An empty value is the same as leaving the parameter out.
    """

    before = serializers.IntegerField(
        required=False, min_value=1, help_text="Window to measure growth from (default: the run's first pre window)."
    )
    after = serializers.IntegerField(
        required=False, min_value=1, help_text="Window to measure growth to (default: the run's last post window)."
    )

    def validate(self, attrs):
        known = self.context["window_ids"]
        errors = {
            name: serializers.ErrorDetail(
                _("No assessment window %(id)d in this run.") % {"id": attrs[name]}, code="does_not_exist"
            )
            for name in ("before", "after")
            if name in attrs and attrs[name] not in known
        }
        if errors:
            raise serializers.ValidationError(errors)
        if "before" in attrs and attrs.get("after") == attrs["before"]:
            raise serializers.ValidationError({"after": _("Choose two different windows to measure growth.")})
        return attrs


class OrganizationReportQuerySerializer(serializers.Serializer):
    before_kind = serializers.ChoiceField(choices=AssessmentWindow.Kind.choices, default=AssessmentWindow.Kind.PRE)
    after_kind = serializers.ChoiceField(choices=AssessmentWindow.Kind.choices, default=AssessmentWindow.Kind.POST)

    def validate(self, attrs):
        if attrs["before_kind"] == attrs["after_kind"]:
            raise serializers.ValidationError({"after_kind": _("Choose two different window kinds to measure growth.")})
        return attrs


class GroupFiguresSerializer(serializers.Serializer):
    respondents = serializers.IntegerField()
    importance = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(allow_null=True)
    hidden = serializers.BooleanField(help_text="Anonymous survey, fewer than three respondents: figures withheld.")


class StatementFiguresSerializer(serializers.Serializer):
    """A statement with its rated importance, satisfaction and gap (survey report and per stage)."""

    statement = serializers.IntegerField(source="statement.pk")
    text = serializers.CharField(source="statement.text")
    tier = serializers.CharField(source="statement.tier")
    predicted_importance = serializers.IntegerField(source="statement.predicted_importance")
    importance = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(allow_null=True)
    gap = serializers.FloatField(allow_null=True, help_text="Rated minus predicted importance.")
    respondents = serializers.IntegerField()


class StatementResultSerializer(StatementFiguresSerializer):
    quadrant = serializers.CharField()
    participants = GroupFiguresSerializer(source="groups.participant")
    mentors = GroupFiguresSerializer(source="groups.mentor")


class OwnWordSerializer(serializers.Serializer):
    text = serializers.CharField()
    count = serializers.IntegerField(help_text="How many respondents gave exactly this answer.")


class OwnWordsSerializer(serializers.Serializer):
    values = OwnWordSerializer(many=True, help_text="Answers to “What do you value?”, one value per line.")
    improve = OwnWordSerializer(many=True, help_text="Answers to “What should we improve?”.")
    stop = OwnWordSerializer(many=True, help_text="Answers to “What should we stop?”.")


class SurveyReportSerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    is_anonymous = serializers.BooleanField(source="survey.is_anonymous")
    respondents = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    hidden_groups = serializers.ListField(child=serializers.CharField())
    statements = StatementResultSerializer(many=True)
    own_words = serializers.DictField(child=OwnWordsSerializer())
