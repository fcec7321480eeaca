"""Office hours under ``/api/v1/orgs/<org_slug>/``: read-only, in the ``mentors`` scope group.

A mentor reads their own slots and bookings; viewers and up read all. Writes happen in
the portal (slots) and on the participant's signed-link page (bookings), through the
services.
"""

from __future__ import annotations

from core.api.base import TenantReadOnlyModelViewSet
from core.models import Membership
from mentors.api.views import MENTOR_ROLE_MAP, MentorAwareMixin
from officehours.api import serializers
from officehours.models import OfficeHourBooking, OfficeHourSlot


class _OwnOrViewer(MentorAwareMixin):
    role_map = MENTOR_ROLE_MAP
    api_scope_group = "mentors"

    def safely_get_queryset(self, queryset):
        if not self.requester_role_at_least(Membership.Role.VIEWER):
            mentor = self.requesting_mentor
            queryset = queryset.filter(mentor=mentor) if mentor is not None else queryset.none()
        return queryset


class OfficeHourSlotViewSet(_OwnOrViewer, TenantReadOnlyModelViewSet):
    """Office-hours slots mentors published (one-off or weekly), with every start."""

    model = OfficeHourSlot
    serializer_class = serializers.OfficeHourSlotSerializer
    filterset_fields = {"mentor": ["exact"], "status": ["exact"], "starts_at": ["gte", "lte"]}
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at", "id"]


class OfficeHourBookingViewSet(_OwnOrViewer, TenantReadOnlyModelViewSet):
    """Bookings of office hours: per run, per mentor, per status."""

    model = OfficeHourBooking
    serializer_class = serializers.OfficeHourBookingSerializer
    filterset_fields = {
        "run": ["exact"],
        "mentor": ["exact"],
        "enrollment": ["exact"],
        "status": ["exact"],
        "starts_at": ["gte", "lte"],
    }
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at", "id"]
