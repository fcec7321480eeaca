import pytest
from django.core.exceptions import ValidationError

from core.models import Membership
from core.tenancy import UnscopedTenantQuery, tenant_guard
from programs.models import Enrollment, Participant, Program, Run


@pytest.fixture
def program(organization):
    return Program.objects.create(organization=organization, name="Customer Discovery Bootcamp")


@pytest.fixture
def other_program(other_organization):
    return Program.objects.create(organization=other_organization, name="Other bootcamp")


def test_for_organization_returns_only_that_organizations_rows(program, other_program, organization):
    assert list(Program.objects.for_organization(organization)) == [program]


def test_unscoped_query_fails_loudly_while_guard_is_armed(program):
    with tenant_guard(), pytest.raises(UnscopedTenantQuery):
        list(Program.objects.all())
    with tenant_guard(), pytest.raises(UnscopedTenantQuery):
        Program.objects.filter(name=program.name).count()
    with tenant_guard(), pytest.raises(UnscopedTenantQuery):
        Program.objects.get(pk=program.pk)
    with tenant_guard(), pytest.raises(UnscopedTenantQuery):
        Program.objects.all().update(name="x")
    program.refresh_from_db()
    assert program.name == "Customer Discovery Bootcamp"


def test_related_managers_of_scoped_objects_are_allowed(program, organization):
    import datetime

    run = Run.objects.create(
        program=program,
        name="Spring",
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 5, 29),
        final_deadline=datetime.date(2026, 5, 28),
    )
    with tenant_guard():
        scoped = Program.objects.for_organization(organization).prefetch_related("runs").get()
        assert list(scoped.runs.all()) == [run]
        assert Run.objects.filter(program=scoped).count() == 1


def test_new_rows_take_the_organization_of_their_parent(program):
    import datetime

    run = Run.objects.create(
        program=program,
        name="Autumn",
        starts_on=datetime.date(2026, 9, 1),
        ends_on=datetime.date(2026, 11, 30),
        final_deadline=datetime.date(2026, 11, 27),
    )
    assert run.organization_id == program.organization_id


def test_a_foreign_key_to_another_organization_is_refused(program, other_organization, organization):
    import datetime

    run = Run.objects.create(
        program=program,
        name="Summer",
        starts_on=datetime.date(2026, 6, 1),
        ends_on=datetime.date(2026, 8, 31),
        final_deadline=datetime.date(2026, 8, 28),
    )
    stranger = Participant.objects.create(organization=other_organization, name="Stranger")
    enrollment = Enrollment(organization=organization, run=run, participant=stranger)
    with pytest.raises(ValidationError) as error:
        enrollment.full_clean()
    assert "participant" in error.value.message_dict
    with pytest.raises(ValueError):
        enrollment.save()
    assert not Enrollment.objects.for_organization(organization).exists()


def test_membership_roles_compare_by_rank():
    role = Membership.Role
    assert role.OWNER > role.PROGRAM_MANAGER > role.VIEWER > role.MENTOR
