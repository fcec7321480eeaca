"""Endpoints of the mentors app under ``/api/v1/orgs/<org_slug>/``.

Who sees what:

* mentors, invitations: read by viewers and up, written by program managers;
* development goals, key results, goal check-ins: a mentor reads and writes their
  own (private and shared); viewers and up read the goals mentors *shared*, never
  the private ones, and change none;
* sessions: a mentor reads and logs their own; viewers and up read all; program
  managers may log or change any mentor's.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.api.base import ArchivableTenantModelViewSet, TenantModelViewSet
from core.models import Membership
from mentors import selectors
from mentors.api import serializers
from mentors.models import DevelopmentGoal, GoalCheckIn, KeyResult, Mentor, MentoringSession, MentorInvitation

MENTOR_ROLE_MAP = {
    method: Membership.Role.MENTOR for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
}


class MentorAwareMixin:
    """Knows the requester's own mentor row (None for non-mentors and API keys)."""

    @cached_property
    def requesting_mentor(self) -> Mentor | None:
        return selectors.mentor_for_user(organization=self.organization, user=self.request.user)

    def requester_role_at_least(self, role: int) -> bool:
        if self.request.user.is_authenticated and self.request.user.is_superuser:
            return True
        membership = self.membership
        return membership is not None and membership.role >= role

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["requesting_mentor"] = self.requesting_mentor
        context["may_act_for_any_mentor"] = self.requester_role_at_least(Membership.Role.PROGRAM_MANAGER)
        return context


class OnlyMentorsCreate(BasePermission):
    """Creating a development goal needs a mentor row of the organization.

    A program manager or an API key is refused with 403 before the body is read (a
    valid body used to answer 400, as if the input were wrong). Key results and goal
    check-ins name their goal in the body, which answers the field error instead.
    """

    message = _("Only mentors of the organization keep development goals.")

    def has_permission(self, request, view) -> bool:
        return getattr(view, "action", None) != "create" or view.requesting_mentor is not None


class OwnGoalsOnlyForWrites(BasePermission):
    """Reading a shared goal is fine; changing it is for its mentor only."""

    message = "Only the mentor can change their own goals."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        goal = obj if isinstance(obj, DevelopmentGoal) else obj.goal
        mentor = view.requesting_mentor
        return mentor is not None and goal.mentor_id == mentor.pk


class OwnSessionsOrProgramManager(BasePermission):
    message = "Only the mentor who held the session, or a program manager, can change it."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or view.requester_role_at_least(Membership.Role.PROGRAM_MANAGER):
            return True
        mentor = view.requesting_mentor
        return mentor is not None and obj.mentor_id == mentor.pk


def _visible_goals(view) -> Q:
    """The goals the requester may see: their own, and shared ones for viewers and up."""
    visible = Q(pk__in=[])
    if view.requester_role_at_least(Membership.Role.VIEWER):
        visible |= Q(visibility=DevelopmentGoal.Visibility.SHARED)
    if view.requesting_mentor is not None:
        visible |= Q(mentor=view.requesting_mentor)
    return visible


@extend_schema_view(
    list=extend_schema(summary="List mentors"),
    retrieve=extend_schema(summary="A mentor"),
    partial_update=extend_schema(summary="Change a mentor (status, capacity, profile)"),
    update=extend_schema(summary="Replace a mentor's profile"),
)
class MentorViewSet(TenantModelViewSet):
    """Mentors of the organization. New mentors arrive by invitation (see mentor-invitations)."""

    model = Mentor
    serializer_class = serializers.MentorSerializer
    http_method_names = ["get", "put", "patch", "head", "options"]
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "capacity", "status"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return queryset.select_related("user").order_by("id")


@extend_schema_view(
    list=extend_schema(summary="List mentor invitations"),
    create=extend_schema(summary="Invite someone to mentor (sends the email)"),
)
class MentorInvitationViewSet(TenantModelViewSet):
    """Invitations by email; the link works once and expires (see docs/mentors.md)."""

    model = MentorInvitation
    serializer_class = serializers.MentorInvitationSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["email"]
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-id"]

    def safely_get_queryset(self, queryset):
        return queryset.order_by("-id")


@extend_schema_view(
    list=extend_schema(summary="List development goals (your own, and shared ones for the program team)"),
    create=extend_schema(summary="Create one of your own goals"),
)
class DevelopmentGoalViewSet(MentorAwareMixin, ArchivableTenantModelViewSet):
    """Mentors' development goals. Private goals are visible to their mentor only."""

    model = DevelopmentGoal
    serializer_class = serializers.DevelopmentGoalSerializer
    role_map = MENTOR_ROLE_MAP
    extra_permission_classes = (OwnGoalsOnlyForWrites, OnlyMentorsCreate)
    filterset_fields = ["status", "visibility", "mentor"]
    ordering_fields = ["target_date", "created_at", "updated_at"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        return (
            queryset.filter(_visible_goals(self))
            .select_related("mentor")
            .prefetch_related("key_results")
            .order_by("id")
        )


@extend_schema_view(
    list=extend_schema(summary="List key results of the goals you may see"),
    create=extend_schema(summary="Add a key result to one of your goals"),
)
class KeyResultViewSet(MentorAwareMixin, TenantModelViewSet):
    """Key results. ``current_value`` moves only with a goal check-in."""

    model = KeyResult
    serializer_class = serializers.KeyResultSerializer
    role_map = MENTOR_ROLE_MAP
    extra_permission_classes = (OwnGoalsOnlyForWrites,)
    filterset_fields = ["goal"]
    ordering_fields = ["created_at"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        visible_goals = DevelopmentGoal.objects.for_organization(self.organization).filter(_visible_goals(self))
        return queryset.filter(goal__in=visible_goals).select_related("goal").order_by("id")


@extend_schema_view(
    list=extend_schema(summary="List check-ins of the goals you may see"),
    create=extend_schema(summary="Check in on one of your goals (new key-result values, note, confidence)"),
)
class GoalCheckInViewSet(MentorAwareMixin, TenantModelViewSet):
    """Goal check-ins: recorded, never edited (they are the goal's history)."""

    model = GoalCheckIn
    serializer_class = serializers.GoalCheckInSerializer
    role_map = MENTOR_ROLE_MAP
    extra_permission_classes = (OwnGoalsOnlyForWrites,)
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["goal"]
    ordering_fields = ["created_at"]
    ordering = ["id"]

    def safely_get_queryset(self, queryset):
        visible_goals = DevelopmentGoal.objects.for_organization(self.organization).filter(_visible_goals(self))
        return queryset.filter(goal__in=visible_goals).prefetch_related("readings").order_by("id")


_SESSION_CHANGE = extend_schema(
    summary="Change a logged session (its mentor stays: sending another one is a 400)",
    request=serializers.MentoringSessionUpdateSerializer,
    responses=serializers.MentoringSessionSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List mentoring sessions"),
    create=extend_schema(summary="Log a mentoring session (mentees present get a rating link)"),
    update=_SESSION_CHANGE,
    partial_update=_SESSION_CHANGE,
)
class MentoringSessionViewSet(MentorAwareMixin, ArchivableTenantModelViewSet):
    """Mentoring sessions with their rating count and average (raters stay anonymous)."""

    model = MentoringSession
    serializer_class = serializers.MentoringSessionSerializer
    role_map = MENTOR_ROLE_MAP
    extra_permission_classes = (OwnSessionsOrProgramManager,)
    filterset_fields = {"mentor": ["exact"], "held_on": ["exact", "gte", "lte"]}
    ordering_fields = ["held_on", "created_at"]
    ordering = ["-held_on", "-id"]

    def get_serializer_class(self):
        if getattr(self, "action", None) in ("update", "partial_update"):
            return serializers.MentoringSessionUpdateSerializer
        return super().get_serializer_class()

    def safely_get_queryset(self, queryset):
        if not self.requester_role_at_least(Membership.Role.VIEWER):
            mentor = self.requesting_mentor
            queryset = queryset.filter(mentor=mentor) if mentor is not None else queryset.none()
        return selectors.with_session_details(queryset)
