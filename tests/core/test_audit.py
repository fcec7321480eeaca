"""The audit trail: who created, changed, archived, restored or deleted what, and when."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import audit, rls, services
from core.models import AuditEvent, Membership, TenantModel
from programs.models import Program
from tests.factories.core import MembershipFactory
from tests.factories.programs import EnrollmentFactory, ProgramFactory, RunFactory


def events(obj):
    return list(audit.events_for(obj).order_by("id"))


@pytest.fixture
def acting(program_manager):
    """Act as the program manager, as a request would."""
    previous = rls.current()
    rls.activate_all_organizations(reason="test: the program manager acts", user=program_manager)
    yield program_manager
    rls._apply(previous)


def test_every_tenant_model_but_the_trail_itself_is_audited(db):
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    tenant_models = {m for m in apps.get_models() if issubclass(m, TenantModel)}
    audited = set(audit.audited_models())
    assert AuditEvent not in audited
    assert audited == {m for m in tenant_models if getattr(m, "audit_trail", True)}
    for model in audited:
        assert post_save.has_listeners(model) and post_delete.has_listeners(model), model


def test_creating_records_who_and_the_values(organization, acting):
    program = Program.objects.create(organization=organization, name="Demo Day Prep", promised_value="Ten customers")
    [event] = events(program)
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == acting
    assert event.organization_id == organization.pk
    assert event.object_repr == "Demo Day Prep"
    assert event.changes["name"] == [None, "Demo Day Prep"]


def test_changing_records_old_and_new_values_of_changed_fields_only(organization, acting):
    program = ProgramFactory(organization=organization, name="Before")
    loaded = Program.objects.for_organization(organization).get(pk=program.pk)
    loaded.name = "After"
    loaded.save()
    event = events(program)[-1]
    assert event.action == AuditEvent.Action.UPDATE
    assert event.changes == {"name": ["Before", "After"]}
    assert event.get_change_message() == "Changed name."


def test_saving_without_a_change_records_nothing(organization, acting):
    program = ProgramFactory(organization=organization)
    program.save()
    assert len(events(program)) == 1


def test_a_save_costs_no_extra_read(organization, acting):
    program = ProgramFactory(organization=organization)
    program.name = "Renamed"
    with CaptureQueriesContext(connection) as queries:
        program.save()
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert "SELECT" not in statements, statements  # the old values come from the load, not a re-read
    assert statements.count("INSERT") == 1  # the event


def test_archiving_and_restoring_are_their_own_actions(organization, acting):
    enrollment = EnrollmentFactory(organization=organization, run__program__organization=organization)
    services.record_archive(obj=enrollment, user=acting)
    services.record_restore(obj=enrollment, user=acting)
    actions = [event.action for event in events(enrollment)]
    assert actions == ["create", "archive", "restore"]


def test_deleting_records_the_last_values(organization, acting):
    program = ProgramFactory(organization=organization, name="Short-lived")
    program_id = program.pk
    program.delete()
    event = AuditEvent.objects.for_organization(organization).get(action="delete", object_id=str(program_id))
    assert event.changes["name"] == ["Short-lived", None]
    assert event.actor == acting


def test_secrets_are_recorded_as_changed_without_their_values(organization, acting):
    run = RunFactory(organization=organization, program__organization=organization)
    run.calendar_token = "a-new-secret-token"
    run.save()
    event = events(run)[-1]
    assert event.changes["calendar_token"] == [audit.REDACTED, audit.REDACTED]
    assert "a-new-secret-token" not in str(AuditEvent.objects.for_organization(organization).values_list("changes"))


def test_a_rolled_back_change_leaves_no_event(organization, acting):
    with pytest.raises(RuntimeError), transaction.atomic():
        ProgramFactory(organization=organization, name="Never happened")
        raise RuntimeError
    assert not AuditEvent.objects.for_organization(organization).filter(object_repr="Never happened").exists()


def test_tasks_and_commands_act_as_the_system(organization):
    program = ProgramFactory(organization=organization)
    assert events(program)[0].actor is None


def test_deleting_an_organization_deletes_its_trail_without_recording_more(organization):
    ProgramFactory(organization=organization)
    organization.delete()
    assert not AuditEvent.objects.dangerously_all_organizations().filter(organization_id=organization.pk).exists()


# --- In the admin ---------------------------------------------------------------------


def test_a_change_in_the_admin_is_recorded_with_its_author(owner, organization, admin_client_for):
    member = MembershipFactory(organization=organization, role=Membership.Role.VIEWER)
    url = reverse("admin:core_membership_change", args=[member.pk])
    response = admin_client_for(owner).post(url, {"role": Membership.Role.PROGRAM_MANAGER})
    assert response.status_code == 302
    event = events(member)[-1]
    assert event.actor == owner
    assert event.changes == {"role": [Membership.Role.VIEWER, Membership.Role.PROGRAM_MANAGER]}


def test_owners_and_program_managers_see_their_organizations_trail(
    program_manager, organization, other_organization, admin_client_for
):
    ours = ProgramFactory(organization=organization, name="Ours")
    theirs = ProgramFactory(organization=other_organization, name="Theirs")
    client = admin_client_for(program_manager)
    response = client.get(reverse("admin:core_auditevent_changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert {e.object_repr for e in shown} >= {"Ours"}
    assert all(e.organization_id == organization.pk for e in shown)
    their_event = events(theirs)[0]
    assert client.get(reverse("admin:core_auditevent_change", args=[their_event.pk])).status_code == 404
    our_event = events(ours)[0]
    assert client.get(reverse("admin:core_auditevent_change", args=[our_event.pk])).status_code == 200


def test_viewers_do_not_see_the_trail(viewer, admin_client_for):
    assert admin_client_for(viewer).get(reverse("admin:core_auditevent_changelist")).status_code == 403


def test_the_trail_is_read_only(owner, organization, admin_client_for):
    program = ProgramFactory(organization=organization)
    event = events(program)[0]
    client = admin_client_for(owner)
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    client.post(reverse("admin:core_auditevent_change", args=[event.pk]), {"object_repr": "Tampered"})
    assert client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.object_repr != "Tampered"


def test_an_objects_history_page_shows_its_trail(owner, organization, admin_client_for):
    member = MembershipFactory(organization=organization, role=Membership.Role.VIEWER)
    member.role = Membership.Role.PROGRAM_MANAGER
    member.save()
    response = admin_client_for(owner).get(reverse("admin:core_membership_history", args=[member.pk]))
    assert response.status_code == 200
    assert [e.action for e in response.context["action_list"]] == ["update", "create"]
    assert "Changed role." in response.content.decode()


def test_the_trail_list_makes_a_constant_number_of_queries(owner, organization, admin_client_for):
    client = admin_client_for(owner)
    ProgramFactory(organization=organization)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    for _ in range(10):
        MembershipFactory(organization=organization)
        ProgramFactory(organization=organization)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    assert len(many) == len(few)


@pytest.mark.urls("tests.core.test_rls")  # a probe endpoint of its own (see test_rls)
def test_api_writes_are_recorded_with_the_api_user(program_manager, organization, api_client_for):
    """The actor of an API request is DRF's user (token or API key), set by the API base."""
    response = api_client_for(program_manager).post(
        f"/api/v1/orgs/{organization.slug}/probe-programs/", {"name": "Made by API"}, format="json"
    )
    assert response.status_code == 201, response.content
    program = Program.objects.for_organization(organization).get(name="Made by API")
    assert events(program)[0].actor == program_manager
