"""Serializers of the programs API. Writes with side effects go through the services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import (
    StrictBooleanField,
    StrictCharField,
    TenantModelSerializer,
    call_service,
    django_to_drf_errors,
)
from programs import services
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


class ProgramSerializer(TenantModelSerializer):
    create_service = services.program_create
    update_service = services.program_update

    class Meta:
        model = Program
        fields = ["id", "name", "description", "promised_value", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class MilestoneTemplateSerializer(TenantModelSerializer):
    create_service = services.milestone_template_create
    update_service = services.milestone_template_update
    service_object = "template"

    class Meta:
        model = MilestoneTemplate
        fields = ["id", "program", "name", "deliverable", "days_before_deadline", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class RunSerializer(TenantModelSerializer):
    create_service = services.run_create
    update_service = services.run_update

    class Meta:
        model = Run
        fields = [
            "id",
            "program",
            "name",
            "starts_on",
            "ends_on",
            "final_deadline",
            "status",
            "checkin_cadence_days",
            "skip_non_working_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs):
        moved = self.instance is not None and attrs.get("final_deadline", self.instance.final_deadline) != (
            self.instance.final_deadline
        )
        if moved:
            raise serializers.ValidationError(
                {"final_deadline": _("Moving the final deadline re-plans the milestones: use POST …/move-deadline/.")}
            )
        return attrs


@extend_schema_field({"$ref": "#/components/schemas/RunStatusEnum"})
class RunStatusField(serializers.ChoiceField):
    """The run's status enum (a second component with the same choices would get a hashed name)."""


class RunUpdateSerializer(RunSerializer):
    """A run changed (PUT/PATCH): ``final_deadline`` is read-only, it moves with ``move-deadline``.

    The schema showed it writable and another date answered 400; sending the current
    date back (a GET, edited, then PUT) is fine.
    """

    status = RunStatusField(choices=Run.Status.choices, required=False)

    class Meta(RunSerializer.Meta):
        read_only_fields = [*RunSerializer.Meta.read_only_fields, "final_deadline"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        if "final_deadline" in data and str(data["final_deadline"]) != self.instance.final_deadline.isoformat():
            raise serializers.ValidationError(
                {
                    "final_deadline": serializers.ErrorDetail(
                        _("Moving the final deadline re-plans the milestones: use POST …/move-deadline/."),
                        code="read_only",
                    )
                }
            )
        return attrs


class PlanRequestSerializer(serializers.Serializer):
    accept_before_start = StrictBooleanField(
        default=False, help_text="Plan even if some milestones fall before the run starts."
    )


class DeadlineMoveRequestSerializer(serializers.Serializer):
    final_deadline = serializers.DateField()
    confirm = StrictBooleanField(
        default=False, help_text="false: only show the old and new dates. true: move and re-plan."
    )
    accept_before_start = StrictBooleanField(default=False)


class PlanRowSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(source="milestone.id", allow_null=True, default=None)
    name = serializers.CharField(source="planned.name")
    days_before_deadline = serializers.IntegerField(source="planned.days_before_deadline")
    old_due_on = serializers.DateField(allow_null=True)
    new_due_on = serializers.DateField()
    completed = serializers.BooleanField()
    moved_to_working_day = serializers.BooleanField(source="planned.moved")
    before_run_start = serializers.BooleanField(source="planned.before_run_start")


class PlanPreviewSerializer(serializers.Serializer):
    final_deadline = serializers.DateField(source="deadline")
    applied = serializers.BooleanField(default=False)
    rows = PlanRowSerializer(many=True)


class ParticipantSerializer(TenantModelSerializer):
    create_service = services.participant_create
    update_service = services.participant_update

    tags = serializers.ListField(child=StrictCharField(max_length=50), required=False)

    class Meta:
        model = Participant
        fields = ["id", "name", "email", "phone", "company", "stage", "tags", "language", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class TeamSerializer(TenantModelSerializer):
    create_service = services.team_create
    update_service = services.team_update

    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "members", "created_at", "updated_at"]
        read_only_fields = ["id", "members", "created_at", "updated_at"]


class TeamMembershipSerializer(TenantModelSerializer):
    create_service = services.team_member_add

    class Meta:
        model = TeamMembership
        fields = ["id", "team", "participant", "created_at"]
        read_only_fields = ["id", "created_at"]


class EnrollmentSerializer(TenantModelSerializer):
    class Meta:
        model = Enrollment
        fields = [
            "id",
            "run",
            "participant",
            "team",
            "status",
            "success_definition",
            "commitments",
            "last_contact_at",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_contact_at", "archived_at", "created_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("run", "participant", "team"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: _("An enrollment cannot move; archive it and enroll again.")}
                    )
        return attrs

    def create(self, validated_data):
        organization = self.context["organization"]
        instance = Enrollment(organization=organization, **validated_data)
        try:
            instance.full_clean()  # duplicate enrollment, participant xor team: field errors
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error
        return call_service(services.enrollment_create, organization=organization, **validated_data)

    def update(self, instance, validated_data):
        changes = {k: v for k, v in validated_data.items() if k in services.ENROLLMENT_EDITABLE_FIELDS}
        return call_service(
            services.enrollment_update, organization=self.context["organization"], enrollment=instance, **changes
        )


@extend_schema_field({"$ref": "#/components/schemas/EnrollmentStatusEnum"})
class EnrollmentStatusField(serializers.ChoiceField):
    """The enrollment's status enum (a second component with the same choices would get a hashed name)."""


class EnrollmentUpdateSerializer(EnrollmentSerializer):
    """An enrollment changed (PUT/PATCH): ``run``, ``participant`` and ``team`` are read-only.

    The schema showed them writable, and another value answered 400. Now the schema says
    read-only; a request that still sends another value gets the same field error (code
    ``read_only``), and sending the current values back is fine.
    """

    status = EnrollmentStatusField(choices=Enrollment.Status.choices, required=False)

    class Meta(EnrollmentSerializer.Meta):
        read_only_fields = [*EnrollmentSerializer.Meta.read_only_fields, "run", "participant", "team"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        for name in ("run", "participant", "team"):
            current = getattr(self.instance, f"{name}_id")
            if name in data and str(data[name]) != str(current):
                raise serializers.ValidationError(
                    {
                        name: serializers.ErrorDetail(
                            _("An enrollment cannot move; archive it and enroll again."), code="read_only"
                        )
                    }
                )
        return attrs


class MentorAssignmentSerializer(TenantModelSerializer):
    class Meta:
        model = MentorAssignment
        fields = ["id", "run", "mentor", "enrollment", "created_at"]
        read_only_fields = ["id", "created_at"]

    def create(self, validated_data):
        return call_service(services.mentor_assign, organization=self.context["organization"], **validated_data)


class MilestoneSerializer(TenantModelSerializer):
    create_service = services.milestone_create
    update_service = services.milestone_update

    class Meta:
        model = Milestone
        fields = [
            "id",
            "run",
            "template",
            "name",
            "deliverable",
            "days_before_deadline",
            "due_on",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "completed_at", "created_at", "updated_at"]


class MilestoneProgressSerializer(TenantModelSerializer):
    class Meta:
        model = MilestoneProgress
        fields = ["id", "enrollment", "milestone", "status", "evidence_url", "note", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def create(self, validated_data):
        # One row per enrollment and milestone: posting again updates it.
        return call_service(
            services.milestone_progress_update, organization=self.context["organization"], **validated_data
        )

    def update(self, instance, validated_data):
        data = {
            "enrollment": instance.enrollment,
            "milestone": instance.milestone,
            "status": instance.status,
            "evidence_url": instance.evidence_url,
            "note": instance.note,
            **validated_data,
        }
        return call_service(services.milestone_progress_update, organization=self.context["organization"], **data)


class CheckInSerializer(TenantModelSerializer):
    class Meta:
        model = CheckIn
        fields = ["id", "enrollment", "done", "next", "blockers", "confidence", "archived_at", "created_at"]
        read_only_fields = ["id", "archived_at", "created_at"]

    def create(self, validated_data):
        return call_service(services.check_in_create, organization=self.context["organization"], **validated_data)


class HelpRequestReplySerializer(TenantModelSerializer):
    class Meta:
        model = HelpRequestReply
        fields = ["id", "help_request", "mentor", "author", "body", "created_at"]
        read_only_fields = fields


class HelpRequestSerializer(TenantModelSerializer):
    time_to_first_response_seconds = serializers.SerializerMethodField()

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "enrollment",
            "act",
            "impact",
            "desired_outcome",
            "status",
            "first_response_at",
            "time_to_first_response_seconds",
            "resolved_at",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "first_response_at",
            "resolved_at",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def get_time_to_first_response_seconds(self, obj) -> int | None:
        waited = obj.time_to_first_response
        return int(waited.total_seconds()) if waited is not None else None

    def create(self, validated_data):
        return call_service(services.help_request_create, organization=self.context["organization"], **validated_data)


class HelpRequestReplyRequestSerializer(serializers.Serializer):
    body = StrictCharField(max_length=8000)
