"""The ordinary-DRF peer: the benchmark's list endpoints as most Django teams write them.

``ReadOnlyModelViewSet`` + ``ModelSerializer`` of the same fields as the platform's
serializers, ``PageNumberPagination`` of 100, no authentication and no row-level
security (``bench.peer_settings`` connects as the owner). Rows are those of the
benchmark organization (``BENCH_ORGANIZATION_ID``), so every server answers the same
data. Served as ``bench.peer_wsgi:application`` (``DJANGO_SETTINGS_MODULE=bench.peer_settings``).
"""

from __future__ import annotations

import os

from django.http import HttpResponse
from django.urls import include, path
from rest_framework import routers, serializers, viewsets

from assessments.models import Assessment, Observation
from programs.models import Enrollment, Run

ORGANIZATION_ID = int(os.environ.get("BENCH_ORGANIZATION_ID", "0"))


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = [
            "id",
            "program",
            "name",
            "starts_on",
            "ends_on",
            "final_deadline",
            "status",
            "checkin_cadence_days",
            "skip_non_working_days",
            "created_at",
            "updated_at",
        ]


class EnrollmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enrollment
        fields = [
            "id",
            "run",
            "participant",
            "team",
            "status",
            "success_definition",
            "commitments",
            "last_contact_at",
            "archived_at",
            "created_at",
            "updated_at",
        ]


class ObservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Observation
        fields = ["indicator", "note"]


class AssessmentSerializer(serializers.ModelSerializer):
    level_number = serializers.IntegerField(source="level.number", read_only=True)
    observations = ObservationSerializer(many=True, read_only=True)
    check_ins = serializers.SerializerMethodField()
    help_requests = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "window",
            "subject_enrollment",
            "subject_mentor",
            "assessor_role",
            "assessor_user",
            "assessor_mentor",
            "assessor_enrollment",
            "level",
            "level_number",
            "notes",
            "links",
            "observations",
            "check_ins",
            "help_requests",
            "version",
            "submitted_at",
        ]

    def get_check_ins(self, obj) -> list[int]:
        return [r.check_in_id for r in obj.references.all() if r.check_in_id]

    def get_help_requests(self, obj) -> list[int]:
        return [r.help_request_id for r in obj.references.all() if r.help_request_id]


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RunSerializer
    queryset = Run.objects.filter(organization_id=ORGANIZATION_ID).order_by("id")


class EnrollmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EnrollmentSerializer
    queryset = Enrollment.objects.filter(organization_id=ORGANIZATION_ID, archived_at__isnull=True).order_by("id")


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AssessmentSerializer
    queryset = (
        Assessment.objects.filter(organization_id=ORGANIZATION_ID)
        .select_related("level")
        .prefetch_related("observations", "references")
        .order_by("id")
    )


router = routers.SimpleRouter()
router.register("runs", RunViewSet, basename="run")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("assessments", AssessmentViewSet, basename="assessment")

urlpatterns = [path("__ready__", lambda request: HttpResponse("ok")), path("peer/", include(router.urls))]
