"""Webhook subscriptions and their delivery log, for integrators."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ArchivableTenantModelViewSet, TenantReadOnlyModelViewSet
from integrations import selectors, services
from integrations.api.serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionSerializer,
    WebhookSubscriptionWithSecretSerializer,
)
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions"),
    create=extend_schema(
        summary="Subscribe a URL to events",
        description="The response carries the signing `secret`, shown again only after a rotation.",
        responses={201: WebhookSubscriptionWithSecretSerializer},
    ),
    retrieve=extend_schema(summary="Get a webhook subscription"),
    update=extend_schema(summary="Replace a webhook subscription"),
    partial_update=extend_schema(
        summary="Change a webhook subscription",
        description="`is_active: true` turns a disabled subscription back on.",
    ),
    destroy=extend_schema(summary="Archive a webhook subscription (no more deliveries)"),
    restore=extend_schema(summary="Restore an archived webhook subscription", request=None),
)
class WebhookSubscriptionViewSet(ArchivableTenantModelViewSet):
    """Where and which events to send, signed per the Standard Webhooks specification."""

    model = WebhookSubscription
    serializer_class = WebhookSubscriptionSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "url"]
    ordering = ["-created_at", "-id"]

    def get_serializer_class(self):
        if self.action in ("create", "rotate_secret"):
            return WebhookSubscriptionWithSecretSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="Rotate the signing secret",
        description=(
            "Returns the new `secret`. For 24 hours every delivery is signed with both the new and the "
            "previous secret (two signatures in `webhook-signature`), so receivers can switch without loss."
        ),
        request=None,
        responses={200: WebhookSubscriptionWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        subscription = services.webhook_secret_rotate(organization=self.organization, subscription=self.get_object())
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="Send a test event",
        description=(
            "Queues a `webhook.test` event (`data`: the subscription id and organization slug) to this "
            "subscription only, signed like every other event. Follow it in the delivery log."
        ),
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path="send-test")
    def send_test(self, request, *args, **kwargs):
        delivery = services.webhook_test_send(organization=self.organization, subscription=self.get_object())
        delivery = selectors.webhook_deliveries(organization=self.organization).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery, context=self.get_serializer_context()).data, status=202)


@extend_schema_view(
    list=extend_schema(summary="List webhook deliveries with their attempts"),
    retrieve=extend_schema(summary="Get a webhook delivery with its attempts"),
)
class WebhookDeliveryViewSet(TenantReadOnlyModelViewSet):
    """One row per event and subscription: status, retries and every HTTP attempt."""

    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    filterset_fields = ["status", "event_type", "subscription"]
    ordering_fields = ["created_at", "next_attempt_at"]
    ordering = ["-created_at", "-id"]

    def safely_get_queryset(self, queryset):
        attempts = WebhookAttempt.objects.for_organization(self.organization).order_by("number")
        return queryset.prefetch_related(Prefetch("attempts", queryset=attempts))

    @extend_schema(
        summary="Send a delivery again",
        description="Same `webhook-id` as before, so a receiver that already processed it can ignore it.",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, *args, **kwargs):
        delivery = services.webhook_delivery_replay(organization=self.organization, delivery=self.get_object())
        delivery = selectors.webhook_deliveries(organization=self.organization).get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data, status=202)
