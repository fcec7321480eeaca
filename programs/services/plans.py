"""Backward planning: a run's milestones from its final deadline, previewed, then written; moving the deadline."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.services import validated_change, validated_save
from core.tenancy import require_same_organization
from programs import planning, selectors
from programs.models import (
    Milestone,
    MilestoneTemplate,
    Run,
)

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
            validated_save(milestone)
        elif row.changes:
            milestone.days_before_deadline = row.template.days_before_deadline
            milestone.due_on = row.planned.due_on
            milestone.overdue_announced_at = None  # a new date may become overdue again
            validated_save(milestone, update_fields=["days_before_deadline", "due_on", "overdue_announced_at"])
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
    validated_save(run, update_fields=["final_deadline"])
    for row in preview.changes:
        row.milestone.due_on = row.planned.due_on
        row.milestone.overdue_announced_at = None  # a new date may become overdue again
        validated_save(row.milestone, update_fields=["due_on", "overdue_announced_at"])
    return preview


MILESTONE_EDITABLE_FIELDS = ("template", "name", "deliverable", "days_before_deadline", "due_on")


@transaction.atomic
def milestone_create(
    *,
    organization,
    run: Run,
    name: str,
    days_before_deadline: int,
    due_on: datetime.date,
    deliverable: str = "",
    template: MilestoneTemplate | None = None,
) -> Milestone:
    """One milestone added by hand (the plan writes the others: :func:`run_plan`)."""
    require_same_organization(organization, run=run, template=template)
    milestone = Milestone(
        organization=organization,
        run=run,
        template=template,
        name=name,
        deliverable=deliverable,
        days_before_deadline=days_before_deadline,
        due_on=due_on,
    )
    return validated_save(milestone)


@transaction.atomic
def milestone_update(*, organization, milestone: Milestone, **changes) -> Milestone:
    require_same_organization(organization, milestone=milestone, template=changes.get("template"))
    if changes.get("run", milestone.run) != milestone.run:
        raise ValidationError({"run": _("A milestone stays in its run.")})
    changes.pop("run", None)
    return validated_change(milestone, changes, editable=MILESTONE_EDITABLE_FIELDS)
