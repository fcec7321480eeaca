"""The tenant admin: one organization at a time, 404 for everything else."""

import pytest
from django.urls import reverse

from core.models import Membership, User
from tests.factories.core import MembershipFactory, UserFactory


@pytest.fixture
def other_membership(other_organization):
    return MembershipFactory(organization=other_organization, role=Membership.Role.VIEWER)


def test_a_program_manager_logs_in_without_the_staff_flag(program_manager, client):
    assert not program_manager.is_staff
    response = client.post(
        reverse("admin:login"), {"username": program_manager.email, "password": "pass-for-tests"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"] == program_manager
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_mentor_or_a_stranger_cannot_use_the_admin(mentor_user, client):
    response = client.post(reverse("admin:login"), {"username": mentor_user.email, "password": "pass-for-tests"})
    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_membership_list_shows_only_the_active_organization(
    owner, organization, other_membership, admin_client_for
):
    response = admin_client_for(owner).get(reverse("admin:core_membership_changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].queryset)
    assert shown and all(m.organization_id == organization.id for m in shown)
    assert other_membership not in shown


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_organizations_row_answers_404(owner, other_membership, admin_client_for, view):
    url = reverse(f"admin:core_membership_{view}", args=[other_membership.pk])
    assert admin_client_for(owner).get(url).status_code == 404


def test_changing_another_organizations_row_is_refused(owner, other_membership, admin_client_for):
    url = reverse("admin:core_membership_change", args=[other_membership.pk])
    response = admin_client_for(owner).post(url, {"role": Membership.Role.OWNER})
    assert response.status_code == 404
    other_membership.refresh_from_db()
    assert other_membership.role == Membership.Role.VIEWER


def test_deleting_another_organizations_row_is_refused(owner, other_membership, admin_client_for):
    url = reverse("admin:core_membership_delete", args=[other_membership.pk])
    assert admin_client_for(owner).post(url, {"post": "yes"}).status_code == 404
    assert Membership.objects.filter(pk=other_membership.pk).exists()


def test_bulk_delete_action_cannot_reach_another_organization(owner, other_membership, admin_client_for):
    response = admin_client_for(owner).post(
        reverse("admin:core_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [other_membership.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Membership.objects.filter(pk=other_membership.pk).exists()


def test_an_owner_adds_a_member_by_email_into_the_active_organization(owner, organization, admin_client_for):
    response = admin_client_for(owner).post(
        reverse("admin:core_membership_add"),
        {"email": "New.PM@Hanbit.test", "name": "새 매니저", "role": Membership.Role.PROGRAM_MANAGER},
    )
    assert response.status_code == 302, response.content
    membership = Membership.objects.for_organization(organization).get(user__email="new.pm@hanbit.test")
    assert membership.role == Membership.Role.PROGRAM_MANAGER
    assert not membership.user.has_usable_password()


def test_adding_an_existing_member_twice_is_a_form_error_and_saves_nothing(owner, program_manager, admin_client_for):
    users_before = User.objects.count()
    response = admin_client_for(owner).post(
        reverse("admin:core_membership_add"), {"email": program_manager.email, "role": Membership.Role.VIEWER}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.count() == users_before
    assert Membership.objects.get(user=program_manager).role == Membership.Role.PROGRAM_MANAGER


def test_a_program_manager_may_view_but_not_change_memberships(program_manager, owner, admin_client_for):
    client = admin_client_for(program_manager)
    assert client.get(reverse("admin:core_membership_changelist")).status_code == 200
    membership = Membership.objects.get(user=owner)
    response = client.post(reverse("admin:core_membership_change", args=[membership.pk]), {"role": 10})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Membership.Role.OWNER


def test_a_member_of_two_organizations_switches_between_them(
    program_manager, organization, other_organization, admin_client_for
):
    MembershipFactory(organization=other_organization, user=program_manager, role=Membership.Role.PROGRAM_MANAGER)
    client = admin_client_for(program_manager)
    changelist = reverse("admin:core_membership_changelist")
    for target in (organization, other_organization, organization):
        client.post(reverse("admin:switch_organization"), {"organization": target.id})
        response = client.get(changelist)
        assert {m.organization_id for m in response.context["cl"].queryset} == {target.id}


def test_switching_to_an_organization_one_does_not_belong_to_is_refused(
    program_manager, organization, other_organization, admin_client_for
):
    client = admin_client_for(program_manager)
    client.post(reverse("admin:switch_organization"), {"organization": other_organization.id})
    response = client.get(reverse("admin:core_membership_changelist"))
    assert {m.organization_id for m in response.context["cl"].queryset} == {organization.id}


def test_a_platform_superuser_sees_every_organization(superuser, program_manager, other_membership, admin_client_for):
    response = admin_client_for(superuser).get(reverse("admin:core_membership_changelist"))
    assert {m.pk for m in response.context["cl"].queryset} >= {other_membership.pk}


def test_the_organization_page_lists_only_ones_own(program_manager, organization, other_organization, admin_client_for):
    client = admin_client_for(program_manager)
    response = client.get(reverse("admin:core_organization_changelist"))
    assert list(response.context["cl"].queryset) == [organization]
    assert client.get(reverse("admin:core_organization_change", args=[other_organization.pk])).status_code == 302


def test_the_membership_changelist_makes_a_constant_number_of_queries(
    owner, organization, admin_client_for, django_assert_max_num_queries
):
    client = admin_client_for(owner)
    url = reverse("admin:core_membership_changelist")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    MembershipFactory.create_batch(15, organization=organization)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
