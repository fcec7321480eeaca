"""Writes of enrollments (needs, commitments, status) and mentor assignments (capacity, status of the mentor)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import event_emit
from core.services import validated_save
from core.tenancy import require_same_organization
from programs import selectors
from programs.models import (
    Enrollment,
    MentorAssignment,
    Participant,
    Run,
    Team,
)
from programs.services._common import _enrollment_payload, _plan_messages_soon

# --- enrollments and mentors -------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *,
    organization,
    run: Run,
    participant: Participant | None = None,
    team: Team | None = None,
    status: str = Enrollment.Status.ACTIVE,
    success_definition: str = "",
    commitments: str = "",
) -> Enrollment:
    require_same_organization(organization, run=run, participant=participant, team=team)
    enrollment = Enrollment(
        organization=organization,
        run=run,
        participant=participant,
        team=team,
        status=status,
        success_definition=success_definition,
        commitments=commitments,
    )
    validated_save(enrollment)
    enrollment_emit(enrollment=enrollment, created=True)
    if enrollment.status == Enrollment.Status.ACTIVE and run.status == Run.Status.ACTIVE:
        _plan_messages_soon(organization)  # the welcome, when the run has started
    return enrollment


ENROLLMENT_EDITABLE_FIELDS = ("status", "success_definition", "commitments")


@transaction.atomic
def enrollment_update(*, organization, enrollment: Enrollment, **changes) -> Enrollment:
    """Change status, definition of success or commitments (the fields a PM edits)."""
    require_same_organization(organization, enrollment=enrollment)
    unknown = set(changes) - set(ENROLLMENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"enrollment_update cannot change {sorted(unknown)}")
    changed = [name for name, value in changes.items() if getattr(enrollment, name) != value]
    for name in changed:
        setattr(enrollment, name, changes[name])
    if changed:
        validated_save(enrollment, update_fields=changed)
        enrollment_emit(enrollment=enrollment, created=False)
    return enrollment


MATCHING_NEEDS_FIELDS = ("needs", "industry", "stage", "mentor_wish")


@transaction.atomic
def enrollment_matching_needs_update(
    *,
    organization,
    enrollment: Enrollment,
    needs: list[str],
    industry: str = "",
    stage: str = "",
    mentor_wish: str = "",
) -> Enrollment:
    """What the participant (or team) wants from mentoring in this run: areas, industry, stage, in words."""
    require_same_organization(organization, enrollment=enrollment)
    enrollment.needs = list(needs)
    enrollment.industry = industry or ""
    enrollment.stage = stage or ""
    enrollment.mentor_wish = _participant_text(mentor_wish)
    validated_save(enrollment, update_fields=list(MATCHING_NEEDS_FIELDS))
    return enrollment


#: The longest definition of success or list of commitments a participant may write.
PARTICIPANT_TEXT_MAX_LENGTH = 4000


def _participant_text(value) -> str:
    """Free text from a phone: line endings made plain, trailing blanks and empty edges dropped."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").strip()


@transaction.atomic
def enrollment_commitments_update(
    *, organization, enrollment: Enrollment, success_definition: str, commitments: str
) -> Enrollment:
    """The participant rewrites their own definition of success and commitments (home page).

    Both are validated before anything is saved; an unchanged text saves nothing. A
    change is the participant's contact (``last_contact_at``), is recorded in the audit
    trail by the save itself and is announced as ``enrollment.updated``.
    """
    require_same_organization(organization, enrollment=enrollment)
    values = {
        "success_definition": _participant_text(success_definition),
        "commitments": _participant_text(commitments),
    }
    errors = {
        name: _("Keep it to %(limit)d characters or fewer (now %(length)d).")
        % {"limit": PARTICIPANT_TEXT_MAX_LENGTH, "length": len(value)}
        for name, value in values.items()
        if len(value) > PARTICIPANT_TEXT_MAX_LENGTH
    }
    if errors:
        raise ValidationError(errors)
    changed = [name for name, value in values.items() if getattr(enrollment, name) != value]
    if not changed:
        return enrollment
    for name in changed:
        setattr(enrollment, name, values[name])
    enrollment.last_contact_at = timezone.now()
    validated_save(enrollment, update_fields=[*changed, "last_contact_at"])
    enrollment_emit(enrollment=enrollment, created=False)
    return enrollment


def enrollment_emit(*, enrollment: Enrollment, created: bool) -> None:
    """Tell integrations an enrollment was created or changed (also used by admin and API)."""
    event_emit(
        organization=enrollment.organization,
        event="enrollment.created" if created else "enrollment.updated",
        payload=_enrollment_payload(enrollment),
    )


def mentor_assignment_validate(*, organization, run: Run, mentor, enrollment: Enrollment | None = None) -> None:
    """Why this assignment may not be made, as a ``ValidationError`` (nothing is saved).

    Forms call it to show a refusal as a field error; :func:`mentor_assign` calls it too.
    ``enrollment`` may be unsaved (a new enrollment in an admin form): only the capacity
    is checked then.
    """
    require_same_organization(organization, run=run, mentor=mentor, enrollment=enrollment)
    Mentor = type(mentor)  # mentors.Mentor, named by the assignment's foreign key (mentors builds on programs)
    if enrollment is not None and enrollment.run_id is not None and enrollment.run_id != run.id:
        raise ValidationError({"enrollment": _("This enrollment is not part of the run %(run)s.") % {"run": run}})
    if mentor.status in (Mentor.Status.PAUSED, Mentor.Status.ALUMNI):
        raise ValidationError(
            {
                "mentor": _("%(mentor)s is %(status)s and takes no mentees.")
                % {"mentor": mentor, "status": mentor.get_status_display()}
            }
        )
    if enrollment is None or run.status == Run.Status.FINISHED:
        return  # a run-wide assignment or a past run takes none of the mentor's capacity
    if enrollment.pk is not None and (
        MentorAssignment.objects.for_organization(organization)
        .filter(run=run, mentor=mentor, enrollment=enrollment)
        .exists()
    ):
        return  # already assigned: nothing new
    load = selectors.mentor_load(organization=organization, mentor=mentor)
    if load >= mentor.capacity:
        raise ValidationError(
            {
                "mentor": _(
                    "%(mentor)s already mentors %(load)d enrollments at once in active runs; their capacity is "
                    "%(capacity)d. Raise the capacity or assign someone else."
                )
                % {"mentor": mentor, "load": load, "capacity": mentor.capacity}
            }
        )


@transaction.atomic
def mentor_assign(*, organization, run: Run, mentor, enrollment: Enrollment | None = None) -> MentorAssignment:
    """Assign a mentor to a run, or to one enrollment in it.

    Assigning again what already exists returns the existing assignment. Refused with a
    ``ValidationError`` when a row belongs to another organization, the enrollment is
    not in the run, the mentor is paused or alumni, or an enrollment assignment would
    take the mentor beyond ``Mentor.capacity`` (enrollments at once in active runs).
    """
    require_same_organization(organization, run=run, mentor=mentor, enrollment=enrollment)
    existing = (
        MentorAssignment.objects.for_organization(organization)
        .filter(run=run, mentor=mentor, enrollment=enrollment)
        .first()
    )
    if existing is not None:
        return existing
    # Lock the mentor so that two simultaneous assignments cannot both pass the capacity check.
    type(mentor).objects.for_organization(organization).select_for_update().filter(pk=mentor.pk).first()
    mentor_assignment_validate(organization=organization, run=run, mentor=mentor, enrollment=enrollment)
    assignment = MentorAssignment(organization=organization, run=run, mentor=mentor, enrollment=enrollment)
    return validated_save(assignment)


@transaction.atomic
def mentor_unassign(*, organization, assignment: MentorAssignment) -> None:
    require_same_organization(organization, assignment=assignment)
    assignment.delete()
