"""Writes of programs, milestone templates, runs (and their calendar link), participants and teams."""

from __future__ import annotations

import datetime

from django.db import transaction

from core.services import validated_change, validated_save
from core.tenancy import require_same_organization
from programs.models import (
    MilestoneTemplate,
    Participant,
    Program,
    Run,
    Team,
    TeamMembership,
    new_calendar_token,
)

# --- programs, runs, participants, teams -------------------------------------------------


@transaction.atomic
def program_create(*, organization, name: str, description: str = "", promised_value: str = "") -> Program:
    program = Program(organization=organization, name=name, description=description, promised_value=promised_value)
    return validated_save(program)


@transaction.atomic
def milestone_template_create(
    *, organization, program: Program, name: str, days_before_deadline: int, deliverable: str = ""
) -> MilestoneTemplate:
    require_same_organization(organization, program=program)
    template = MilestoneTemplate(
        organization=organization,
        program=program,
        name=name,
        deliverable=deliverable,
        days_before_deadline=days_before_deadline,
    )
    return validated_save(template)


@transaction.atomic
def run_create(
    *,
    organization,
    program: Program,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    final_deadline: datetime.date,
    status: str = Run.Status.DRAFT,
    checkin_cadence_days: int = 7,
    skip_non_working_days: bool = True,
) -> Run:
    require_same_organization(organization, program=program)
    run = Run(
        organization=organization,
        program=program,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        final_deadline=final_deadline,
        status=status,
        checkin_cadence_days=checkin_cadence_days,
        skip_non_working_days=skip_non_working_days,
    )
    return validated_save(run)


@transaction.atomic
def run_calendar_token_rotate(*, organization, run: Run) -> Run:
    """Give the run a new calendar secret: old subscription URLs stop working."""
    require_same_organization(organization, run=run)
    run.calendar_token = new_calendar_token()
    run.save(update_fields=["calendar_token", "updated_at"])
    return run


@transaction.atomic
def participant_create(*, organization, name: str, email: str = "", **fields) -> Participant:
    participant = Participant(organization=organization, name=name, email=email, **fields)
    return validated_save(participant)


@transaction.atomic
def team_create(*, organization, name: str, members: list[Participant] | tuple = ()) -> Team:
    team = validated_save(Team(organization=organization, name=name))
    for participant in members:
        team_member_add(organization=organization, team=team, participant=participant)
    return team


@transaction.atomic
def team_member_add(*, organization, team: Team, participant: Participant) -> TeamMembership:
    require_same_organization(organization, team=team, participant=participant)
    membership = TeamMembership.objects.for_organization(organization).filter(team=team, participant=participant)
    return membership.first() or validated_save(
        TeamMembership(organization=organization, team=team, participant=participant)
    )


PROGRAM_EDITABLE_FIELDS = ("name", "description", "promised_value")
MILESTONE_TEMPLATE_EDITABLE_FIELDS = ("program", "name", "deliverable", "days_before_deadline")
# The final deadline moves with run_deadline_move (it re-plans the milestones).
RUN_EDITABLE_FIELDS = (
    "program",
    "name",
    "starts_on",
    "ends_on",
    "status",
    "checkin_cadence_days",
    "skip_non_working_days",
)
PARTICIPANT_EDITABLE_FIELDS = ("name", "email", "phone", "company", "stage", "tags", "language")
TEAM_EDITABLE_FIELDS = ("name",)


@transaction.atomic
def program_update(*, organization, program: Program, **changes) -> Program:
    require_same_organization(organization, program=program)
    return validated_change(program, changes, editable=PROGRAM_EDITABLE_FIELDS)


@transaction.atomic
def milestone_template_update(*, organization, template: MilestoneTemplate, **changes) -> MilestoneTemplate:
    require_same_organization(organization, template=template, program=changes.get("program"))
    return validated_change(template, changes, editable=MILESTONE_TEMPLATE_EDITABLE_FIELDS)


@transaction.atomic
def run_update(*, organization, run: Run, **changes) -> Run:
    """Change a run; its final deadline only through :func:`run_deadline_move` (sending it unchanged is fine)."""
    require_same_organization(organization, run=run, program=changes.get("program"))
    if changes.get("final_deadline", run.final_deadline) == run.final_deadline:
        changes.pop("final_deadline", None)
    return validated_change(run, changes, editable=RUN_EDITABLE_FIELDS)


@transaction.atomic
def participant_update(*, organization, participant: Participant, **changes) -> Participant:
    require_same_organization(organization, participant=participant)
    return validated_change(participant, changes, editable=PARTICIPANT_EDITABLE_FIELDS)


@transaction.atomic
def team_update(*, organization, team: Team, **changes) -> Team:
    require_same_organization(organization, team=team)
    return validated_change(team, changes, editable=TEAM_EDITABLE_FIELDS)
