"""Input and output serializers of the privacy API."""

from __future__ import annotations

from rest_framework import serializers

from core.api.serializers import ApiModelSerializer, TenantModelSerializer, call_service
from core.models import User
from privacy import selectors, services
from privacy.models import DataSubjectRequest, PrivacySettings


class DataSubjectRequestSerializer(TenantModelSerializer):
    """Output, and the body of POST (opening a request). Changes go through the actions."""

    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "kind",
            "participant",
            "user",
            "person_label",
            "contact_email",
            "received_on",
            "due_on",
            "status",
            "corrections",
            "handled_by",
            "carried_out_at",
            "outcome",
            "closed_at",
            "notice_sent_at",
            "refusal_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "person_label",
            "due_on",
            "status",
            "handled_by",
            "carried_out_at",
            "outcome",
            "closed_at",
            "notice_sent_at",
            "refusal_reason",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"received_on": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        organization = self.context.get("organization")
        fields["user"].queryset = (
            selectors.organization_users(organization=organization) if organization is not None else User.objects.none()
        )
        return fields

    def create(self, validated_data):
        return call_service(
            services.data_subject_request_open,
            organization=self.context["organization"],
            kind=validated_data["kind"],
            participant=validated_data.get("participant"),
            user=validated_data.get("user"),
            received_on=validated_data.get("received_on"),
            contact_email=validated_data.get("contact_email", ""),
            corrections=validated_data.get("corrections") or None,
        )


class CloseSerializer(serializers.Serializer):
    refusal_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PrivacySettingsSerializer(ApiModelSerializer):
    class Meta:
        model = PrivacySettings
        fields = ["retention_days"]


class RetentionCandidateSerializer(serializers.Serializer):
    participant = serializers.IntegerField(source="participant.pk")
    last_run_ended_on = serializers.DateField()
