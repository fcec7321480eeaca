"""Endpoints of mentor matching under ``/api/v1/orgs/<org_slug>/``.

* ``matching-proposals``: viewers and up read; program managers propose (POST with a run)
  and accept (all pairs, or some). Reasons come in words in the request's language.
* ``matching-conflicts``: pairs a program manager rules out.
* ``matching-preferences``: the ranked choices participants and mentors stated (read only;
  participants state theirs from their home link).

API keys need ``matching:read`` / ``matching:write``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.base import TenantModelViewSet
from matching import selectors, services
from matching.api import serializers
from matching.models import Conflict, Preference, Proposal, ProposedPair

READ_AND_CREATE = ["get", "post", "head", "options"]


@extend_schema_view(
    list=extend_schema(summary="List matching proposals (newest first)"),
    retrieve=extend_schema(summary="A matching proposal with its pairs, scores and reasons"),
    create=extend_schema(summary="Propose mentors for every enrollment of a run that has none"),
)
class ProposalViewSet(TenantModelViewSet):
    model = Proposal
    serializer_class = serializers.ProposalSerializer
    http_method_names = READ_AND_CREATE
    filterset_fields = ["run"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def safely_get_queryset(self, queryset):
        pairs = ProposedPair.objects.for_organization(self.organization).order_by("id")
        return queryset.prefetch_related(Prefetch("pairs", queryset=pairs)).order_by("-created_at", "-id")

    @extend_schema(
        summary="Accept pairs: each becomes a mentor assignment (all or none)",
        request=serializers.ProposalAcceptRequestSerializer,
        responses={200: serializers.ProposalSerializer},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        proposal = self.get_object()
        params = serializers.ProposalAcceptRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        ids = params.validated_data.get("pairs")
        if ids is None:
            serializers.call_service(services.proposal_accept_all, organization=self.organization, proposal=proposal)
        else:
            pairs = {
                pair.pk: pair
                for pair in selectors.pairs_of_proposal(organization=self.organization, proposal=proposal).filter(
                    pk__in=ids
                )
            }
            unknown = sorted(set(ids) - set(pairs))
            if unknown:
                raise ValidationError({"pairs": [f"Not pairs of this proposal: {unknown}"]})
            serializers.call_service(
                services.proposal_pairs_accept, organization=self.organization, pairs=[pairs[i] for i in ids]
            )
        proposal = self.get_queryset().get(pk=proposal.pk)
        return Response(self.get_serializer(proposal).data, status=status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="List conflicts (pairs matching never proposes)"),
    create=extend_schema(summary="Mark a conflict between a mentor and an enrollment"),
    destroy=extend_schema(summary="Remove a conflict"),
)
class ConflictViewSet(TenantModelViewSet):
    model = Conflict
    serializer_class = serializers.ConflictSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["mentor", "enrollment", "enrollment__run"]
    ordering_fields = ["created_at"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return queryset.order_by("id")

    def perform_destroy(self, instance):
        services.conflict_remove(organization=self.organization, conflict=instance)


@extend_schema_view(list=extend_schema(summary="List stated preferences (ranked choices)"))
class PreferenceViewSet(TenantModelViewSet):
    model = Preference
    serializer_class = serializers.PreferenceSerializer
    http_method_names = ["get", "head", "options"]
    filterset_fields = ["run", "enrollment", "mentor", "side"]
    ordering_fields = ["rank", "created_at"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return queryset.order_by("id")
