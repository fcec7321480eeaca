"""Office hours in the admin: program managers see slots and bookings per run and per mentor.

Read-only: mentors publish in the portal and participants book from their home link.
A program manager may cancel bookings (the action goes through the service: both are told).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_base import TenantAdmin, active_organization
from core.models import Membership
from mentors.admin import MentorListFilter
from officehours import services
from officehours.models import OfficeHourBooking, OfficeHourSlot


@admin.register(OfficeHourSlot)
class OfficeHourSlotAdmin(TenantAdmin):
    list_display = ["__str__", "mentor", "starts_at", "duration_minutes", "repeat", "repeat_until", "status"]
    list_filter = [MentorListFilter, "status", "repeat"]
    search_fields = ["title", "mentor__user__name", "location"]
    fields = [
        "mentor",
        "title",
        "starts_at",
        "duration_minutes",
        "time_zone",
        "repeat",
        "repeat_until",
        "location",
        "video_url",
        "cancel_window_hours",
        "status",
    ]
    readonly_fields = fields
    ordering = ["-starts_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mentor__user")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Cancel the selected bookings (both are told)"))
def cancel_selected(modeladmin, request, queryset):
    organization = active_organization(request)
    done = refused = 0
    for booking in queryset:
        try:
            services.booking_cancel(
                organization=organization, booking=booking, by=OfficeHourBooking.CancelledBy.MANAGER
            )
        except ValidationError:
            refused += 1
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request, ngettext("%(n)d booking cancelled.", "%(n)d bookings cancelled.", done) % {"n": done}
        )
    if refused:
        modeladmin.message_user(
            request,
            ngettext(
                "%(n)d booking was not active or had begun; it was left as it was.",
                "%(n)d bookings were not active or had begun; they were left as they were.",
                refused,
            )
            % {"n": refused},
            level=messages.WARNING,
        )


@admin.register(OfficeHourBooking)
class OfficeHourBookingAdmin(TenantAdmin):
    list_display = ["starts_at", "mentor", "enrollment", "run", "status", "cancelled_by", "session"]
    list_filter = ["run", MentorListFilter, "status", "starts_at"]
    search_fields = ["mentor__user__name", "enrollment__participant__name", "topic"]
    date_hierarchy = "starts_at"
    fields = [
        "slot",
        "mentor",
        "enrollment",
        "run",
        "starts_at",
        "ends_at",
        "topic",
        "status",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
        "session",
        "uid",
        "sequence",
    ]
    readonly_fields = fields
    actions = [cancel_selected]
    ordering = ["-starts_at", "-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("mentor__user", "enrollment__participant", "enrollment__team", "run", "slot", "session")
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._role_at_least(request, Membership.Role.PROGRAM_MANAGER):
            actions.pop("cancel_selected", None)
        return actions

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
