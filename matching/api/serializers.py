"""Serializers of the matching API. Writes go through ``matching.services``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import (
    ApiModelSerializer,
    StrictCharField,
    TenantModelSerializer,
    call_service,
)
from matching import services
from matching.models import Conflict, Preference, Proposal, ProposedPair
from matching.reasons import reason_text
from programs.models import Run


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="areas, industry, stage, goal, language, no_common_language, "
        "participant_choice, mentor_choice, seats, no_seat, changed"
    )
    text = serializers.CharField(help_text="The reason in words, in the request's language (Accept-Language)")


class ProposedPairSerializer(ApiModelSerializer):
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = ProposedPair
        fields = ["id", "enrollment", "mentor", "score", "reasons", "accepted_at", "assignment"]
        read_only_fields = fields

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, pair: ProposedPair) -> list[dict]:
        return [{"code": str(reason.get("code", "")), "text": reason_text(reason)} for reason in pair.reasons or []]


class ProposalSerializer(TenantModelSerializer):
    run = serializers.PrimaryKeyRelatedField(queryset=Run.objects.all())
    pairs = ProposedPairSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = ["id", "run", "created_by", "created_at", "pairs"]
        read_only_fields = ["id", "created_by", "created_at", "pairs"]

    def create(self, validated_data):
        request = self.context["request"]
        return call_service(
            services.proposal_create,
            organization=self.context["organization"],
            run=validated_data["run"],
            created_by=request.user if request.user.is_authenticated else None,
        )


class ProposalAcceptRequestSerializer(serializers.Serializer):
    pairs = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="Ids of the pairs to accept; leave out to accept every pair that has a mentor (all or none).",
    )


class ConflictSerializer(TenantModelSerializer):
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = Conflict
        fields = ["id", "mentor", "enrollment", "note", "created_at"]
        read_only_fields = ["id", "created_at"]

    def create(self, validated_data):
        return call_service(services.conflict_mark, organization=self.context["organization"], **validated_data)


class PreferenceSerializer(ApiModelSerializer):
    class Meta:
        model = Preference
        fields = ["id", "run", "enrollment", "mentor", "side", "rank", "created_at"]
        read_only_fields = fields
