"""Writes of the programs app: atomic, keyword-only, validated, scoped to one organization.

One module per sub-domain: ``cohorts`` (programs, templates, runs, participants, teams),
``enrollments`` (enrollments and mentor assignments), ``plans`` (backward planning,
deadline moves), ``activity`` (progress, check-ins, help requests). Callers import
``programs.services`` and find every write there.
"""

from programs.services.activity import (
    check_in_create,
    help_request_create,
    help_request_reply,
    help_request_resolve,
    milestone_complete,
    milestone_progress_update,
    milestones_overdue_announce,
)
from programs.services.cohorts import (
    milestone_template_create,
    participant_create,
    program_create,
    run_calendar_token_rotate,
    run_create,
    team_create,
    team_member_add,
)
from programs.services.enrollments import (
    ENROLLMENT_EDITABLE_FIELDS,
    MATCHING_NEEDS_FIELDS,
    PARTICIPANT_TEXT_MAX_LENGTH,
    enrollment_commitments_update,
    enrollment_create,
    enrollment_emit,
    enrollment_matching_needs_update,
    enrollment_update,
    mentor_assign,
    mentor_assignment_validate,
    mentor_unassign,
)
from programs.services.plans import (
    PlanPreview,
    PlanRow,
    run_deadline_move,
    run_deadline_move_preview,
    run_plan,
    run_plan_preview,
)

__all__ = [
    "check_in_create",
    "help_request_create",
    "help_request_reply",
    "help_request_resolve",
    "milestone_complete",
    "milestone_progress_update",
    "milestones_overdue_announce",
    "milestone_template_create",
    "participant_create",
    "program_create",
    "run_calendar_token_rotate",
    "run_create",
    "team_create",
    "team_member_add",
    "ENROLLMENT_EDITABLE_FIELDS",
    "MATCHING_NEEDS_FIELDS",
    "PARTICIPANT_TEXT_MAX_LENGTH",
    "enrollment_commitments_update",
    "enrollment_create",
    "enrollment_emit",
    "enrollment_matching_needs_update",
    "enrollment_update",
    "mentor_assign",
    "mentor_assignment_validate",
    "mentor_unassign",
    "PlanPreview",
    "PlanRow",
    "run_deadline_move",
    "run_deadline_move_preview",
    "run_plan",
    "run_plan_preview",
]
