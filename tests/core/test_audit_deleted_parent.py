"""The audit hook never fails a delete because a related row is already gone (issue #16).

Two DELETEs at once, of a milestone and of one of its progress rows: the milestone's
cascade removes the progress row first, and the progress row's own delete then writes
its trail. ``str(progress)`` names the milestone, which no longer exists; the trail
must be written anyway (it was a 500 in 6 of 15 tries).
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from core import rls
from core.models import AuditEvent
from programs.models import Milestone, MilestoneProgress
from tests.factories.programs import MilestoneFactory, MilestoneProgressFactory


@pytest.fixture
def acting(program_manager):
    previous = rls.current()
    rls.activate_all_organizations(reason="test: the program manager acts", user=program_manager)
    yield program_manager
    rls._apply(previous)


def delete_events(model, pk):
    return list(
        AuditEvent.objects.dangerously_all_organizations()
        .filter(content_type=ContentType.objects.get_for_model(model), object_id=str(pk), action="delete")
        .order_by("id")
    )


def test_deleting_a_row_whose_parent_is_already_gone_still_writes_its_trail(run, acting):
    progress = MilestoneProgressFactory(milestone=MilestoneFactory(run=run, name="Landing page"))
    # What the second request holds: the row, loaded before the milestone went (no milestone cached).
    stale = MilestoneProgress.objects.get(pk=progress.pk)
    assert not MilestoneProgress.milestone.is_cached(stale)

    Milestone.objects.get(pk=progress.milestone_id).delete()  # the first request: cascades to the progress row
    assert not MilestoneProgress.objects.filter(pk=progress.pk).exists()
    stale.delete()  # the second request: its audit hook runs after the milestone is gone

    cascaded, late = delete_events(MilestoneProgress, progress.pk)
    assert cascaded.object_repr.startswith("Landing page (D-10)")  # the milestone was still there
    assert late.actor == acting
    assert late.organization_id == run.organization_id
    assert late.object_repr == (
        f"milestone progress #{progress.pk} (enrollment #{progress.enrollment_id}, milestone #{progress.milestone_id})"
    )
    assert late.changes["milestone_id"] == [progress.milestone_id, None]


def test_a_label_that_needs_no_missing_row_is_unchanged(run, acting):
    progress = MilestoneProgressFactory(milestone=MilestoneFactory(run=run, name="Interviews"))
    MilestoneProgress.objects.get(pk=progress.pk).delete()
    [event] = delete_events(MilestoneProgress, progress.pk)
    assert event.object_repr == "Interviews (D-10) · In progress"


def test_the_api_delete_of_a_progress_row_whose_milestone_went_meanwhile_answers_204(
    run, program_manager, api_client_for, monkeypatch
):
    progress = MilestoneProgressFactory(milestone=MilestoneFactory(run=run))
    original_delete = MilestoneProgress.delete

    def milestone_deleted_meanwhile(self, *args, **kwargs):
        # Between the view's get_object() and the delete, the milestone's DELETE commits.
        Milestone.objects.for_organization(self.organization_id).filter(pk=self.milestone_id).delete()
        return original_delete(self, *args, **kwargs)

    monkeypatch.setattr(MilestoneProgress, "delete", milestone_deleted_meanwhile)
    response = api_client_for(program_manager).delete(
        f"/api/v1/orgs/{run.organization.slug}/milestone-progress/{progress.pk}/"
    )
    assert response.status_code == 204
    assert not Milestone.objects.filter(pk=progress.milestone_id).exists()
    late = delete_events(MilestoneProgress, progress.pk)[-1]
    assert late.actor == program_manager
    assert late.object_repr.startswith(f"milestone progress #{progress.pk} (")
