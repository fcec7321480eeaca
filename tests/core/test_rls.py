"""The database wall: PostgreSQL row-level security on every tenant table.

The suite connects as ``postgres``, a superuser, whom RLS never restricts. Tests that
exercise the wall switch to the application role inside the test's transaction
(``SET LOCAL ROLE``), exactly the rights the web and worker processes have.
"""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import include, path, reverse
from rest_framework.routers import DefaultRouter

from core import rls
from core.api.base import TenantModelViewSet
from core.api.serializers import TenantModelSerializer
from core.models import Membership, TenantModel
from programs.models import Program
from tests.factories.programs import EnrollmentFactory, ProgramFactory

pytestmark = pytest.mark.postgres


class ProgramProbeSerializer(TenantModelSerializer):
    class Meta:
        model = Program
        fields = ["id", "name"]


class ProgramProbeViewSet(TenantModelViewSet):
    """A minimal endpoint of this module's own, so the test does not depend on an app's API."""

    model = Program
    serializer_class = ProgramProbeSerializer
    ordering = ["id"]


_router = DefaultRouter()
_router.register("probe-programs", ProgramProbeViewSet, basename="probe-program")
urlpatterns = [path("api/v1/orgs/<slug:org_slug>/", include(_router.urls))]


def organization_ids_in(table: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT organization_id FROM {connection.ops.quote_name(table)}")
        return {row[0] for row in cursor.fetchall()}


def current_setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        return cursor.fetchone()[0] or ""


@pytest.fixture
def two_programs(organization, other_organization):
    return ProgramFactory(organization=organization), ProgramFactory(organization=other_organization)


# --- The catalog ----------------------------------------------------------------------


def test_every_table_with_organization_id_has_rls_forced_and_the_policy(postgres):
    states = rls.tenant_tables(connection)
    assert rls.unprotected_tables(connection) == []
    tables = {state.table for state in states}
    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    missing = sorted(m._meta.db_table for m in tenant_models if m._meta.db_table not in tables)
    assert missing == [], "tenant models whose table lacks organization_id"
    assert len(tables) >= len(tenant_models) > 10


def test_the_catalog_test_would_catch_a_new_unprotected_table(owner_connection):
    with owner_connection.cursor() as cursor:
        cursor.execute("CREATE TABLE rls_probe_unprotected (id bigserial PRIMARY KEY, organization_id bigint)")
    assert rls.unprotected_tables(owner_connection) == ["rls_probe_unprotected"]
    # What migrate does at its end protects it.
    rls.on_post_migrate(sender=None, using="owner")
    assert rls.unprotected_tables(owner_connection) == []


def test_a_policy_removed_by_hand_is_caught_and_restored_by_migrate(owner_connection):
    with owner_connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY {rls.POLICY_NAME} ON programs_program")
    assert rls.unprotected_tables(owner_connection) == ["programs_program"]
    rls.apply_policies(owner_connection)
    assert rls.unprotected_tables(owner_connection) == []


def test_the_application_role_cannot_drop_a_policy_or_change_its_own_attributes(postgres):
    role = connection.ops.quote_name(rls.app_role_name())
    for statement in (f"DROP POLICY {rls.POLICY_NAME} ON programs_program", f"ALTER ROLE {role} BYPASSRLS"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


def test_the_application_role_owns_nothing_and_cannot_bypass_rls(app_role):
    assert rls.app_role_problems(connection) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [rls.app_role_name()])
        assert cursor.fetchone() == (False, False)


def test_the_check_command_reports_a_role_that_bypasses_rls(owner_connection):
    role = owner_connection.ops.quote_name(rls.app_role_name())
    with owner_connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE {role} BYPASSRLS")
    with pytest.raises(Exception, match="problem"):
        call_command("setup_database_roles", "--check", "--database", "owner")
    assert any("BYPASSRLS" in problem for problem in rls.app_role_problems(owner_connection))


# --- Raw SQL under a context ----------------------------------------------------------


def test_raw_sql_under_organization_a_sees_none_of_bs_rows(app_role, organization, other_organization):
    EnrollmentFactory(organization=organization, run__program__organization=organization)
    EnrollmentFactory(organization=other_organization, run__program__organization=other_organization)
    with app_role():
        rls.activate(organization.pk)
        for table in ("programs_program", "programs_run", "programs_participant", "programs_enrollment"):
            assert organization_ids_in(table) == {organization.pk}, table
        # Every tenant table, whatever it holds: nothing of B.
        for state in rls.tenant_tables(connection):
            assert other_organization.pk not in organization_ids_in(state.table), state.table


def test_without_an_organization_tenant_tables_return_nothing(app_role, two_programs):
    with app_role():
        rls.deactivate()
        for state in rls.tenant_tables(connection):
            assert organization_ids_in(state.table) == set(), state.table


def test_writing_a_row_for_another_organization_is_refused(app_role, organization, other_organization):
    with app_role():
        rls.activate(organization.pk)
        with (
            pytest.raises(DatabaseError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO programs_program (organization_id, name, description, promised_value, "
                "created_at, updated_at) VALUES (%s, 'Smuggled', '', '', now(), now())",
                [other_organization.pk],
            )


def test_updating_or_deleting_bs_rows_touches_nothing(app_role, organization, two_programs):
    _ours, theirs = two_programs
    with app_role():
        rls.activate(organization.pk)
        assert Program._base_manager.filter(pk=theirs.pk).update(name="Hijacked") == 0
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM programs_program WHERE id = %s", [theirs.pk])
            assert cursor.rowcount == 0
    theirs.refresh_from_db()
    assert theirs.name != "Hijacked"


def test_a_forgotten_filter_returns_nothing_of_b(app_role, organization, two_programs):
    ours, _theirs = two_programs
    with app_role():
        rls.activate(organization.pk)
        # _base_manager is what related descriptors use; it knows nothing of tenants.
        assert list(Program._base_manager.values_list("pk", flat=True)) == [ours.pk]


def test_the_setting_is_transaction_local(app_role, organization):
    with app_role():
        with rls.organization_context(organization.pk):
            assert current_setting(rls.SETTING_ORGANIZATION) == str(organization.pk)
        assert current_setting(rls.SETTING_ORGANIZATION) == ""
        assert rls.current().organization_id is None


def test_dangerously_all_organizations_opens_the_wall_for_one_statement_only(
    app_role, organization, other_organization, two_programs
):
    with app_role():
        rls.activate(organization.pk)
        every = set(Program.objects.dangerously_all_organizations().values_list("organization_id", flat=True))
        assert every == {organization.pk, other_organization.pk}
        assert Program.objects.dangerously_all_organizations().count() == 2
        assert current_setting(rls.SETTING_ALL_ORGANIZATIONS) == ""
        assert organization_ids_in("programs_program") == {organization.pk}


def test_all_organizations_is_explicit_and_logged(app_role, organization, other_organization, two_programs, caplog):
    with app_role(), caplog.at_level(logging.WARNING, logger="core.rls"):
        with rls.all_organizations_context(reason="nightly report"):
            assert organization_ids_in("programs_program") == {organization.pk, other_organization.pk}
        assert organization_ids_in("programs_program") == set()
    assert "nightly report" in caplog.text


# --- Celery ---------------------------------------------------------------------------


@shared_task(name="tests.core.rls_probe")
def rls_probe(*, organization_id: int | None = None) -> list[int]:
    return sorted(organization_ids_in("programs_program"))


@shared_task(name="tests.core.rls_probe_positional")
def rls_probe_positional(organization_id, note="") -> list[int]:
    return sorted(organization_ids_in("programs_program"))


@shared_task(name="tests.core.rls_probe_failing")
def rls_probe_failing(*, organization_id: int) -> None:
    raise RuntimeError("boom")


def test_a_task_for_b_right_after_a_task_for_a_sees_nothing_of_a(app_role, organization, other_organization):
    ProgramFactory(organization=organization)
    ProgramFactory(organization=other_organization)
    with app_role():
        # Same process, same connection: what a worker does between two tasks.
        assert rls_probe.delay(organization_id=organization.pk).get() == [organization.pk]
        assert rls_probe.delay(organization_id=other_organization.pk).get() == [other_organization.pk]
        assert rls_probe_positional.delay(organization.pk).get() == [organization.pk]
        # A task without an organization sees no tenant rows; the context is reset after each task.
        assert rls_probe.delay().get() == []
        assert rls.current().organization_id is None
        assert organization_ids_in("programs_program") == set()


def test_a_failing_task_still_resets_the_context(app_role, organization, other_organization):
    ProgramFactory(organization=other_organization)
    with app_role():
        rls.activate(organization.pk)
        with pytest.raises(RuntimeError):
            rls_probe_failing.delay(organization_id=other_organization.pk)
        assert rls.current().organization_id == organization.pk
        assert organization_ids_in("programs_program") == set()


# --- The application works as the application role ------------------------------------


def test_the_admin_changelist_works_under_rls(app_role, program_manager, organization, two_programs, admin_client_for):
    ours, theirs = two_programs
    client = admin_client_for(program_manager)
    with app_role():
        response = client.get(reverse("admin:programs_program_changelist"))
        assert response.status_code == 200
        shown = {program.pk for program in response.context["cl"].result_list}
        assert shown == {ours.pk}
        assert client.get(reverse("admin:programs_program_change", args=[theirs.pk])).status_code == 404


def test_the_admin_login_reads_the_users_memberships_across_organizations(app_role, program_manager, client):
    with app_role():
        response = client.post(
            reverse("admin:login"), {"username": program_manager.email, "password": "pass-for-tests"}
        )
        assert response.status_code == 302
        assert client.get(reverse("admin:index")).status_code == 200


def test_a_platform_superuser_sees_every_organization_and_it_is_logged(
    app_role, superuser, two_programs, admin_client_for, caplog
):
    client = admin_client_for(superuser)
    with app_role(), caplog.at_level(logging.WARNING, logger="core.rls"):
        response = client.get(reverse("admin:programs_program_changelist"))
    assert response.status_code == 200
    assert {p.pk for p in response.context["cl"].result_list} == {p.pk for p in two_programs}
    assert superuser.email in caplog.text


def test_an_api_list_works_under_rls(app_role, program_manager, organization, other_program_manager, api_client_for):
    client = api_client_for(program_manager)
    with app_role():
        response = client.get(f"/api/v1/orgs/{organization.slug}/memberships/")
    assert response.status_code == 200
    emails = [row["email"] for row in response.json()["results"]]
    assert emails == [program_manager.email]


@pytest.mark.urls("tests.core.test_rls")
def test_api_reads_and_writes_work_under_rls(app_role, program_manager, organization, two_programs, api_client_for):
    ours, theirs = two_programs
    client = api_client_for(program_manager)
    url = f"/api/v1/orgs/{organization.slug}/probe-programs/"
    with app_role():
        listed = client.get(url)
        created = client.post(url, {"name": "Written under RLS"}, format="json")
        foreign = client.get(f"{url}{theirs.pk}/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [ours.pk]
    assert created.status_code == 201, created.content
    assert foreign.status_code == 404
    assert Program.objects.for_organization(organization).filter(name="Written under RLS").exists()


def test_the_middleware_finds_the_users_memberships_in_every_organization(
    app_role, program_manager, organization, other_organization, admin_client_for
):
    Membership.objects.create(organization=other_organization, user=program_manager, role=Membership.Role.VIEWER)
    client = admin_client_for(program_manager)
    with app_role():
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert {m.organization_id for m in response.context["user_memberships"]} == {
        organization.pk,
        other_organization.pk,
    }


def test_a_management_command_works_in_an_organization_context(app_role, organization, two_programs):
    ours, _theirs = two_programs
    with app_role(), rls.organization_context(organization.pk):
        assert list(Program._base_manager.values_list("pk", flat=True)) == [ours.pk]
