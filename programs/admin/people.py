"""Participants and teams."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_base import LargeChangeListMixin, TenantAdmin, TenantInline
from programs import services
from programs.admin.base import (
    ConstantQueryChoicesMixin,
)
from programs.models import (
    Participant,
    Team,
    TeamMembership,
)


@admin.register(Participant)
class ParticipantAdmin(LargeChangeListMixin, TenantAdmin):
    list_display = ["name", "email", "company", "stage", "language"]
    list_filter = ["language", "stage"]
    search_fields = ["name", "email", "company", "phone"]
    fields = ["name", "email", "phone", "company", "stage", "tags", "language"]
    create_service = services.participant_create
    update_service = services.participant_update


class TeamMembershipInline(ConstantQueryChoicesMixin, TenantInline):
    model = TeamMembership
    fields = ["participant"]
    autocomplete_fields = ["participant"]
    create_service = services.team_member_add

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("participant")


@admin.register(Team)
class TeamAdmin(TenantAdmin):
    list_display = ["name", "member_count"]
    search_fields = ["name", "members__name"]
    inlines = [TeamMembershipInline]
    create_service = services.team_create
    update_service = services.team_update

    def get_queryset(self, request):
        # Meta.ordering does not apply to an aggregated (GROUP BY) query: order explicitly.
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("memberships", distinct=True))
            .order_by("name", "id")
        )

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, obj):
        return obj.member_total
