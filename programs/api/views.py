"""Endpoints of the programs app under ``/api/v1/orgs/<org_slug>/``.

Viewers and up read; program managers and owners write. Writes with side effects
(events, last contact, capacity, re-planning) go through :mod:`programs.services`.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ArchivableTenantModelViewSet, TenantModelViewSet, TenantReadOnlyModelViewSet
from programs import services
from programs.api import serializers
from programs.api.serializers import call_service
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

READ_AND_CREATE = ["get", "post", "delete", "head", "options"]


@extend_schema_view(list=extend_schema(summary="List programs"), create=extend_schema(summary="Create a program"))
class ProgramViewSet(TenantModelViewSet):
    model = Program
    express_lists = True  # next pages with an API key: integrations.express
    serializer_class = serializers.ProgramSerializer
    filterset_fields = {"name": ["exact", "icontains"]}
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]


@extend_schema_view(list=extend_schema(summary="List milestone templates (D-n offsets of a program)"))
class MilestoneTemplateViewSet(TenantModelViewSet):
    model = MilestoneTemplate
    serializer_class = serializers.MilestoneTemplateSerializer
    filterset_fields = ["program"]
    ordering_fields = ["days_before_deadline", "name", "created_at"]
    ordering = ["program_id", "-days_before_deadline", "id"]


class RunFilter(filters.FilterSet):
    starts_after = filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    deadline_before = filters.DateFilter(field_name="final_deadline", lookup_expr="lte")

    class Meta:
        model = Run
        fields = ["program", "status"]


_RUN_CHANGE = extend_schema(
    summary="Change a run (the final deadline moves with move-deadline)",
    request=serializers.RunUpdateSerializer,
    responses=serializers.RunSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List runs (cohorts)"),
    create=extend_schema(summary="Create a run"),
    update=_RUN_CHANGE,
    partial_update=_RUN_CHANGE,
)
class RunViewSet(TenantModelViewSet):
    model = Run
    express_lists = True  # next pages with an API key: integrations.express
    serializer_class = serializers.RunSerializer
    filterset_class = RunFilter
    ordering_fields = ["starts_on", "final_deadline", "name", "created_at"]
    ordering = ["-starts_on", "id"]

    def get_serializer_class(self):
        if getattr(self, "action", None) in ("update", "partial_update"):
            return serializers.RunUpdateSerializer
        return super().get_serializer_class()

    def safely_get_queryset(self, queryset):
        return queryset.select_related("program")

    @extend_schema(
        summary="Plan milestones backwards from the final deadline (from the program's templates)",
        description=(
            "Answers every milestone of the run after planning, as one JSON array (never paginated: "
            "a plan is read whole)."
        ),
        request=serializers.PlanRequestSerializer,
        responses={200: serializers.MilestoneSerializer(many=True), 400: OpenApiResponse(description="Plan refused")},
    )
    # The whole plan in one array: no pagination and no list filters (the schema said a paginated list).
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def plan(self, request, *args, **kwargs):
        run = self.get_object()
        params = serializers.PlanRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        milestones = call_service(services.run_plan, organization=self.organization, run=run, **params.validated_data)
        return Response(
            serializers.MilestoneSerializer(milestones, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Move the final deadline: preview old and new dates (confirm=false), then apply (confirm=true)",
        request=serializers.DeadlineMoveRequestSerializer,
        responses={200: serializers.PlanPreviewSerializer},
    )
    @action(detail=True, methods=["post"], url_path="move-deadline")
    def move_deadline(self, request, *args, **kwargs):
        run = self.get_object()
        params = serializers.DeadlineMoveRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        new_deadline = params.validated_data["final_deadline"]
        if params.validated_data["confirm"]:
            preview = call_service(
                services.run_deadline_move,
                organization=self.organization,
                run=run,
                new_deadline=new_deadline,
                accept_before_start=params.validated_data["accept_before_start"],
            )
            applied = True
        else:
            applied = False
            preview = call_service(
                services.run_deadline_move_preview, organization=self.organization, run=run, new_deadline=new_deadline
            )
        data = serializers.PlanPreviewSerializer(preview).data
        data["applied"] = applied
        return Response(data)


@extend_schema_view(list=extend_schema(summary="List participants"))
class ParticipantViewSet(TenantModelViewSet):
    model = Participant
    express_lists = True  # next pages with an API key: integrations.express
    serializer_class = serializers.ParticipantSerializer
    filterset_fields = {
        "email": ["exact"],
        "language": ["exact"],
        "stage": ["exact"],
        "company": ["exact", "icontains"],
        "name": ["icontains"],
    }
    ordering_fields = ["name", "created_at", "company"]
    ordering = ["name", "id"]


@extend_schema_view(list=extend_schema(summary="List teams"))
class TeamViewSet(TenantModelViewSet):
    model = Team
    serializer_class = serializers.TeamSerializer
    filterset_fields = {"name": ["exact", "icontains"]}
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related("members")


@extend_schema_view(list=extend_schema(summary="List team members"))
class TeamMembershipViewSet(TenantModelViewSet):
    model = TeamMembership
    serializer_class = serializers.TeamMembershipSerializer
    http_method_names = READ_AND_CREATE
    filterset_fields = ["team", "participant"]
    ordering_fields = ["created_at"]
    ordering = ["id"]


class EnrollmentFilter(filters.FilterSet):
    silent_since = filters.DateTimeFilter(
        field_name="last_contact_at", lookup_expr="lt", label="Last contact before this time"
    )

    class Meta:
        model = Enrollment
        fields = ["run", "status", "participant", "team"]


_ENROLLMENT_CHANGE = extend_schema(
    summary="Change an enrollment (its run, participant and team stay: archive it and enroll again)",
    request=serializers.EnrollmentUpdateSerializer,
    responses=serializers.EnrollmentSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List enrollments"),
    create=extend_schema(summary="Enroll a participant or a team in a run"),
    update=_ENROLLMENT_CHANGE,
    partial_update=_ENROLLMENT_CHANGE,
    destroy=extend_schema(summary="Archive an enrollment"),
)
class EnrollmentViewSet(ArchivableTenantModelViewSet):
    model = Enrollment
    express_lists = True  # next pages with an API key: integrations.express
    serializer_class = serializers.EnrollmentSerializer
    filterset_class = EnrollmentFilter
    ordering_fields = ["created_at", "last_contact_at", "status"]
    ordering = ["id"]

    def get_serializer_class(self):
        if getattr(self, "action", None) in ("update", "partial_update"):
            return serializers.EnrollmentUpdateSerializer
        return super().get_serializer_class()


@extend_schema_view(
    list=extend_schema(summary="List mentor assignments"),
    create=extend_schema(summary="Assign a mentor to a run or an enrollment (checks the mentor's capacity)"),
)
class MentorAssignmentViewSet(TenantModelViewSet):
    model = MentorAssignment
    serializer_class = serializers.MentorAssignmentSerializer
    http_method_names = READ_AND_CREATE
    filterset_fields = ["run", "mentor", "enrollment"]
    ordering_fields = ["created_at"]
    ordering = ["id"]

    def perform_destroy(self, instance):
        services.mentor_unassign(organization=self.organization, assignment=instance)


class MilestoneFilter(filters.FilterSet):
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_on", lookup_expr="gte")
    completed = filters.BooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Milestone
        fields = ["run", "template"]


@extend_schema_view(list=extend_schema(summary="List milestones"))
class MilestoneViewSet(TenantModelViewSet):
    model = Milestone
    serializer_class = serializers.MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering_fields = ["due_on", "days_before_deadline", "name"]
    ordering = ["due_on", "id"]

    @extend_schema(summary="Mark a milestone completed (re-planning leaves it in place)", request=None)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        milestone = call_service(
            services.milestone_complete, organization=self.organization, milestone=self.get_object()
        )
        return Response(self.get_serializer(milestone).data)


@extend_schema_view(
    list=extend_schema(summary="List milestone progress"),
    create=extend_schema(summary="Record progress of an enrollment on a milestone (posting again updates it)"),
)
class MilestoneProgressViewSet(TenantModelViewSet):
    model = MilestoneProgress
    serializer_class = serializers.MilestoneProgressSerializer
    filterset_fields = ["enrollment", "milestone", "status", "milestone__run"]
    ordering_fields = ["updated_at", "created_at"]
    ordering = ["id"]


@extend_schema_view(list=extend_schema(summary="List check-ins"), create=extend_schema(summary="Record a check-in"))
class CheckInViewSet(ArchivableTenantModelViewSet):
    model = CheckIn
    serializer_class = serializers.CheckInSerializer
    http_method_names = READ_AND_CREATE
    filterset_fields = ["enrollment", "enrollment__run", "confidence"]
    ordering_fields = ["created_at", "confidence"]
    ordering = ["-created_at", "-id"]


@extend_schema_view(
    list=extend_schema(summary="List help requests"),
    create=extend_schema(summary="Ask for help in AID form (routed to the enrollment's mentors)"),
)
class HelpRequestViewSet(ArchivableTenantModelViewSet):
    model = HelpRequest
    serializer_class = serializers.HelpRequestSerializer
    http_method_names = READ_AND_CREATE
    filterset_fields = ["enrollment", "enrollment__run", "status"]
    ordering_fields = ["created_at", "first_response_at", "status"]
    ordering = ["-created_at", "-id"]

    @extend_schema(
        summary="Reply as the program team (the first reply records the time to first response)",
        request=serializers.HelpRequestReplyRequestSerializer,
        responses={201: serializers.HelpRequestReplySerializer},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, *args, **kwargs):
        help_request = self.get_object()
        params = serializers.HelpRequestReplyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        reply = call_service(
            services.help_request_reply,
            organization=self.organization,
            help_request=help_request,
            mentor=None,
            author=request.user if request.user.is_authenticated else None,
            body=params.validated_data["body"],
        )
        return Response(
            serializers.HelpRequestReplySerializer(reply, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Mark a help request resolved", request=None)
    @action(detail=True, methods=["post"])
    def resolve(self, request, *args, **kwargs):
        help_request = call_service(
            services.help_request_resolve, organization=self.organization, help_request=self.get_object()
        )
        return Response(self.get_serializer(help_request).data)


@extend_schema_view(list=extend_schema(summary="List replies to help requests"))
class HelpRequestReplyViewSet(TenantReadOnlyModelViewSet):
    model = HelpRequestReply
    serializer_class = serializers.HelpRequestReplySerializer
    filterset_fields = ["help_request", "mentor"]
    ordering_fields = ["created_at"]
    ordering = ["id"]
