"""Input and output of the webhook endpoints."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.api.serializers import ApiModelSerializer, StrictURLField, TenantModelSerializer, django_to_drf_errors
from core.events import EVENT_TYPES
from integrations import services
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class WebhookURLField(StrictURLField):
    """An endpoint URL: http or https, without credentials (what ``core.outbound.url_problem`` accepts)."""

    # Read by core.api.schema for the URL's pattern.
    url_schemes = ("https?",)
    url_credentials = False


class WebhookSubscriptionSerializer(TenantModelSerializer):
    url = WebhookURLField(max_length=500, help_text="Your endpoint: http or https, no user name or password.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        allow_empty=False,
        min_length=1,  # the schema's minItems: an empty list was schema-valid and answered 400
        help_text="Event types to receive.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def create(self, validated_data):
        try:
            return services.webhook_subscription_create(
                organization=self.context["organization"],
                url=validated_data["url"],
                events=validated_data["events"],
                description=validated_data.get("description", ""),
            )
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error

    def update(self, instance, validated_data):
        try:
            return services.webhook_subscription_update(
                organization=self.context["organization"], subscription=instance, **validated_data
            )
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    """Shown on creation and after a rotation only: the secret to verify signatures with."""

    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: verify `webhook-signature` with it.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(ApiModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "created_at", "url", "succeeded", "status_code", "latency_ms", "response_body", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(ApiModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "delivered_at",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields
