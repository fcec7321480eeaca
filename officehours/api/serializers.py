"""Read-only representations of office-hours slots and bookings."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import ApiModelSerializer
from officehours.models import OfficeHourBooking, OfficeHourSlot
from officehours.occurrences import occurrence_starts


class OfficeHourSlotSerializer(ApiModelSerializer):
    # "" when the slot has a place instead: a read-only URLField would promise a URI.
    video_url = serializers.CharField(read_only=True, help_text="A video link, or empty when the slot has a place.")
    occurrences = serializers.SerializerMethodField(help_text="Every start of the slot, in UTC.")

    class Meta:
        model = OfficeHourSlot
        fields = [
            "id",
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
            "occurrences",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_occurrences(self, slot) -> list:
        return [moment.isoformat().replace("+00:00", "Z") for moment in occurrence_starts(slot)]


class OfficeHourBookingSerializer(ApiModelSerializer):
    # Read-only choice fields lose allow_blank in ModelSerializer: "" (not cancelled) must be in the schema.
    cancelled_by = serializers.ChoiceField(
        choices=OfficeHourBooking.CancelledBy.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = OfficeHourBooking
        fields = [
            "id",
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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
