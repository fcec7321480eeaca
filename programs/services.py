"""Writes of the programs app: atomic, keyword-only, validated, scoped to one organization."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import event_emit, events_subscribed
from core.signals import messages_due
from core.tenancy import require_same_organization
from programs import planning, selectors
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    MilestoneTemplate,
    Participant,
    Program,
    Run,
    Team,
    TeamMembership,
    new_calendar_token,
)

# --- helpers -----------------------------------------------------------------------------


def _save(obj, *, update_fields: list[str] | None = None):
    obj.full_clean()
    if update_fields is not None:
        obj.save(update_fields=[*update_fields, "updated_at"])
    else:
        obj.save()
    return obj


def _enrollment_payload(enrollment: Enrollment) -> dict:
    return {
        "enrollment_id": enrollment.id,
        "run_id": enrollment.run_id,
        "participant_id": enrollment.participant_id,
        "team_id": enrollment.team_id,
        "status": enrollment.status,
    }


# --- programs, runs, participants, teams -------------------------------------------------


@transaction.atomic
def program_create(*, organization, name: str, description: str = "", promised_value: str = "") -> Program:
    program = Program(organization=organization, name=name, description=description, promised_value=promised_value)
    return _save(program)


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
    return _save(template)


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
    return _save(run)


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
    return _save(participant)


@transaction.atomic
def team_create(*, organization, name: str, members: list[Participant] | tuple = ()) -> Team:
    team = _save(Team(organization=organization, name=name))
    for participant in members:
        team_member_add(organization=organization, team=team, participant=participant)
    return team


@transaction.atomic
def team_member_add(*, organization, team: Team, participant: Participant) -> TeamMembership:
    require_same_organization(organization, team=team, participant=participant)
    membership = TeamMembership.objects.for_organization(organization).filter(team=team, participant=participant)
    return membership.first() or _save(TeamMembership(organization=organization, team=team, participant=participant))


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
    _save(enrollment)
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
        _save(enrollment, update_fields=changed)
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
    _save(enrollment, update_fields=list(MATCHING_NEEDS_FIELDS))
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
    _save(enrollment, update_fields=[*changed, "last_contact_at"])
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
    return _save(assignment)


@transaction.atomic
def mentor_unassign(*, organization, assignment: MentorAssignment) -> None:
    require_same_organization(organization, assignment=assignment)
    assignment.delete()


# --- backward planning -------------------------------------------------------------------


@dataclass
class PlanPreview:
    """What planning (or moving the deadline) would do, before anything changes."""

    run: Run
    deadline: datetime.date
    rows: list[PlanRow] = field(default_factory=list)
    today: datetime.date | None = None  # the organization's today, for the "in the past" warning

    @property
    def before_start(self) -> list[PlanRow]:
        return [row for row in self.rows if row.planned.before_run_start]

    @property
    def into_past(self) -> list[PlanRow]:
        """Milestones whose new date would be before today (finished ones only if they are moved)."""
        if self.today is None:
            return []
        return [
            row
            for row in self.rows
            if row.milestone is not None and row.planned.due_on != row.old_due_on and row.planned.due_on < self.today
        ]

    @property
    def finished_rows(self) -> list[PlanRow]:
        """Finished milestones (marked completed, or done by every current enrollment)."""
        return [row for row in self.rows if row.finished]

    @property
    def changes(self) -> list[PlanRow]:
        return [row for row in self.rows if row.changes]


@dataclass
class PlanRow:
    planned: planning.PlannedDate
    milestone: Milestone | None  # None: a template without a milestone yet (will be created)
    template: MilestoneTemplate | None
    completed: bool = False  # kept where it is (a finished milestone that is not moved)
    finished: bool = False  # marked completed, or done by every current enrollment

    @property
    def old_due_on(self) -> datetime.date | None:
        return self.milestone.due_on if self.milestone else None

    @property
    def new_due_on(self) -> datetime.date:
        return self.old_due_on if self.completed else self.planned.due_on

    @property
    def changes(self) -> bool:
        return not self.completed and self.old_due_on != self.planned.due_on


def _plan_date(run: Run, deadline: datetime.date, name: str, days_before: int) -> planning.PlannedDate:
    counted = deadline - datetime.timedelta(days=days_before)
    due = planning.due_date_backwards(
        deadline,
        days_before,
        skip_non_working_days=run.skip_non_working_days,
        country=run.organization.country,
    )
    return planning.PlannedDate(
        name=name,
        days_before_deadline=days_before,
        counted_on=counted,
        due_on=due,
        before_run_start=due < run.starts_on,
    )


def run_plan_preview(*, organization, run: Run) -> PlanPreview:
    """The milestones the program's templates give this run, counted back from its deadline."""
    require_same_organization(organization, run=run)
    templates = MilestoneTemplate.objects.for_organization(organization).filter(program_id=run.program_id)
    existing = {m.template_id: m for m in selectors.milestones_for_run(organization=organization, run=run)}
    finished = _finished_milestone_ids(organization, run)
    preview = PlanPreview(run=run, deadline=run.final_deadline)
    for template in templates.order_by("-days_before_deadline", "id"):
        milestone = existing.get(template.id)
        preview.rows.append(
            PlanRow(
                planned=_plan_date(run, run.final_deadline, template.name, template.days_before_deadline),
                milestone=milestone,
                template=template,
                completed=bool(milestone and milestone.pk in finished),
            )
        )
    return preview


def _refuse_plan_before_start(preview: PlanPreview) -> None:
    early = preview.before_start
    if early:
        names = ", ".join(f"{row.planned.name} ({row.planned.due_on:%Y-%m-%d})" for row in early)
        raise ValidationError(
            {
                "final_deadline": _(
                    "The plan starts before the run does (%(start)s): %(names)s. Move the deadline, shorten the "
                    "offsets, or confirm that you accept milestones before the start."
                )
                % {"start": f"{preview.run.starts_on:%Y-%m-%d}", "names": names}
            }
        )


@transaction.atomic
def run_plan(*, organization, run: Run, accept_before_start: bool = False) -> list[Milestone]:
    """Turn the program's milestone templates into dated milestones of the run.

    Idempotent: a template that already has a milestone in the run is re-dated (unless
    that milestone is completed), not duplicated. A plan with milestones before the
    run's start is refused unless ``accept_before_start`` says the PM saw and accepted it.
    """
    preview = run_plan_preview(organization=organization, run=run)
    if not accept_before_start:
        _refuse_plan_before_start(preview)
    milestones = []
    for row in preview.rows:
        milestone = row.milestone
        if milestone is None:
            milestone = Milestone(
                organization=organization,
                run=run,
                template=row.template,
                name=row.template.name,
                deliverable=row.template.deliverable,
                days_before_deadline=row.template.days_before_deadline,
                due_on=row.planned.due_on,
            )
            _save(milestone)
        elif row.changes:
            milestone.days_before_deadline = row.template.days_before_deadline
            milestone.due_on = row.planned.due_on
            milestone.overdue_announced_at = None  # a new date may become overdue again
            _save(milestone, update_fields=["days_before_deadline", "due_on", "overdue_announced_at"])
        milestones.append(milestone)
    return milestones


def run_deadline_move_preview(
    *, organization, run: Run, new_deadline: datetime.date, move_finished: bool = False
) -> PlanPreview:
    """Old and new dates of every milestone if the final deadline moved (nothing is saved).

    Finished milestones (marked completed, or done by every current enrollment) keep
    their dates unless ``move_finished``. The preview lists the milestones that would
    land before today (``into_past``) and the finished ones (``finished_rows``), for
    the program manager's warning.
    """
    require_same_organization(organization, run=run)
    probe = Run(
        organization=organization,
        program_id=run.program_id,
        name=run.name,
        starts_on=run.starts_on,
        ends_on=run.ends_on,
        final_deadline=new_deadline,
        checkin_cadence_days=run.checkin_cadence_days,
    )
    try:
        probe.clean()
    except ValidationError as error:
        raise ValidationError({"final_deadline": error.message_dict.get("final_deadline", error.messages)})
    preview = PlanPreview(run=run, deadline=new_deadline, today=selectors.today_for(organization))
    finished = _finished_milestone_ids(organization, run)
    for milestone in selectors.milestones_for_run(organization=organization, run=run):
        preview.rows.append(
            PlanRow(
                planned=_plan_date(run, new_deadline, milestone.name, milestone.days_before_deadline),
                milestone=milestone,
                template=None,
                completed=milestone.pk in finished and not move_finished,
                finished=milestone.pk in finished,
            )
        )
    return preview


def _finished_milestone_ids(organization, run: Run) -> set[int]:
    """Milestones that stay where they are when re-planning.

    Completed means marked completed by the PM, or done by every current enrollment
    (moving a deliverable everyone has already handed in would only confuse).
    """
    counts = selectors.milestone_completion_counts(organization=organization, run=run)
    marked = set(
        Milestone.objects.for_organization(organization)
        .filter(run=run, completed_at__isnull=False)
        .values_list("id", flat=True)
    )
    return marked | {pk for pk, (done, total) in counts.items() if total and done >= total}


@transaction.atomic
def run_deadline_move(
    *,
    organization,
    run: Run,
    new_deadline: datetime.date,
    accept_before_start: bool = False,
    move_finished: bool = False,
) -> PlanPreview:
    """Move the final deadline and re-plan every milestone that is not finished yet.

    Call :func:`run_deadline_move_preview` first and show it: the PM confirms the old
    and new dates before this runs. Finished milestones move only with ``move_finished``
    (the PM's explicit choice).
    """
    preview = run_deadline_move_preview(
        organization=organization, run=run, new_deadline=new_deadline, move_finished=move_finished
    )
    if not accept_before_start:
        _refuse_plan_before_start(
            PlanPreview(run=run, deadline=new_deadline, rows=[r for r in preview.rows if not r.completed])
        )
    run.final_deadline = new_deadline
    _save(run, update_fields=["final_deadline"])
    for row in preview.changes:
        row.milestone.due_on = row.planned.due_on
        row.milestone.overdue_announced_at = None  # a new date may become overdue again
        _save(row.milestone, update_fields=["due_on", "overdue_announced_at"])
    return preview


# --- progress, check-ins, help requests --------------------------------------------------


@transaction.atomic
def milestone_progress_update(
    *,
    organization,
    enrollment: Enrollment,
    milestone: Milestone,
    status: str,
    evidence_url: str = "",
    note: str = "",
) -> MilestoneProgress:
    """Record where an enrollment stands with a milestone (one row per pair)."""
    require_same_organization(organization, enrollment=enrollment, milestone=milestone)
    if milestone.run_id != enrollment.run_id:
        raise ValidationError({"milestone": _("This milestone belongs to another run.")})
    progress = (
        MilestoneProgress.objects.for_organization(organization)
        .select_for_update()
        .filter(enrollment=enrollment, milestone=milestone)
        .first()
    ) or MilestoneProgress(organization=organization, enrollment=enrollment, milestone=milestone)
    was_done = progress.status == MilestoneProgress.Status.DONE
    progress.status = status
    progress.evidence_url = evidence_url
    progress.note = note
    _save(progress)
    _touch_contact(enrollment)
    if progress.status == MilestoneProgress.Status.DONE and not was_done:
        event_emit(
            organization=organization,
            event="milestone.completed",
            payload={
                "milestone_id": milestone.id,
                "run_id": milestone.run_id,
                "enrollment_id": enrollment.id,
                "scope": "enrollment",
            },
        )
    return progress


@transaction.atomic
def milestone_complete(*, organization, milestone: Milestone) -> Milestone:
    """Mark a milestone of the run completed: re-planning leaves it where it is."""
    require_same_organization(organization, milestone=milestone)
    if milestone.completed_at is None:
        milestone.completed_at = timezone.now()
        _save(milestone, update_fields=["completed_at"])
        event_emit(
            organization=organization,
            event="milestone.completed",
            payload={"milestone_id": milestone.id, "run_id": milestone.run_id, "enrollment_id": None, "scope": "run"},
        )
    return milestone


def milestones_overdue_announce(*, organization, today: datetime.date | None = None) -> int:
    """Emit ``milestone.overdue`` once for each milestone that passed its due date unfinished.

    Unfinished means: the PM has not marked it completed and at least one current
    enrollment has not reported it done. Each milestone is claimed with a conditional
    UPDATE, so concurrent runs (a second beat, a retried task) announce it only once.
    Returns how many milestones were announced.
    """
    today = today or selectors.today_for(organization)
    candidates = list(
        Milestone.objects.for_organization(organization)
        .filter(due_on__lt=today, completed_at__isnull=True, overdue_announced_at__isnull=True)
        .exclude(run__status=Run.Status.DRAFT)
        .order_by("due_on", "id")
    )
    if not candidates:
        return 0
    # Two reads for all candidates, not two per milestone: who is enrolled, who is done.
    enrolled_by_run = defaultdict(list)
    for run_id, enrollment_id in (
        Enrollment.objects.for_organization(organization)
        .filter(run_id__in={m.run_id for m in candidates}, archived_at__isnull=True)
        .filter(status__in=[Enrollment.Status.APPLIED, Enrollment.Status.ACTIVE])
        .order_by("id")
        .values_list("run_id", "id")
    ):
        enrolled_by_run[run_id].append(enrollment_id)
    done = set(
        MilestoneProgress.objects.for_organization(organization)
        .filter(milestone__in=candidates, status=MilestoneProgress.Status.DONE)
        .values_list("milestone_id", "enrollment_id")
    )
    # Ask once whether anyone listens; the claim is recorded either way.
    subscribed = "milestone.overdue" in events_subscribed(organization=organization, events=["milestone.overdue"])
    announced = 0
    for milestone in candidates:
        behind = [e for e in enrolled_by_run[milestone.run_id] if (milestone.id, e) not in done]
        if not behind:
            continue
        with transaction.atomic():
            claimed = (
                Milestone.objects.for_organization(organization)
                .filter(pk=milestone.pk, overdue_announced_at__isnull=True)
                .update(overdue_announced_at=timezone.now())
            )
            if not claimed:
                continue
            announced += 1
            if not subscribed:
                continue
            event_emit(
                organization=organization,
                event="milestone.overdue",
                payload={
                    "milestone_id": milestone.id,
                    "run_id": milestone.run_id,
                    "name": milestone.name,
                    "due_on": milestone.due_on.isoformat(),
                    "enrollment_ids": behind,
                },
            )
    return announced


def _plan_messages_soon(organization) -> None:
    """Ring the reminder planner after the commit: it writes the messages of the moment exactly once."""
    messages_due.send(sender=Run, organization=organization)


def _touch_contact(enrollment: Enrollment) -> None:
    enrollment.last_contact_at = timezone.now()
    enrollment.save(update_fields=["last_contact_at", "updated_at"])


@transaction.atomic
def check_in_create(
    *, organization, enrollment: Enrollment, done: str, next: str = "", blockers: str = "", confidence=None
) -> CheckIn:
    require_same_organization(organization, enrollment=enrollment)
    check_in = _save(
        CheckIn(
            organization=organization,
            enrollment=enrollment,
            done=done,
            next=next,
            blockers=blockers,
            confidence=confidence,
        )
    )
    _touch_contact(enrollment)
    event_emit(
        organization=organization,
        event="check_in.created",
        payload={
            "check_in_id": check_in.id,
            "enrollment_id": enrollment.id,
            "run_id": enrollment.run_id,
            "confidence": confidence,
            "has_blockers": bool(blockers.strip()),
        },
    )
    return check_in


@transaction.atomic
def help_request_create(
    *, organization, enrollment: Enrollment, act: str, impact: str, desired_outcome: str
) -> HelpRequest:
    """Ask the enrollment's mentors for help, in AID form."""
    require_same_organization(organization, enrollment=enrollment)
    help_request = _save(
        HelpRequest(
            organization=organization,
            enrollment=enrollment,
            act=act,
            impact=impact,
            desired_outcome=desired_outcome,
        )
    )
    _touch_contact(enrollment)
    mentors = selectors.mentors_for_enrollment(organization=organization, enrollment=enrollment)
    event_emit(
        organization=organization,
        event="help_request.created",
        payload={
            "help_request_id": help_request.id,
            "enrollment_id": enrollment.id,
            "run_id": enrollment.run_id,
            "mentor_ids": [m.id for m in mentors],
        },
    )
    _plan_messages_soon(organization)  # its mentors hear of it at once
    return help_request


@transaction.atomic
def help_request_reply(*, organization, help_request: HelpRequest, mentor, author, body: str) -> HelpRequestReply:
    """Answer a help request (as one of its mentors, or as staff with ``mentor=None``).

    The first reply records ``first_response_at`` (the time to first response is
    measured from the request's creation) and moves an open request to "answered".
    The enrollment's last contact becomes now.
    """
    require_same_organization(organization, help_request=help_request, mentor=mentor)
    if mentor is not None and not selectors.mentor_may_answer(
        organization=organization, help_request=help_request, mentor=mentor
    ):
        raise ValidationError({"mentor": _("This help request is not routed to %(mentor)s.") % {"mentor": mentor}})
    reply = _save(
        HelpRequestReply(
            organization=organization, help_request=help_request, mentor=mentor, author=author, body=body.strip()
        )
    )
    locked = HelpRequest.objects.for_organization(organization).select_for_update().get(pk=help_request.pk)
    changed = []
    if locked.first_response_at is None:
        locked.first_response_at = reply.created_at
        changed.append("first_response_at")
    if locked.status == HelpRequest.Status.OPEN:
        locked.status = HelpRequest.Status.ANSWERED
        changed.append("status")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        for name in changed:
            setattr(help_request, name, getattr(locked, name))
    _touch_contact(help_request.enrollment)
    event_emit(
        organization=organization,
        event="help_request.answered",
        payload={
            "help_request_id": help_request.id,
            "reply_id": reply.id,
            "enrollment_id": help_request.enrollment_id,
            "mentor_id": mentor.id if mentor else None,
            "first_response_at": locked.first_response_at.isoformat(),
        },
    )
    _plan_messages_soon(organization)  # the participant reads the answer in their mail
    return reply


@transaction.atomic
def help_request_resolve(*, organization, help_request: HelpRequest) -> HelpRequest:
    require_same_organization(organization, help_request=help_request)
    if help_request.status != HelpRequest.Status.RESOLVED:
        help_request.status = HelpRequest.Status.RESOLVED
        help_request.resolved_at = timezone.now()
        _save(help_request, update_fields=["status", "resolved_at"])
    return help_request
