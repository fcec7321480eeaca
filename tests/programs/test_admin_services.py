"""The admin writes through the same services as the API: adds, changes and inline rows, all or nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from programs.admin.people import TeamAdmin, TeamMembershipInline
from programs.admin.program import MilestoneTemplateInline, ProgramAdmin
from programs.models import MilestoneTemplate, Program, TeamMembership
from tests.factories.programs import ParticipantFactory, ProgramFactory


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def calls(monkeypatch):
    """Wrap admin service hooks so a test sees which service wrote what (the real service still runs)."""
    seen = []

    def spy(owner, hook):
        real = getattr(owner, hook)

        def recorded(**kwargs):
            seen.append((real.__name__, kwargs))
            return real(**kwargs)

        monkeypatch.setattr(owner, hook, recorded)

    return seen, spy


def _templates(*rows, initial=0):
    data = {"milestone_templates-TOTAL_FORMS": len(rows), "milestone_templates-INITIAL_FORMS": initial}
    for i, row in enumerate(rows):
        data.update({f"milestone_templates-{i}-{key}": value for key, value in row.items()})
    return data


def test_adding_a_program_with_a_template_goes_through_the_services(pm_client, organization, calls):
    seen, spy = calls
    spy(ProgramAdmin, "create_service")
    spy(MilestoneTemplateInline, "create_service")
    response = pm_client.post(
        reverse("admin:programs_program_add"),
        {
            "name": "Seed track",
            "description": "",
            "promised_value": "",
            **_templates({"name": "Pitch deck", "days_before_deadline": 14, "deliverable": ""}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    program = Program.objects.for_organization(organization).get(name="Seed track")
    template = MilestoneTemplate.objects.for_organization(organization).get(program=program)
    assert (template.name, template.days_before_deadline) == ("Pitch deck", 14)
    assert [name for name, _kwargs in seen] == ["program_create", "milestone_template_create"]
    assert seen[1][1]["program"] == program and seen[1][1]["organization"] == organization


def test_changing_a_program_sends_only_the_changed_fields_to_its_service(pm_client, organization, calls):
    seen, spy = calls
    spy(ProgramAdmin, "update_service")
    program = ProgramFactory(organization=organization, name="Seed", description="Six weeks")
    response = pm_client.post(
        reverse("admin:programs_program_change", args=[program.pk]),
        {"name": "Seed track", "description": "Six weeks", "promised_value": program.promised_value, **_templates()},
    )
    assert response.status_code == 302
    assert seen == [("program_update", {"organization": organization, "program": program, "name": "Seed track"})]
    assert Program.objects.for_organization(organization).get(pk=program.pk).name == "Seed track"


def test_a_refusal_after_the_program_was_saved_keeps_nothing_and_says_why(pm_client, organization, monkeypatch):
    program = ProgramFactory(organization=organization, name="Seed")

    def refuse(**kwargs):
        raise ValidationError("The plan is locked while the run is being imported.")

    monkeypatch.setattr(MilestoneTemplateInline, "create_service", refuse)
    url = reverse("admin:programs_program_change", args=[program.pk])
    response = pm_client.post(
        url,
        {
            "name": "Renamed",
            "description": program.description,
            "promised_value": program.promised_value,
            **_templates({"name": "Pitch deck", "days_before_deadline": 14, "deliverable": ""}),
        },
        follow=True,
    )
    assert response.redirect_chain == [(url, 302)]
    assert "The plan is locked while the run is being imported." in response.content.decode()
    assert Program.objects.for_organization(organization).get(pk=program.pk).name == "Seed"  # the main form too
    assert not MilestoneTemplate.objects.for_organization(organization).exists()


def test_a_team_member_added_inline_goes_through_team_member_add(pm_client, organization, calls):
    seen, spy = calls
    spy(TeamAdmin, "create_service")
    spy(TeamMembershipInline, "create_service")
    founder = ParticipantFactory(organization=organization)
    response = pm_client.post(
        reverse("admin:programs_team_add"),
        {
            "name": "Blue",
            "memberships-TOTAL_FORMS": 1,
            "memberships-INITIAL_FORMS": 0,
            "memberships-0-participant": founder.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [name for name, _kwargs in seen] == ["team_create", "team_member_add"]
    membership = TeamMembership.objects.for_organization(organization).get()
    assert (membership.team.name, membership.participant) == ("Blue", founder)


def test_the_admin_cannot_put_another_organizations_participant_in_a_team(pm_client, organization, other_organization):
    foreign = ParticipantFactory(organization=other_organization)
    response = pm_client.post(
        reverse("admin:programs_team_add"),
        {
            "name": "Blue",
            "memberships-TOTAL_FORMS": 1,
            "memberships-INITIAL_FORMS": 0,
            "memberships-0-participant": foreign.pk,
        },
    )
    assert response.status_code == 200  # a form error: the participant is not a choice here
    assert not TeamMembership.objects.dangerously_all_organizations().exists()


def test_an_inline_row_of_another_organization_cannot_be_posted_into_a_page(
    pm_client, organization, other_organization
):
    program = ProgramFactory(organization=organization, name="Seed")
    theirs = MilestoneTemplate.objects.dangerously_all_organizations().create(
        organization=other_organization,
        program=ProgramFactory(organization=other_organization),
        name="Theirs",
        days_before_deadline=7,
    )
    response = pm_client.post(
        reverse("admin:programs_program_change", args=[program.pk]),
        {
            "name": "Seed",
            "description": "",
            "promised_value": "",
            **_templates(
                {"id": theirs.pk, "name": "Ours now", "days_before_deadline": 7, "deliverable": ""}, initial=1
            ),
        },
    )
    assert response.status_code == 200  # a form error, not a 500 and not a save
    theirs.refresh_from_db()
    assert (theirs.name, theirs.program.organization) == ("Theirs", other_organization)
