"""Serializers of the mentors API. Writes go through the services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import (
    ApiModelSerializer,
    StrictCharField,
    TenantModelSerializer,
    call_service,
)
from mentors import selectors, services
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    KeyResultReading,
    Mentor,
    MentoringSession,
    MentorInvitation,
)
from programs.models import Enrollment


class MentorSerializer(TenantModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    expertise = serializers.ListField(child=StrictCharField(max_length=100), required=False)

    class Meta:
        model = Mentor
        fields = [
            "id",
            "email",
            "name",
            "expertise",
            "bio",
            "motivation",
            "capacity",
            "availability",
            "other_affiliations",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "email", "name", "created_at", "updated_at"]


class MentorInvitationSerializer(TenantModelSerializer):
    state = serializers.CharField(read_only=True, help_text="pending, accepted or expired")
    language = serializers.ChoiceField(choices=MentorInvitation._meta.get_field("language").choices, required=False)

    class Meta:
        model = MentorInvitation
        fields = ["id", "email", "name", "language", "message", "state", "expires_at", "accepted_at", "created_at"]
        read_only_fields = ["id", "state", "expires_at", "accepted_at", "created_at"]

    def create(self, validated_data):
        request = self.context["request"]
        invitation, _token = call_service(
            services.invitation_create,
            organization=self.context["organization"],
            invited_by=request.user if request.user.is_authenticated else None,
            base_url=request.build_absolute_uri("/"),
            **validated_data,
        )
        return invitation


class KeyResultSerializer(TenantModelSerializer):
    progress = serializers.IntegerField(read_only=True, help_text="0-100, from start towards target")

    class Meta:
        model = KeyResult
        fields = [
            "id",
            "goal",
            "title",
            "start_value",
            "current_value",
            "target_value",
            "unit",
            "progress",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "current_value", "progress", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["goal"].read_only = True
        return fields

    def validate_goal(self, goal: DevelopmentGoal) -> DevelopmentGoal:
        mentor = self.context.get("requesting_mentor")
        if mentor is None or goal.mentor_id != mentor.pk:
            raise serializers.ValidationError(_("You can add key results to your own goals only."))
        return goal

    def create(self, validated_data):
        return call_service(services.key_result_add, organization=self.context["organization"], **validated_data)

    def update(self, instance, validated_data):
        return call_service(
            services.key_result_update, organization=self.context["organization"], key_result=instance, **validated_data
        )


class NestedKeyResultSerializer(serializers.Serializer):
    """A key result given with a new goal."""

    title = StrictCharField(max_length=200)
    start_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, default=0)
    target_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    unit = StrictCharField(max_length=40, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["target_value"] == attrs.get("start_value", 0):
            raise serializers.ValidationError(
                {"target_value": _("The target must differ from the start value, or there is nothing to measure.")}
            )
        return attrs


class DevelopmentGoalSerializer(TenantModelSerializer):
    mentor = serializers.PrimaryKeyRelatedField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="0-100, the mean progress of the key results")
    key_results = KeyResultSerializer(many=True, read_only=True)
    new_key_results = NestedKeyResultSerializer(
        many=True, write_only=True, required=False, help_text="Key results to create with the goal (create only)."
    )

    class Meta:
        model = DevelopmentGoal
        fields = [
            "id",
            "mentor",
            "title",
            "why_it_matters",
            "target_date",
            "status",
            "visibility",
            "checkin_cadence_days",
            "progress",
            "key_results",
            "new_key_results",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "mentor", "progress", "key_results", "archived_at", "created_at", "updated_at"]

    def get_progress(self, goal: DevelopmentGoal) -> int:
        return int(selectors.goal_progress(goal))

    def create(self, validated_data):
        mentor = self.context.get("requesting_mentor")
        if mentor is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Only mentors of the organization keep development goals.")]}
            )
        key_results = validated_data.pop("new_key_results", [])
        return call_service(
            services.goal_create,
            organization=self.context["organization"],
            mentor=mentor,
            key_results=key_results,
            **validated_data,
        )

    def update(self, instance, validated_data):
        if validated_data.pop("new_key_results", None):
            raise serializers.ValidationError(
                {"new_key_results": [_("Add key results to an existing goal through the key-results endpoint.")]}
            )
        if instance.is_archived:
            raise serializers.ValidationError(
                {"non_field_errors": [_("This goal is archived. Restore it before changing it or checking in.")]}
            )
        return call_service(
            services.goal_update, organization=self.context["organization"], goal=instance, **validated_data
        )


@extend_schema_field({"$ref": "#/components/schemas/DevelopmentGoalStatusEnum"})
class CheckInGoalStatusField(serializers.ChoiceField):
    """The goal's status given at a check-in.

    Described by the goal's own ``status`` enum: a second component with the same
    choices would make drf-spectacular name the enum by a hash, and a plain string
    (as it was) let ``""`` or ``"finished"`` pass the schema and answer 400.
    """


class KeyResultReadingSerializer(ApiModelSerializer):
    class Meta:
        model = KeyResultReading
        fields = ["key_result", "value"]


class GoalCheckInSerializer(TenantModelSerializer):
    values = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        write_only=True,
        required=False,
        help_text='New current values by key-result id, e.g. {"12": 3}.',
    )
    readings = KeyResultReadingSerializer(many=True, read_only=True)
    status = CheckInGoalStatusField(
        choices=DevelopmentGoal.Status.choices,
        required=False,
        help_text="The goal's status as of this check-in (on_track, behind, at_risk, done); the goal takes it on.",
    )

    class Meta:
        model = GoalCheckIn
        fields = ["id", "goal", "progress", "confidence", "status", "note", "values", "readings", "created_at"]
        read_only_fields = ["id", "progress", "readings", "created_at"]

    def validate_goal(self, goal: DevelopmentGoal) -> DevelopmentGoal:
        mentor = self.context.get("requesting_mentor")
        if mentor is None or goal.mentor_id != mentor.pk:
            raise serializers.ValidationError(_("You can check in on your own goals only."))
        return goal

    def validate_values(self, values: dict) -> dict:
        cleaned = {}
        for key, value in values.items():
            try:
                cleaned[int(key)] = value
            except (TypeError, ValueError):
                raise serializers.ValidationError(_("Keys must be key-result ids."))
        return cleaned

    def create(self, validated_data):
        return call_service(services.goal_check_in, organization=self.context["organization"], **validated_data)


class MentoringSessionSerializer(TenantModelSerializer):
    mentor = serializers.PrimaryKeyRelatedField(
        queryset=Mentor.objects.all(),
        required=False,
        help_text=(
            "Who held the session: any mentor of the organization for program managers and API keys, who must "
            "send it; mentors log their own (the default). Chosen when the session is logged: it cannot change "
            "afterwards."
        ),
    )
    attendees = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Enrollment.objects.all())
    rating_count = serializers.IntegerField(read_only=True)
    rating_average = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Average score (1-5), null until at least 3 mentees rated the session: with fewer, "
            "the attendees would tell whose rating it is."
        ),
    )

    class Meta:
        model = MentoringSession
        fields = [
            "id",
            "mentor",
            "held_on",
            "duration_minutes",
            "topics",
            "notes",
            "next_steps",
            "attendees",
            "rating_count",
            "rating_average",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "rating_count", "rating_average", "archived_at", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["mentor"].read_only = True
        return fields

    def validate_mentor(self, mentor: Mentor) -> Mentor:
        if not self.context.get("may_act_for_any_mentor") and mentor != self.context.get("requesting_mentor"):
            raise serializers.ValidationError(_("You can log your own sessions only."))
        return mentor

    def create(self, validated_data):
        mentor = validated_data.pop("mentor", None) or self.context.get("requesting_mentor")
        if mentor is None:
            raise serializers.ValidationError({"mentor": [_("Choose the mentor who held the session.")]})
        request = self.context["request"]
        session = call_service(
            services.session_log,
            organization=self.context["organization"],
            mentor=mentor,
            attendees=validated_data.pop("attendees", []),
            base_url=request.build_absolute_uri("/"),
            **validated_data,
        )
        return self._annotated(session)

    def update(self, instance, validated_data):
        validated_data.pop("mentor", None)
        session = call_service(
            services.session_update,
            organization=self.context["organization"],
            session=instance,
            attendees=validated_data.pop("attendees", None),
            **validated_data,
        )
        return self._annotated(session)

    def _annotated(self, session: MentoringSession) -> MentoringSession:
        organization = self.context["organization"]
        return selectors.sessions_annotated(organization=organization).get(pk=session.pk)


class MentoringSessionUpdateSerializer(MentoringSessionSerializer):
    """A logged session changed (PUT/PATCH): its ``mentor`` is read-only.

    The mentor is who held the session: the attendees are their mentees and the rating
    links name them. A request that sends another mentor is refused with a field error
    instead of being silently ignored; sending the current one back (a GET, edited, then
    PUT) is fine.
    """

    mentor = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The mentor who held the session (set when it was logged)."
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        if "mentor" in data and self.instance is not None and str(data["mentor"]) != str(self.instance.mentor_id):
            raise serializers.ValidationError(
                {
                    "mentor": serializers.ErrorDetail(
                        _(
                            "The mentor of a logged session cannot change. To record it for another mentor, "
                            "log a new session and archive this one."
                        ),
                        code="read_only",
                    )
                }
            )
        return attrs
