"""The update services the API and the admin share: they change what may change, and nothing of another organization."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from programs import services
from programs.models import Milestone, Run
from tests.factories.programs import MilestoneFactory, ProgramFactory, RunFactory, TeamFactory


def test_run_update_changes_the_editable_fields_and_refuses_the_final_deadline(organization, run):
    services.run_update(organization=organization, run=run, name="3기", final_deadline=run.final_deadline)
    assert Run.objects.for_organization(organization).get(pk=run.pk).name == "3기"
    with pytest.raises(ValidationError) as error:
        services.run_update(
            organization=organization, run=run, final_deadline=run.final_deadline + datetime.timedelta(days=7)
        )
    assert list(error.value.message_dict) == ["final_deadline"]
    run.refresh_from_db()
    assert run.name == "3기"


def test_run_update_refuses_a_program_of_another_organization(organization, other_organization, run):
    foreign = ProgramFactory(organization=other_organization)
    with pytest.raises(ValidationError):
        services.run_update(organization=organization, run=run, program=foreign)
    run.refresh_from_db()
    assert run.program.organization == organization


def test_an_update_service_refuses_an_object_of_another_organization(organization, other_organization):
    foreign = TeamFactory(organization=other_organization, name="Theirs")
    with pytest.raises(ValidationError):
        services.team_update(organization=organization, team=foreign, name="Ours now")
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


def test_a_milestone_stays_in_its_run_and_keeps_its_fields_valid(organization, run):
    milestone = MilestoneFactory(run=run, name="Pitch deck")
    elsewhere = RunFactory(program=run.program)
    with pytest.raises(ValidationError) as error:
        services.milestone_update(organization=organization, milestone=milestone, run=elsewhere, name="Moved")
    assert list(error.value.message_dict) == ["run"]
    updated = services.milestone_update(organization=organization, milestone=milestone, run=run, name="Deck v2")
    assert Milestone.objects.for_organization(organization).get(pk=updated.pk).name == "Deck v2"
    with pytest.raises(ValidationError) as error:
        services.milestone_update(organization=organization, milestone=milestone, completed_at=None)
    assert "completed_at" in error.value.message_dict
