"""Data-subject requests under ``/api/v1/orgs/<org_slug>/privacy/…``.

Program managers and owners only, reads included: the requests name people and the
export holds everything about them. API keys cannot reach these endpoints (there is no
``privacy`` scope): a person with the role acts, and the audit trail names them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import TenantViewSetMixin
from core.api.problems import Conflict
from core.models import Membership
from privacy import services
from privacy.api import serializers
from privacy.api.serializers import call_service
from privacy.models import DataSubjectRequest

PM_ONLY = {method: Membership.Role.PROGRAM_MANAGER for method in ("GET", "HEAD", "OPTIONS", "POST")}


@extend_schema_view(
    list=extend_schema(summary="List data-subject requests (open ones first by due date)"),
    retrieve=extend_schema(summary="One data-subject request"),
    create=extend_schema(summary="Open a data-subject request (access, correction or erasure)"),
)
class DataSubjectRequestViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    model = DataSubjectRequest
    serializer_class = serializers.DataSubjectRequestSerializer
    role_map = PM_ONLY
    api_scope_group = "privacy"
    filterset_fields = ["kind", "status", "participant", "user"]
    ordering_fields = ["due_on", "received_on", "created_at"]
    ordering = ["due_on", "id"]

    def safely_get_queryset(self, queryset):
        return queryset.select_related("participant", "user")

    @extend_schema(
        summary="Carry the request out: prepare the copy, make the corrections, or erase the person",
        request=None,
        responses=serializers.DataSubjectRequestSerializer,
    )
    @action(detail=True, methods=["post"], url_path="carry-out")
    def carry_out(self, request, *args, **kwargs):
        obj = call_service(
            services.data_subject_request_carry_out,
            organization=self.organization,
            request=self.get_object(),
            by=request.user,
        )
        return Response(self.get_serializer(obj).data)

    @extend_schema(
        summary="Close the request and send the person the notice (a refusal gives its reason)",
        request=serializers.CloseSerializer,
        responses=serializers.DataSubjectRequestSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        body = serializers.CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj = call_service(
            services.data_subject_request_close,
            organization=self.organization,
            request=self.get_object(),
            by=request.user,
            refusal_reason=body.validated_data.get("refusal_reason", ""),
        )
        return Response(self.get_serializer(obj).data)

    @extend_schema(
        summary="The access export: everything the organization holds about the person (JSON)",
        responses={200: OpenApiResponse(description="parts of the export, each with its rows")},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, *args, **kwargs):
        obj = self.get_object()
        if obj.kind != DataSubjectRequest.Kind.ACCESS:
            raise Conflict(_("Only an access request has an export."), code="not_access")
        subject = call_service(services.subject_of_request, request=obj)
        return Response(services.person_export(organization=self.organization, subject=subject))
