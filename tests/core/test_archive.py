"""Records with history are archived, never hard-deleted, from the admin and the API; and restored.

Uses programs.Enrollment; the behaviour under test is core's (ArchivableTenantModel,
TenantAdmin's archive/restore actions, ArchivableTenantModelViewSet).
"""

from __future__ import annotations

import pytest
from django.urls import include, path, reverse
from rest_framework import serializers
from rest_framework.routers import DefaultRouter

from core.api.base import ArchivableTenantModelViewSet
from core.api.serializers import TenantModelSerializer
from core.models import ArchivableTenantModel, AuditEvent
from programs.models import Enrollment
from tests.factories.programs import EnrollmentFactory


class EnrollmentProbeSerializer(TenantModelSerializer):
    archived_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "status", "archived_at"]


class EnrollmentProbeViewSet(ArchivableTenantModelViewSet):
    """A minimal endpoint of this module's own: core's behaviour, independent of the programs API."""

    model = Enrollment
    serializer_class = EnrollmentProbeSerializer
    ordering = ["id"]


_router = DefaultRouter()
_router.register("probe-enrollments", EnrollmentProbeViewSet, basename="probe-enrollment")
urlpatterns = [path("api/v1/orgs/<slug:org_slug>/", include(_router.urls))]


@pytest.fixture
def enrollment(organization):
    return EnrollmentFactory(organization=organization, run__program__organization=organization)


@pytest.fixture
def other_enrollment(other_organization):
    return EnrollmentFactory(organization=other_organization, run__program__organization=other_organization)


def stored(enrollment) -> Enrollment:
    return Enrollment.objects.for_organization(enrollment.organization).get(pk=enrollment.pk)


def test_enrollments_are_records_with_history():
    assert issubclass(Enrollment, ArchivableTenantModel)


# --- Admin ----------------------------------------------------------------------------


def changelist_action(client, action, *objects, query=""):
    url = reverse("admin:programs_enrollment_changelist") + query
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})


def test_the_admin_cannot_hard_delete_an_enrollment(program_manager, enrollment, admin_client_for):
    client = admin_client_for(program_manager)
    response = client.post(reverse("admin:programs_enrollment_delete", args=[enrollment.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Enrollment.objects.for_organization(enrollment.organization).filter(pk=enrollment.pk).exists()
    changelist = client.get(reverse("admin:programs_enrollment_changelist"))
    actions = [name for name, _label in changelist.context["action_form"].fields["action"].choices]
    assert "archive_selected" in actions
    assert "delete_selected" not in actions


def test_the_admin_archives_and_restores(program_manager, enrollment, admin_client_for):
    client = admin_client_for(program_manager)
    assert changelist_action(client, "archive_selected", enrollment).status_code == 302
    assert stored(enrollment).archived_at is not None

    current = client.get(reverse("admin:programs_enrollment_changelist"))
    assert enrollment.pk not in {e.pk for e in current.context["cl"].result_list}
    archived = client.get(reverse("admin:programs_enrollment_changelist") + "?archived=yes")
    assert enrollment.pk in {e.pk for e in archived.context["cl"].result_list}

    assert changelist_action(client, "restore_selected", enrollment, query="?archived=yes").status_code == 302
    assert stored(enrollment).archived_at is None
    actions = AuditEvent.objects.for_organization(enrollment.organization).filter(object_id=str(enrollment.pk))
    assert {"archive", "restore"} <= set(actions.values_list("action", flat=True))


def test_a_viewer_cannot_archive(viewer, enrollment, admin_client_for):
    changelist_action(admin_client_for(viewer), "archive_selected", enrollment)
    assert stored(enrollment).archived_at is None


def test_the_admin_cannot_archive_another_organizations_enrollment(
    program_manager, enrollment, other_enrollment, admin_client_for
):
    changelist_action(admin_client_for(program_manager), "archive_selected", other_enrollment)
    assert stored(other_enrollment).archived_at is None


# --- API ------------------------------------------------------------------------------


pytestmark_api = pytest.mark.urls("tests.core.test_archive")


def api_url(organization, pk=None, suffix=""):
    base = f"/api/v1/orgs/{organization.slug}/probe-enrollments/"
    return base if pk is None else f"{base}{pk}/{suffix}"


@pytestmark_api
def test_api_delete_archives_and_restore_brings_it_back(program_manager, organization, enrollment, api_client_for):
    client = api_client_for(program_manager)
    assert client.delete(api_url(organization, enrollment.pk)).status_code == 204
    assert stored(enrollment).archived_at is not None
    listed = client.get(api_url(organization)).json()["results"]
    assert enrollment.pk not in [row["id"] for row in listed]
    with_archived = client.get(api_url(organization) + "?archived=true").json()["results"]
    assert enrollment.pk in [row["id"] for row in with_archived]

    response = client.post(api_url(organization, enrollment.pk, "restore/"))
    assert response.status_code == 200
    assert response.json()["archived_at"] is None
    assert stored(enrollment).archived_at is None


@pytestmark_api
def test_api_cannot_archive_or_restore_another_organizations_enrollment(
    program_manager, organization, other_enrollment, api_client_for
):
    client = api_client_for(program_manager)
    assert client.delete(api_url(organization, other_enrollment.pk)).status_code == 404
    assert client.post(api_url(organization, other_enrollment.pk, "restore/")).status_code == 404
    assert stored(other_enrollment).archived_at is None


@pytestmark_api
def test_a_viewer_cannot_archive_through_the_api(viewer, organization, enrollment, api_client_for):
    assert api_client_for(viewer).delete(api_url(organization, enrollment.pk)).status_code == 403
    assert stored(enrollment).archived_at is None
