"""The tenant API base: organization from the path, roles per method, 404 across tenants."""

import pytest
from rest_framework.test import APIClient

from core.api.base import TenantModelViewSet
from core.models import Membership
from tests.factories.core import MembershipFactory


def memberships_url(slug):
    return f"/api/v1/orgs/{slug}/memberships/"


def test_a_member_lists_only_their_organizations_rows(
    program_manager, organization, other_program_manager, api_client_for
):
    response = api_client_for(program_manager).get(memberships_url(organization.slug))
    assert response.status_code == 200
    emails = [row["email"] for row in response.json()["results"]]
    assert emails == [program_manager.email]


def test_another_organizations_path_answers_404_like_an_unknown_one(
    program_manager, other_organization, api_client_for
):
    client = api_client_for(program_manager)
    assert client.get(memberships_url(other_organization.slug)).status_code == 404
    assert client.get(memberships_url("no-such-org")).status_code == 404


def test_another_organizations_object_under_ones_own_path_answers_404(
    program_manager, organization, other_program_manager, api_client_for
):
    foreign = Membership.objects.get(user=other_program_manager)
    response = api_client_for(program_manager).get(f"{memberships_url(organization.slug)}{foreign.pk}/")
    assert response.status_code == 404


def test_without_credentials_the_answer_is_401(organization):
    response = APIClient().get(memberships_url(organization.slug))
    assert response.status_code == 401


def test_token_authentication_works(program_manager, organization):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=program_manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(memberships_url(organization.slug)).status_code == 200


def test_roles_are_checked_per_method(mentor_user, viewer, organization, api_client_for):
    assert api_client_for(mentor_user).get(memberships_url(organization.slug)).status_code == 403
    assert api_client_for(viewer).get(memberships_url(organization.slug)).status_code == 200


def test_my_organizations_lists_the_users_memberships(
    program_manager, organization, other_organization, api_client_for
):
    MembershipFactory(organization=other_organization, user=program_manager)
    response = api_client_for(program_manager).get("/api/v1/orgs/")
    assert sorted(o["slug"] for o in response.json()["results"]) == ["hanbit", "other"]


def test_a_viewset_cannot_override_the_scoping():
    with pytest.raises(TypeError):

        class Leaky(TenantModelViewSet):
            def get_queryset(self):
                return Membership.objects.dangerously_all_organizations()


def test_the_list_makes_a_constant_number_of_queries(owner, organization, api_client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(owner)
    with CaptureQueriesContext(connection) as few:
        client.get(memberships_url(organization.slug))
    MembershipFactory.create_batch(12, organization=organization)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(memberships_url(organization.slug)).json()["results"]) == 13
    assert len(many) == len(few)


def test_the_schema_and_docs_are_served(client, db):
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
